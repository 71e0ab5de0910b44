"""gc keeps what any kept revision or registry tag needs; fsck names damage."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from gitml.store.hashing import hash_bytes
from tests.conftest import Cli, git


def _age_cache(repo: Path, seconds: float = 7200) -> None:
    """Make every cache object older than gc's grace period."""
    old = time.time() - seconds
    for path in (repo / ".gitml" / "cache").glob("??/*"):
        os.utime(path, (old, old))


def test_gc_keeps_history_and_tags_and_removes_orphans(repo: Path, cli: Cli) -> None:
    (repo / "m.bin").write_bytes(b"v1")
    cli("add", "m.bin")
    git(repo, "commit", "-qm", "v1")
    git(repo, "tag", "-a", "m@v1.0.0", "-m", "v1")
    (repo / "m.bin").write_bytes(b"orphan")
    cli("add", "m.bin")  # never committed: an orphan once replaced
    (repo / "m.bin").write_bytes(b"v2")
    cli("add", "m.bin")
    git(repo, "commit", "-qm", "v2")
    _age_cache(repo)
    dry = cli("gc", "--dry-run")
    assert "would remove 1 objects" in dry.out
    cli("gc")
    store = repo / ".gitml" / "cache"
    assert not (store / hash_bytes(b"orphan")[:2] / hash_bytes(b"orphan")[2:]).exists()
    for kept in (b"v1", b"v2"):
        oid = hash_bytes(kept)
        assert (store / oid[:2] / oid[2:]).exists()


def test_gc_grace_period_protects_new_objects(repo: Path, cli: Cli) -> None:
    (repo / "m.bin").write_bytes(b"fresh orphan")
    cli("add", "m.bin")
    (repo / "m.bin").write_bytes(b"v2")
    cli("add", "m.bin")
    assert "removed 0 objects" in cli("gc").out


def test_fsck_and_remote_fsck(repo: Path, cli: Cli, tmp_path: Path) -> None:
    (repo / "data").mkdir()
    (repo / "data" / "a.csv").write_text("a\n")
    (repo / "data" / "b.csv").write_text("b\n")
    cli("add", "data")
    cli("remote", "add", "origin", str(tmp_path / "store"))
    cli("push")
    assert json.loads(cli("fsck", "--remote", "--verify", "--json").out)["corrupt"] == {}
    oid = hash_bytes(b"a\n")
    remote_obj = next(p for p in (tmp_path / "store").rglob(oid[2:]))
    remote_obj.chmod(0o644)
    remote_obj.write_bytes(b"A\n")
    bad = cli("fsck", "--remote", "--verify", expect=1)
    assert "data/a.csv" in bad.out
    remote_obj.unlink()
    assert "missing" in cli("fsck", "--remote", expect=1).out
    local = repo / ".gitml" / "cache" / oid[:2] / oid[2:]
    local.chmod(0o644)
    local.write_bytes(b"X\n")
    result = cli("fsck", expect=1)
    assert "corrupt" in result.out and "data/a.csv" in result.out
    assert any((repo / ".gitml" / "cache" / "quarantine").iterdir())


def test_remote_gc_deletes_only_unneeded(repo: Path, cli: Cli, tmp_path: Path) -> None:
    cli("remote", "add", "origin", str(tmp_path / "store"))
    (repo / "m.bin").write_bytes(b"old")
    cli("add", "m.bin")
    cli("push")
    (repo / "m.bin").write_bytes(b"new")
    cli("add", "m.bin")
    git(repo, "commit", "-qm", "only new is committed")
    cli("push")
    assert "would remove 1 objects from the remote" in cli("gc", "--remote", "--dry-run").out
    cli("gc", "--remote", "--yes")
    assert json.loads(cli("fsck", "--remote", "--json").out)["missing"] == {}
