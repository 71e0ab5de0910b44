"""diff --rows through hash partitions (tables bigger than memory): forced with a
zero size threshold, the whole result must be the one the in-memory path gives."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gitml.compare import partition
from gitml.compare.rows import row_diff
from gitml.context import session
from gitml.errors import InputError
from tests.compare.test_rows import NEW_CSV, OLD_CSV
from tests.conftest import Cli, git


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the partitioned runs (to be sure which path a result came from)."""
    calls: list[int] = []
    real = partition.diff_partitioned

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[-1])
        return real(*args, **kwargs)

    monkeypatch.setattr(partition, "diff_partitioned", counted)
    yield calls


def _diff(repo: Path, path: str, key: list[str] | None, limit: int, **how: Any) -> dict[str, Any]:
    with session(repo, None, write=True) as ctx:
        return row_diff(ctx, path, "HEAD~1", "HEAD", key=key, limit=limit, **how).to_dict()


def _both(repo: Path, spied: list[int], path: str, key: list[str] | None, limit: int,
          parts: int) -> dict[str, Any]:  # fmt: skip
    """The in-memory result, after checking the partitioned one is identical."""
    whole = _diff(repo, path, key, limit)
    assert spied == []
    parted = _diff(repo, path, key, limit, in_memory_max=0, partitions=parts)
    assert spied == [parts]
    spied.clear()
    assert parted == whole
    assert not list((repo / ".gitml").glob("rows-*"))  # the scratch folder is gone
    return whole


def _commit(repo: Path, cli: Cli, name: str, write: Any, message: str) -> None:
    (repo / "data").mkdir(exist_ok=True)
    write(repo / "data" / name)
    cli("add", f"data/{name}")
    git(repo, "commit", "-q", "-m", message)


def test_csv_by_key_and_whole_rows(repo: Path, cli: Cli, spied: list[int]) -> None:
    _commit(repo, cli, "c.csv", lambda p: p.write_text(OLD_CSV), "one")
    _commit(repo, cli, "c.csv", lambda p: p.write_text(NEW_CSV), "two")
    for parts in (2, 3, 8):
        doc = _both(repo, spied, "data/c.csv", ["id"], 10, parts)
        assert doc["counts"] == {"added": 1, "removed": 1, "changed": 3, "unchanged": 0}
        assert doc["changed_columns"] == {"plan": 1, "tenure": 1, "age": 1}
        assert doc["examples"]["changed"] == [
            {"key": {"id": 1}, "cells": {"age": {"old": 30, "new": 30.5}}},
            {"key": {"id": 2}, "cells": {"plan": {"old": "pro", "new": "team"}}},
            {"key": {"id": 4}, "cells": {"tenure": {"old": 1, "new": None}}},
        ]
        doc = _both(repo, spied, "data/c.csv", None, 2, parts)
        assert doc["counts"] == {"added": 4, "removed": 4, "changed": 0, "unchanged": 0}
        assert [r["id"] for r in doc["examples"]["added"]] == [1, 2]


def test_csv_whole_rows_with_duplicates(repo: Path, cli: Cli, spied: list[int]) -> None:
    old = "a,b\n" + "1,x\n" * 5 + "2,y\n3,\n" * 4 + ",\n" * 3
    new = "a,b\n" + "2,y\n" * 6 + "1,x\n" * 2 + ",\n" * 3 + "4,z\n"
    _commit(repo, cli, "d.csv", lambda p: p.write_text(old), "one")
    _commit(repo, cli, "d.csv", lambda p: p.write_text(new), "two")
    for parts in (2, 5):
        doc = _both(repo, spied, "data/d.csv", None, 100, parts)
        # (1,x) 5 -> 2, (2,y) 4 -> 6, (3,null) 4 -> 0, (null,null) 3 -> 3, (4,z) 0 -> 1
        assert doc["counts"] == {"added": 3, "removed": 7, "changed": 0, "unchanged": 9}
        # surplus rows are the later occurrences, in file order
        assert doc["examples"]["added"] == [{"a": 2, "b": "y"}] * 2 + [{"a": 4, "b": "z"}]
        assert doc["examples"]["removed"][:3] == [{"a": 1, "b": "x"}] * 3
        doc = _both(repo, spied, "data/d.csv", None, 1, parts)
        assert doc["examples"]["removed"] == [{"a": 1, "b": "x"}]


def _tables(n: int, seed: int) -> tuple[pa.Table, pa.Table]:
    """Seeded old and new versions: retyped columns (lossless, to text, nested),
    nulls, NaN and -0.0, a dictionary column, rows removed, added, changed, reordered."""
    rng = np.random.default_rng(seed)
    ids = np.arange(n)
    score = rng.normal(size=n).round(2)
    score[rng.random(n) < 0.05] = np.nan
    score[rng.random(n) < 0.05] = -0.0
    name = np.array([f"user-{i % (n // 3 + 1)}-{'x' * (i % 7)}" for i in ids], dtype=object)
    name[rng.random(n) < 0.05] = None
    old = pa.table({
        "id": pa.array(ids, pa.int32()),
        "name": pa.array(name, pa.string()),
        "score": pa.array(score, mask=rng.random(n) < 0.05),
        "plan": pa.array(rng.choice(["basic", "pro", "team"], n)).dictionary_encode(),
        "ratio": pa.array(rng.integers(0, 4, n) / 2.0),  # -> int64: only some are whole
        "tags": pa.array([[int(i % 3)] * int(i % 3) for i in ids], pa.list_(pa.int32())),
        "gone": pa.array(ids),
    })  # fmt: skip
    keep = rng.random(n) >= 0.1
    changed = rng.random(n) < 0.1
    new_score = np.where(changed, score + 1, score)
    new_score[rng.random(n) < 0.02] = 0.0  # some -0.0 -> 0.0
    new = pa.table({
        "id": pa.array(ids, pa.int64()),
        "name": pa.array(np.where(rng.random(n) < 0.05, "renamed", name), pa.string()),
        "score": pa.array(new_score, mask=rng.random(n) < 0.05),
        "plan": pa.array(rng.choice(["basic", "pro", "team"], n)),
        "ratio": pa.array(rng.integers(0, 2, n)),
        "tags": pa.array([[int(i % 3)] * int(i % 3) for i in ids], pa.list_(pa.int64())),
        "extra": pa.array(ids % 5),
    }).filter(pa.array(keep))  # fmt: skip
    added = new.slice(0, n // 10).set_column(0, "id", pa.array(ids[: n // 10] + n))
    new = pa.concat_tables([new, added])
    return old, new.take(pa.array(rng.permutation(new.num_rows)))


def test_parquet_types_nulls_and_order_match_the_whole_tables(
    repo: Path, cli: Cli, spied: list[int]
) -> None:
    old, new = _tables(3000, seed=7)
    _commit(repo, cli, "t.parquet", lambda p: pq.write_table(old, p, row_group_size=500), "one")
    _commit(repo, cli, "t.parquet", lambda p: pq.write_table(new, p, row_group_size=700), "two")
    doc = _both(repo, spied, "data/t.parquet", ["id"], 10**6, 7)
    counts = doc["counts"]
    assert (counts["added"], counts["removed"]) == (300, old.num_rows + 300 - new.num_rows)
    assert counts["changed"] > 100 and counts["unchanged"] > 10
    assert set(doc["changed_columns"]) == {"name", "score", "plan", "ratio"}  # not tags
    assert len(doc["examples"]["changed"]) == counts["changed"]  # every one, in old order
    for limit in (0, 1, 25):
        for parts in (2, 16):
            _both(repo, spied, "data/t.parquet", ["id"], limit, parts)
            _both(repo, spied, "data/t.parquet", None, limit, parts)
    errors = []
    for how in ({}, {"in_memory_max": 0, "partitions": 4}):
        with pytest.raises(InputError) as err:
            _diff(repo, "data/t.parquet", ["plan", "name"], 5, **how)
        errors.append(str(err.value))
    assert spied == [4]
    spied.clear()
    assert errors[0] == errors[1]  # the same count of repeated keys
    assert errors[0].startswith("the key plan, name is not unique in the old version (")
    two = _both(repo, spied, "data/t.parquet", ["ratio", "id"], 5, 4)  # composite key
    assert two["key"] == ["ratio", "id"]


def test_parquet_null_keys_and_duplicate_keys(repo: Path, cli: Cli, spied: list[int]) -> None:
    old = pa.table({"k": ["a", None, "b", "c", "c", "d"], "v": [1, 2, 3, 4, 5, 6]})
    new = pa.table({"k": [None, "a", "b", "b", "b", "e"], "v": [2, 1, 9, 3, 3, 7]})
    _commit(repo, cli, "k.parquet", lambda p: pq.write_table(old, p), "one")
    _commit(repo, cli, "k.parquet", lambda p: pq.write_table(new, p), "two")
    for how in ({}, {"in_memory_max": 0, "partitions": 3}):
        with pytest.raises(InputError) as err:
            _diff(repo, "data/k.parquet", ["k"], 10, **how)
        assert str(err.value).startswith("the key k is not unique in the old version (1 values")
        assert not list((repo / ".gitml").glob("rows-*"))
    _commit(repo, cli, "k.parquet", lambda p: pq.write_table(old.slice(0, 4), p), "three")
    _commit(repo, cli, "k.parquet", lambda p: pq.write_table(new, p), "four")
    with pytest.raises(InputError) as err:
        _diff(repo, "data/k.parquet", ["k"], 10, in_memory_max=0, partitions=3)
    assert str(err.value).startswith("the key k is not unique in the new version (1 values")
    spied.clear()
    _commit(repo, cli, "k.parquet", lambda p: pq.write_table(old.slice(0, 4), p), "five")
    six = pa.table({"k": [None, "a", "e"], "v": [2, 10, 7]})
    _commit(repo, cli, "k.parquet", lambda p: pq.write_table(six, p), "six")
    doc = _both(repo, spied, "data/k.parquet", ["k"], 10, 3)  # a null key is a value
    assert doc["counts"] == {"added": 1, "removed": 2, "changed": 1, "unchanged": 1}
    assert doc["examples"]["changed"] == [
        {"key": {"k": "a"}, "cells": {"v": {"old": 1, "new": 10}}}
    ]


def test_cli_json_through_partitions(repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch,
                                     spied: list[int]) -> None:  # fmt: skip
    _commit(repo, cli, "c.csv", lambda p: p.write_text(OLD_CSV), "one")
    _commit(repo, cli, "c.csv", lambda p: p.write_text(NEW_CSV), "two")
    argv = ("diff", "data/c.csv", "--rows", "-k", "id", "HEAD~1", "HEAD", "--json")
    whole = json.loads(cli(*argv).out)
    monkeypatch.setattr("gitml.compare.rows.IN_MEMORY_MAX", 0)
    assert json.loads(cli(*argv).out) == whole
    assert spied == [2]


PEAK = """
import json, sys
import pyarrow as pa
from gitml.compare.rows import row_diff
from gitml.context import session
how = json.loads(sys.argv[1])
with session(None, None, write=True) as ctx:
    doc = row_diff(ctx, "data/m.parquet", "HEAD~1", "HEAD", key=["id"], limit=3, **how)
print(json.dumps({"peak": pa.default_memory_pool().max_memory(), "doc": doc.to_dict()}))
"""


def test_partitioned_memory_is_a_fraction_of_the_data(repo: Path, cli: Cli) -> None:
    """Peak Arrow memory (the pool's high-water mark, in a fresh process) of a
    partitioned diff of two 1,000,000-row versions stays far below the tables'
    size (48 MB; measured ~12 MB); the in-memory path, measured the same way,
    holds more than the tables (~190 MB). Not a timing: allocations are the same
    on every run (one thread reads, no read-ahead)."""
    n = 1_000_000
    rng = np.random.default_rng(3)
    old = pa.table({"id": np.arange(n), "v": rng.integers(0, 1000, n), "s": rng.random(n)})
    new = old.set_column(1, "v", pa.array(np.where(rng.random(n) < 0.01, -1, old["v"])))
    _commit(repo, cli, "m.parquet", lambda p: pq.write_table(old, p, row_group_size=1 << 15),
            "one")  # fmt: skip
    _commit(repo, cli, "m.parquet", lambda p: pq.write_table(new, p, row_group_size=1 << 15),
            "two")  # fmt: skip
    data = old.nbytes + new.nbytes  # 48 MB

    def peak(**how: Any) -> tuple[int, dict[str, Any]]:
        proc = subprocess.run([sys.executable, "-c", PEAK, json.dumps(how)], cwd=repo,
                              capture_output=True, text=True, check=True)  # fmt: skip
        out = json.loads(proc.stdout)
        return int(out["peak"]), out["doc"]

    whole, doc = peak()
    parted, doc2 = peak(in_memory_max=0, partitions=32)
    assert doc2 == doc
    assert doc["counts"]["changed"] == int(np.sum(new["v"].to_numpy() == -1))
    assert whole > data  # the measure sees the tables
    assert parted < data / 2.5 and parted < whole / 8, (parted, whole, data)  # ~12 MB
