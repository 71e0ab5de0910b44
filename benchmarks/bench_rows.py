"""Issue 13's rows: the row diff of two 10-million-row Parquet versions next to
a plain pyarrow join of the same files, and ``gitml review`` on a history of
100,000 files and 10 datasets.

Row diff: two seeded versions of one table (``id`` int64 key, ``plan`` text of
5 values, ``city`` text of 1,000 values, ``tenure`` int32, ``score`` float64,
``active`` bool), the second with 1 % of the rows removed, 1 % added and 1 %
changed (score or plan). Measured, each as one child process (start-up
included, peak RSS): ``gitml diff t.parquet --rows --key id HEAD~1 HEAD
--json`` (checked against the known counts) and a Python script that reads
both files with ``pq.read_table`` and runs ``Table.join(keys="id",
join_type="full outer")``. Targets: gitml within 2x of the join, peak under
1 GB.

Review: 100,000 small files tracked as one folder plus 10 Parquet tables
(gitml's hooks installed, so each commit's note holds the tables'
statistics); the second commit changes every table and one file. The data
and the cache are moved away before ``gitml review HEAD~1 HEAD --json`` is
timed: it must not need them (target under 1 s, 10 datasets compared).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench_proc import Sample, measure

ROWS = 10_000_000
CHANGE = 0.01  # share of rows removed, added and changed
SEED_ROWS = 13
TABLES = 10
FILES = 100_000

JOIN = """
import sys, time
import pyarrow.parquet as pq
old, new = pq.read_table(sys.argv[1]), pq.read_table(sys.argv[2])
joined = old.join(new, keys="id", join_type="full outer", right_suffix="_new")
print(joined.num_rows)
"""


def write_versions(folder: Path, rows: int, seed: int) -> tuple[Path, Path, dict[str, int]]:
    """Two seeded Parquet versions (default writer settings: 1 Mi-row row
    groups, snappy); returns their paths and the counts a diff must find."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    plans = np.array(["basic", "pro", "team", "enterprise", "trial"])
    cities = np.array([f"city-{i:04d}" for i in range(1000)])

    def table(ids: Any) -> Any:
        n = len(ids)
        return pa.table({
            "id": pa.array(ids, pa.int64()),
            "plan": pa.array(plans[rng.integers(0, len(plans), n)]),
            "city": pa.array(cities[rng.integers(0, len(cities), n)]),
            "tenure": pa.array(rng.integers(0, 120, n, dtype=np.int32)),
            "score": pa.array(rng.random(n).round(4)),
            "active": pa.array(rng.random(n) < 0.8),
        })  # fmt: skip

    old = table(np.arange(rows, dtype=np.int64))
    k = max(1, int(rows * CHANGE))
    picked = rng.permutation(rows)
    removed, changed = np.sort(picked[:k]), np.sort(picked[k : 2 * k])
    keep = np.ones(rows, dtype=bool)
    keep[removed] = False
    score = old.column("score").to_numpy().copy()
    score[changed] += 1.0
    new = old.set_column(4, "score", pa.array(score)).filter(pa.array(keep))
    new = pa.concat_tables([new, table(np.arange(rows, rows + k, dtype=np.int64))])
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "old.parquet", folder / "new.parquet"
    pq.write_table(old, paths[0])
    pq.write_table(new, paths[1])
    expected = {"added": k, "removed": k, "changed": k, "unchanged": rows - 2 * k}
    return paths[0], paths[1], expected


def _run(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> None:
    subprocess.run(list(argv), cwd=cwd, env=dict(env), check=True, capture_output=True)


def _repo(gitml: Sequence[str], path: Path, env: Mapping[str, str], *, hooks: bool) -> None:
    path.mkdir(parents=True)
    _run(["git", "init", "-q"], path, env)
    _run([*gitml, "init", *([] if hooks else ["--no-hooks"])], path, env)
    _run([*gitml, "config", "set", "--local", "cache.link", "copy"], path, env)


def _commit(gitml: Sequence[str], repo: Path, env: Mapping[str, str], *paths: str) -> None:
    _run([*gitml, "add", *paths], repo, env)
    _run(["git", "add", "-A"], repo, env)
    _run(["git", "commit", "-q", "-m", "version"], repo, env)


def _secs(s: Sample) -> str:
    return f"{s.seconds:.2f}" if s.ok and s.seconds is not None else f"error ({s.error})"


def _mib(s: Sample) -> str:
    return f"{(s.peak_kib or 0) / 1024:.0f}"


def run_rows(
    gitml: Sequence[str],
    workdir: Path,
    scale: float,
    seed: int,
    env: Mapping[str, str],
    timeout: float,
    logs: Path,
) -> list[str]:
    """The row diff section's lines."""
    rows = max(10_000, int(ROWS * scale))
    root = workdir / "runs" / "rows"
    shutil.rmtree(root, ignore_errors=True)
    old, new, expected = write_versions(root / "source", rows, seed + SEED_ROWS)
    size = old.stat().st_size + new.stat().st_size
    repo = root / "repo"
    _repo(gitml, repo, env, hooks=False)
    table = repo / "t.parquet"
    for version in (old, new):
        shutil.copyfile(version, table)
        _commit(gitml, repo, env, "t.parquet")
    diff = measure(
        [*gitml, "diff", "t.parquet", "--rows", "--key", "id", "HEAD~1", "HEAD", "--json"],
        cwd=repo,
        env=env,
        timeout=timeout,
        log_prefix=logs / "rows-diff",
    )
    if diff.ok:
        out = (logs / "rows-diff.out").read_text()
        counts = json.loads(out)["counts"]
        if counts != expected:
            diff = Sample(None, diff.peak_kib, f"wrong counts {counts}, expected {expected}")
    join = measure(
        [sys.executable, "-c", JOIN, str(old), str(new)],
        cwd=root,
        env=env,
        timeout=timeout,
        log_prefix=logs / "rows-join",
    )
    ratio = (
        f"{diff.seconds / join.seconds:.2f}"
        if diff.ok and join.ok and diff.seconds and join.seconds
        else "n/a"
    )
    shutil.rmtree(root, ignore_errors=True)
    return [
        f"## Row diff (issue 13: {rows:,} rows per version, Parquet "
        f"{size / 2**20:.0f} MiB for both; 1 % removed, added, changed)",
        "",
        "| step | seconds | peak MiB |",
        "|---|---|---|",
        f"| gitml diff --rows --key id | {_secs(diff)} | {_mib(diff)} |",
        f"| pyarrow read + full outer join | {_secs(join)} | {_mib(join)} |",
        "",
        f"- gitml / join: {ratio} (target <= 2); peak target < 1024 MiB",
        "",
    ]


def _write_files(folder: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    per = 1000
    for d in range((count + per - 1) // per):
        sub = folder / f"d{d:03d}"
        sub.mkdir(parents=True)
        for i in range(min(per, count - d * per)):
            (sub / f"f{i:04d}.bin").write_bytes(rng.randbytes(64))


def _write_tables(folder: Path, rows: int, seed: int, version: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    for t in range(TABLES):
        rng = np.random.default_rng(seed * 1000 + t * 10 + version)
        pq.write_table(
            pa.table({
                "id": np.arange(rows),
                "x": rng.normal(version * 0.1, 1, rows),
                "n": rng.integers(0, 100, rows),
                "c": rng.choice(["a", "b", "c", "d"], rows),
            }),
            folder / f"t{t}.parquet",
        )  # fmt: skip


def run_review(
    gitml: Sequence[str],
    workdir: Path,
    scale: float,
    seed: int,
    env: Mapping[str, str],
    timeout: float,
    logs: Path,
) -> list[str]:
    """The review section's lines."""
    files = max(1000, int(FILES * scale))
    rows = max(1000, int(100_000 * scale))
    root = workdir / "runs" / "review"
    shutil.rmtree(root, ignore_errors=True)
    repo = root / "repo"
    _repo(gitml, repo, env, hooks=True)
    _write_files(repo / "files", files, seed)
    _write_tables(repo / "tables", rows, seed, 1)
    tables = [f"tables/t{t}.parquet" for t in range(TABLES)]
    _commit(gitml, repo, env, "files", *tables)
    _write_tables(repo / "tables", rows, seed, 2)
    (repo / "files" / "d000" / "f0000.bin").write_bytes(b"changed")
    _commit(gitml, repo, env, "files", *tables)
    away = root / "away"
    away.mkdir()
    for name in ("files", "tables", ".gitml/cache"):
        if (repo / name).exists():
            (repo / name).rename(away / name.replace("/", "-"))
    review = measure(
        [*gitml, "review", "HEAD~1", "HEAD", "--json"],
        cwd=repo,
        env=env,
        timeout=timeout,
        log_prefix=logs / "review",
    )
    if review.ok:
        doc = json.loads((logs / "review.out").read_text())
        compared = [d["path"] for d in doc["datasets"] if d["status"] == "compared"]
        if len(compared) != TABLES:
            review = Sample(None, review.peak_kib, f"{len(compared)} datasets compared")
    subprocess.Popen(["rm", "-rf", "--", str(root)], start_new_session=True)
    return [
        f"## Dataset review (issue 13: {files:,} files and {TABLES} tables of {rows:,} rows "
        "tracked; both commits changed every table)",
        "",
        "| step | seconds | peak MiB |",
        "|---|---|---|",
        f"| gitml review HEAD~1 HEAD (data and cache moved away) | {_secs(review)} | "
        f"{_mib(review)} |",
        "",
        "- target: under 1 s, no data read",
        "",
    ]


if __name__ == "__main__":  # probe: python bench_rows.py FOLDER ROWS
    write_versions(Path(sys.argv[1]), int(sys.argv[2]), SEED_ROWS)
    print(os.listdir(sys.argv[1]))
