"""gitml review: dataset statistics stored at commit time, compared without data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import Cli, git, run_gitml


def _table(
    seed: int, rows: int, shift: float = 0.0, plans: tuple[str, ...] = ("a", "b")
) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({
        "id": np.arange(rows),
        "tenure": rng.normal(40 + shift, 10, rows),
        "plan": rng.choice(list(plans), rows),
    })  # fmt: skip


def _hooked_repo(tmp_path: Path) -> Path:
    root = tmp_path / "a"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    run_gitml(root, "init", check=True)  # with hooks: every commit gets its note
    (root / "data").mkdir()
    return root


def _commit(root: Path, message: str, *paths: str) -> None:
    run_gitml(root, "add", *paths, check=True)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def test_review_from_notes_in_a_fresh_clone_without_pull(tmp_path: Path) -> None:
    a = _hooked_repo(tmp_path)
    pq.write_table(_table(1, 1000), a / "data" / "c.parquet")
    (a / "data" / "small.csv").write_text("x,y\n1,u\n2,v\n")
    (a / "data" / "same.jsonl").write_text('{"k": 1}\n')
    (a / "model.pkl").write_bytes(b"weights 1")
    _commit(a, "one", "data/c.parquet", "data/small.csv", "data/same.jsonl", "model.pkl")
    pq.write_table(_table(2, 1200, shift=15, plans=("a", "b", "c")), a / "data" / "c.parquet")
    (a / "data" / "small.csv").write_text("x,y,z\n1,u,0\n,u,1\n3,v,1\n4,w,0\n")
    (a / "model.pkl").write_bytes(b"weights 2")
    _commit(a, "two", "data/c.parquet", "data/small.csv", "model.pkl")
    note = json.loads(git(a, "notes", "--ref=gitml", "show", "HEAD"))
    assert sorted(note["datasets"]) == ["data/c.parquet", "data/same.jsonl", "data/small.csv"]
    first = json.loads(git(a, "notes", "--ref=gitml", "show", "HEAD~1"))
    assert note["datasets"]["data/same.jsonl"] == first["datasets"]["data/same.jsonl"]
    assert note["datasets"]["data/c.parquet"]["stats"]["rows"] == 1200
    # a fresh clone: git and its notes only, no gitml pull, no cache at all
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(a, "push", "-q", str(bare), "main", "refs/notes/gitml")
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(b))
    git(b, "fetch", "-q", "origin", "refs/notes/gitml:refs/notes/gitml")
    assert not (b / "data" / "c.parquet").exists() and not (b / ".gitml" / "cache").exists()
    proc = run_gitml(b, "review", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "gitml.review/1"
    assert (doc["old"]["rev"], doc["new"]["rev"]) == ("HEAD~1", "HEAD")
    assert doc["summary"] == {"changed": 2, "without_statistics": 0, "drifted_columns": 4}
    by_path = {d["path"]: d for d in doc["datasets"]}
    # same.jsonl did not change; model.pkl changed but is not a table
    assert sorted(by_path) == ["data/c.parquet", "data/small.csv"]
    c = by_path["data/c.parquet"]
    assert c["rows"] == {"old": 1000, "new": 1200, "delta": 200, "pct": 20.0}
    stats = {s["column"]: s for s in c["column_stats"]}
    assert stats["tenure"]["drift"] == "drift" and stats["tenure"]["psi"] > 0.2
    assert stats["plan"]["drift"] == "drift"
    assert stats["id"]["min"] == {"old": 0.0, "new": 0.0}
    assert stats["id"]["max"] == {"old": 999.0, "new": 1199.0}
    small = by_path["data/small.csv"]
    assert small["columns"] == {"added": ["z"], "removed": [], "retyped": []}
    assert {s["column"]: s["null_fraction"] for s in small["column_stats"]} == {
        "x": {"old": 0.0, "new": 0.25}, "y": {"old": 0.0, "new": 0.0},
    }  # fmt: skip
    assert not (b / ".gitml" / "cache").exists()  # nothing was downloaded
    md = run_gitml(b, "review", "HEAD~1", "HEAD", "--md").stdout.splitlines()
    assert md[0] == "**dataset review HEAD~1 -> HEAD: 2 changed, 4 columns drifted**"
    assert "### data/c.parquet: rows 1000 -> 1200 (+20.00%)" in md
    assert "| column | nulls | min | max | mean | top | psi |  |" in md
    assert any(line.startswith("| tenure |") and line.endswith("| DRIFT |") for line in md)
    text = run_gitml(b, "review").stdout
    assert "data/small.csv: rows 2 -> 4 (+100.00%)" in text
    assert "  columns: added z" in text


def test_commits_without_notes_say_so_and_registry_refs(repo: Path, cli: Cli) -> None:
    (repo / "gitml.yaml").write_text("artifacts:\n  c: {path: data/c.csv, type: dataset}\n")
    (repo / "data").mkdir()
    (repo / "data" / "c.csv").write_text("a\n1\n")
    cli("add", "data/c.csv")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")  # no hooks: no note
    cli("register", "c")
    (repo / "data" / "c.csv").write_text("a\n1\n2\n")
    cli("add", "data/c.csv")
    git(repo, "commit", "-q", "-m", "two")
    cli("hook", "post-commit", expect=None)  # the hook itself records HEAD's note
    cli("register", "c")
    doc = json.loads(cli("review", "c@v1", "c@latest", "--json").out)
    [d] = doc["datasets"]
    assert d["status"] == "no-statistics"
    v1 = git(repo, "rev-parse", "HEAD~1").strip()
    assert d["reason"] == f"c@v1 ({v1[:12]}) has no gitml note"
    text = cli("review", "c@v1", "c@latest").out
    assert (
        text.splitlines()[0] == "dataset review c@v1 -> c@latest: 1 changed, 1 without statistics"
    )
    assert cli("review", "cc@v1", expect=1).err.startswith(
        "error: no artifact 'cc' in the registry"
    )
    assert cli("review", "a", "b", "c", expect=2).err.startswith("error: give at most two")
    root = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    git(repo, "checkout", "-q", root)
    err = cli("review", expect=2).err
    assert err == (
        "error: HEAD has no parent commit to compare with\nhint: name the two revisions: "
        "gitml review A B\n"
    )
