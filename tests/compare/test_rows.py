"""gitml diff TABLE --rows: CSV and Parquet, with and without a key, type changes,
null cells, registry refs, and data fetched from the remote in a fresh clone."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from gitml import api
from tests.conftest import Cli, git, run_gitml

OLD_CSV = "id,plan,tenure,age\n1,basic,3,30\n2,pro,5,40\n3,team,7,\n4,basic,1,22\n"
NEW_CSV = "id,plan,tenure,age\n1,basic,3,30.5\n2,team,5,40\n4,basic,,22\n5,pro,2,33\n"


def _commit_csv(repo: Path, cli: Cli, text: str, message: str) -> None:
    (repo / "data").mkdir(exist_ok=True)
    (repo / "data" / "customers.csv").write_text(text)
    cli("add", "data/customers.csv")
    git(repo, "commit", "-q", "-m", message)


def test_csv_by_key_counts_cells_type_change_and_nulls(repo: Path, cli: Cli) -> None:
    _commit_csv(repo, cli, OLD_CSV, "one")
    _commit_csv(repo, cli, NEW_CSV, "two")
    doc = json.loads(cli("diff", "data/customers.csv", "--rows", "--key", "id", "HEAD~1",
                         "HEAD", "--json").out)  # fmt: skip
    assert doc["schema"] == "gitml.diff-rows/1"
    assert (doc["format"], doc["key"], doc["rows"]) == ("csv", ["id"], {"old": 4, "new": 4})
    assert doc["counts"] == {"added": 1, "removed": 1, "changed": 3, "unchanged": 0}
    assert doc["columns"] == {
        "added": [], "removed": [],
        "retyped": [{"column": "age", "old": "int64", "new": "double"}],
    }  # fmt: skip
    assert doc["changed_columns"] == {"plan": 1, "tenure": 1, "age": 1}
    assert doc["examples"]["added"] == [{"id": 5, "plan": "pro", "tenure": 2, "age": 33.0}]
    assert doc["examples"]["removed"] == [{"id": 3, "plan": "team", "tenure": 7, "age": None}]
    assert doc["examples"]["changed"] == [
        {"key": {"id": 1}, "cells": {"age": {"old": 30, "new": 30.5}}},
        {"key": {"id": 2}, "cells": {"plan": {"old": "pro", "new": "team"}}},
        {"key": {"id": 4}, "cells": {"tenure": {"old": 1, "new": None}}},
    ]
    text = cli("diff", "data/customers.csv", "--rows", "-k", "id", "HEAD~1", "HEAD").out
    assert text.splitlines()[:4] == [
        "data/customers.csv: HEAD~1 -> HEAD by key id",
        "rows: 4 -> 4; 1 added, 1 removed, 3 changed, 0 unchanged",
        "columns: retyped age int64 -> double",
        "changed cells: plan 1, tenure 1, age 1",
    ]
    assert "  id=4: tenure: 1 -> -" in text
    md = cli("diff", "data/customers.csv", "--rows", "-k", "id", "HEAD~1", "HEAD", "--md").out
    assert "| 2 | plan | pro | team |" in md
    assert "**added rows (1)**" in md


def test_csv_whole_rows_without_key_and_limit(repo: Path, cli: Cli) -> None:
    _commit_csv(repo, cli, "a,b\n1,x\n1,x\n2,y\n3,\n", "one")
    (repo / "data" / "customers.csv").write_text("a,b\n1,x\n2,y\n2,y\n3,\n4,z\n5,w\n")
    doc = json.loads(cli("diff", "data/customers.csv", "--rows", "--json", "--limit", "1").out)
    assert (doc["old"]["rev"], doc["new"]["rev"], doc["key"]) == ("HEAD", "workspace", None)
    # old has (1,x) twice, new once: one removed; (2,y) once -> twice: one added
    assert doc["counts"] == {"added": 3, "removed": 1, "changed": 0, "unchanged": 3}
    assert doc["examples"]["added"] == [{"a": 2, "b": "y"}]  # the first of 3, --limit 1
    assert doc["examples"]["removed"] == [{"a": 1, "b": "x"}]
    text = cli("diff", "data/customers.csv", "--rows", "--limit", "0").out
    assert text == (
        "data/customers.csv: HEAD -> workspace by whole rows\n"
        "rows: 4 -> 6; 3 added, 1 removed, 0 changed, 3 unchanged\n"
    )


def _commit_parquet(repo: Path, cli: Cli, table: pa.Table, message: str) -> None:
    (repo / "data").mkdir(exist_ok=True)
    pq.write_table(table, repo / "data" / "customers.parquet")
    cli("add", "data/customers.parquet")
    git(repo, "commit", "-q", "-m", message)


def test_parquet_type_change_nulls_nan_and_column_changes(repo: Path, cli: Cli) -> None:
    old = pa.table({
        "id": pa.array([1, 2, 3], pa.int32()),
        "score": pa.array([0.5, float("nan"), None], pa.float64()),
        "plan": pa.array(["a", "b", "c"]).dictionary_encode(),
        "gone": [1, 2, 3],
    })  # fmt: skip
    new = pa.table({
        "id": pa.array([1, 2, 3], pa.int64()),      # retyped, same values
        "score": pa.array([0.5, float("nan"), 1.0], pa.float64()),
        "plan": pa.array(["a", "b", None]),          # dictionary -> plain string
        "extra": ["x", "y", "z"],
    })  # fmt: skip
    _commit_parquet(repo, cli, old, "one")
    _commit_parquet(repo, cli, new, "two")
    result = api.diff_rows("data/customers.parquet", "HEAD~1", "HEAD", key=["id"])
    assert result.format == "parquet"
    assert result.columns == {
        "added": ["extra"], "removed": ["gone"],
        "retyped": [{"column": "id", "old": "int32", "new": "int64"},
                    {"column": "plan", "old": "dictionary<values=string, indices=int32, "
                     "ordered=0>", "new": "string"}],
    }  # fmt: skip
    # NaN equals NaN; null -> 1.0 and "c" -> null are changes
    assert result.counts == {"added": 0, "removed": 0, "changed": 1, "unchanged": 2}
    assert result.examples["changed"] == [
        {"key": {"id": 3}, "cells": {"score": {"old": None, "new": 1.0},
                                     "plan": {"old": "c", "new": None}}}
    ]  # fmt: skip
    whole = api.diff_rows("data/customers.parquet", "HEAD~1", "HEAD")
    assert whole.counts == {"added": 1, "removed": 1, "changed": 0, "unchanged": 2}
    assert whole.examples["removed"] == [{"id": 3, "score": None, "plan": "c"}]


def test_registry_refs_and_errors(repo: Path, cli: Cli) -> None:
    (repo / "gitml.yaml").write_text("artifacts:\n  customers: {path: data/customers.csv}\n")
    git(repo, "add", "gitml.yaml")
    _commit_csv(repo, cli, OLD_CSV, "one")
    cli("register", "customers")
    _commit_csv(repo, cli, NEW_CSV, "two")
    cli("register", "customers")
    cli("promote", "customers@v1", "prod")
    doc = json.loads(cli("diff", "data/customers.csv", "--rows", "-k", "id", "customers#prod",
                         "customers@latest", "--json").out)  # fmt: skip
    assert doc["old"]["rev"] == "customers#prod"
    assert doc["counts"]["added"] == 1
    err = cli("diff", "data/customers.csv", "--rows", "--key", "nope", expect=2).err
    assert err == (
        "error: key column 'nope' is not in either version\n"
        "hint: columns in both versions: id, plan, tenure, age\n"
    )
    not_unique = cli(
        "diff", "data/customers.csv", "--rows", "--key", "plan", "HEAD~1", "HEAD", expect=2
    )
    assert not_unique.err.startswith(
        "error: the key plan is not unique in the old version (1 values"
    )
    assert cli("diff", "--rows", expect=2).err.startswith("error: --rows takes a table")
    assert cli("diff", "--key", "id", expect=2).err.startswith("error: --key needs --rows")
    err = cli("diff", "data/other.csv", "--rows", "HEAD", "HEAD", expect=2).err
    assert err.startswith("error: data/other.csv is not in HEAD\n")


def test_fresh_clone_fetches_the_objects_it_compares(tmp_path: Path) -> None:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    a = tmp_path / "a"
    a.mkdir()
    git(a, "init", "-q", "-b", "main")
    run_gitml(a, "init", "--no-hooks", check=True)
    run_gitml(a, "remote", "add", "origin", str(tmp_path / "store"), check=True)
    git(a, "remote", "add", "origin", str(bare))
    (a / "t.jsonl").write_text('{"k": 1, "v": "a"}\n{"k": 2, "v": "b"}\n')
    run_gitml(a, "add", "t.jsonl", check=True)
    git(a, "add", "-A")
    git(a, "commit", "-qm", "one")
    run_gitml(a, "push", check=True)  # push sends what the workspace uses
    (a / "t.jsonl").write_text('{"k": 1, "v": "A"}\n{"k": 3, "v": "c"}\n')
    run_gitml(a, "add", "t.jsonl", check=True)
    git(a, "commit", "-qm", "two")
    run_gitml(a, "push", check=True)
    git(a, "push", "-q", "origin", "main")
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(b))
    assert not (b / "t.jsonl").exists()  # nothing pulled
    proc = run_gitml(b, "diff", "t.jsonl", "--rows", "--key", "k", "HEAD~1", "HEAD", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["format"] == "jsonl"
    assert doc["counts"] == {"added": 1, "removed": 1, "changed": 1, "unchanged": 0}
    changed = {"key": {"k": 1}, "cells": {"v": {"old": "a", "new": "A"}}}
    assert doc["examples"]["changed"] == [changed]
    # without a remote, a missing object is a clear error
    c = tmp_path / "c"
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(c))
    (c / ".gitml" / "config.toml").write_text("")
    proc = run_gitml(c, "diff", "t.jsonl", "--rows", "HEAD~1", "HEAD")
    assert proc.returncode == 2
    notice, error = proc.stderr.splitlines()  # a fresh clone: the no-hooks notice first
    assert notice.startswith("warning: this repository has no gitml hooks")
    assert error.startswith("error: t.jsonl at HEAD~1 is not in the cache (")
    assert proc.stderr.rstrip().endswith("run gitml pull")
