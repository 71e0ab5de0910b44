"""gc keeps what any kept revision or registry tag needs; fsck names damage."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from gitml.store.hashing import hash_bytes
from tests.conftest import Cli, git


def _age_cache(repo: Path, seconds: float = 7200) -> None:
    """Make every cache object older than gc's grace period."""
    old = time.time() - seconds
    for path in (repo / ".gitml" / "cache").glob("??/*"):
        os.utime(path, (old, old))


def _age_folder(folder: Path, seconds: float = 7200) -> None:
    """Make every file of a folder remote older than gc's grace period."""
    old = time.time() - seconds
    for path in folder.rglob("*"):
        if path.is_file():
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
    cli("gc", "--yes")  # no data remote holds the orphan: gc asks first
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
    assert json.loads(cli("fsck", "--cloud", "--verify", "--json").out)["corrupt"] == {}
    oid = hash_bytes(b"a\n")
    remote_obj = next(p for p in (tmp_path / "store").rglob(oid[2:]))
    remote_obj.chmod(0o644)
    remote_obj.write_bytes(b"A\n")
    bad = cli("fsck", "--cloud", "--verify", expect=1)
    assert "data/a.csv" in bad.out
    remote_obj.unlink()
    assert "missing" in cli("fsck", "--cloud", expect=1).out
    local = repo / ".gitml" / "cache" / oid[:2] / oid[2:]
    local.chmod(0o644)
    local.write_bytes(b"X\n")
    result = cli("fsck", expect=1)
    assert "corrupt" in result.out and "data/a.csv" in result.out
    assert any((repo / ".gitml" / "cache" / "quarantine").iterdir())


def test_remote_gc_deletes_only_unneeded(repo: Path, cli: Cli, tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "--bare", "origin.git")  # remote gc reads its refs
    git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    cli("remote", "add", "origin", str(tmp_path / "store"))
    (repo / "m.bin").write_bytes(b"old")
    cli("add", "m.bin")
    cli("push")
    (repo / "m.bin").write_bytes(b"new")
    cli("add", "m.bin")
    git(repo, "commit", "-qm", "only new is committed")
    cli("push")
    # Just pushed: inside the grace period, as another clone's push would be.
    young = cli("gc", "--cloud", "--dry-run").out
    assert "would remove 0 objects from the remote" in young and "kept 1 newer" in young
    _age_folder(tmp_path / "store")
    dry = cli("gc", "--cloud", "--dry-run").out
    assert "would remove 1 objects from the remote (3 B)" in dry
    cli("gc", "--cloud", "--yes")
    assert json.loads(cli("fsck", "--cloud", "--json").out)["missing"] == {}
    store = tmp_path / "store"
    assert json.loads(cli("gc", "--cloud", "--dry-run", "--json").out)["removed"] == []
    assert any(store.rglob("*"))


def test_gc_keeps_what_a_linked_worktree_needs(
    repo: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared cache: objects only another worktree's checkout uses are kept,
    in every mode (its workspace, its index and, by default, its HEAD)."""
    shared = tmp_path / "shared-cache"
    git(repo, "commit", "-qm", "gitml config")
    other = tmp_path / "other"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(other))
    for tree in (repo, other):  # a cache outside the repository: local config only
        (tree / ".gitml" / "config.local.toml").write_text(f'[cache]\ndir = "{shared}"\n')
    (other / "m.bin").write_bytes(b"committed on feature")
    monkeypatch.chdir(other)
    cli("add", "m.bin")
    git(other, "commit", "-qm", "feature data")
    (other / "w.bin").write_bytes(b"only in the other workspace")
    cli("add", "w.bin")  # staged there, never committed
    monkeypatch.chdir(repo)
    (repo / "gone.bin").write_bytes(b"orphan")
    cli("add", "gone.bin")
    cli("rm", "gone.bin")
    old = time.time() - 7200
    for path in shared.glob("??/*"):
        os.utime(path, (old, old))
    for flags in ([], ["--workspace"]):
        result = json.loads(cli("gc", "--dry-run", "--json", *flags).out)
        assert result["removed"] == [hash_bytes(b"orphan")], flags
    cli("gc", "--workspace", "--yes")
    for kept in (b"committed on feature", b"only in the other workspace"):
        oid = hash_bytes(kept)
        assert (shared / oid[:2] / oid[2:]).exists()
