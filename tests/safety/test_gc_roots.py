"""gc keeps every ref's data (issue 11 item 1 and the shared-cache part of 2).

Each test failed on the code before: gc kept only HEAD's history and tags,
remote gc used only the local clone's refs, and a shared cache was collected
from one repository's roots alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitml.store.hashing import hash_bytes
from tests.conftest import Cli, git


def _age(folder: Path, seconds: float = 7200) -> None:
    """Make every object older than gc's grace period."""
    old = time.time() - seconds
    for path in folder.rglob("*"):
        if path.is_file() and "repos" not in path.parts:
            os.utime(path, (old, old))


def _cached(cache: Path, data: bytes) -> bool:
    oid = hash_bytes(data)
    return (cache / oid[:2] / oid[2:]).exists()


def _commit_data(repo: Path, cli: Cli, name: str, data: bytes, message: str) -> None:
    (repo / name).write_bytes(data)
    cli("add", name)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def test_unpushed_local_branch_data_survives_gc(repo: Path, cli: Cli) -> None:
    _commit_data(repo, cli, "m.bin", b"main data", "main")
    git(repo, "checkout", "-q", "-b", "experiment")
    _commit_data(repo, cli, "exp.bin", b"experiment only, never pushed", "experiment")
    git(repo, "checkout", "-q", "main")
    (repo / "exp.bin").unlink()
    cache = repo / ".gitml" / "cache"
    _age(cache)
    result = json.loads(cli("gc", "--yes", "--json").out)
    assert result["removed"] == []
    assert _cached(cache, b"experiment only, never pushed") and _cached(cache, b"main data")


def test_stash_entries_keep_their_index_and_untracked_data(repo: Path, cli: Cli) -> None:
    _commit_data(repo, cli, "m.bin", b"v1", "v1")
    (repo / "m.bin").write_bytes(b"staged, then stashed")
    cli("add", "m.bin")  # the pointer is only in the index
    git(repo, "stash", "-q")
    (repo / "n.bin").write_bytes(b"untracked pointer, stashed with -u")
    cli("add", "n.bin")
    git(repo, "rm", "-q", "--cached", "n.bin.gitml")  # the pointer is an untracked file
    git(repo, "stash", "-q", "-u")
    assert not (repo / "n.bin.gitml").exists()
    for name in ("m.bin", "n.bin"):
        (repo / name).unlink(missing_ok=True)
    cache = repo / ".gitml" / "cache"
    _age(cache)
    assert json.loads(cli("gc", "--yes", "--json").out)["removed"] == []
    assert _cached(cache, b"staged, then stashed")
    assert _cached(cache, b"untracked pointer, stashed with -u")


def test_reflog_window_then_dry_run_names_paths_and_revisions(repo: Path, cli: Cli) -> None:
    _commit_data(repo, cli, "m.bin", b"v1", "v1")
    _commit_data(repo, cli, "m.bin", b"v2, dropped by reset --hard", "v2")
    dropped = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    cache = repo / ".gitml" / "cache"
    _age(cache)
    # A recent reflog entry is a root: gc.reflog_days defaults to 10 days.
    assert json.loads(cli("gc", "--dry-run", "--json").out)["removed"] == []
    (repo / ".gitml" / "config.local.toml").write_text("[gc]\nreflog_days = 0\n")
    dry = cli("gc", "--dry-run")
    oid = hash_bytes(b"v2, dropped by reset --hard")
    line = next(ln for ln in dry.out.splitlines() if ln.startswith(oid[:12]))
    assert f"m.bin at {dropped[:8]}" in line and "[on no remote]" in line
    assert "would remove 1 objects" in dry.out
    lost = json.loads(cli("gc", "--dry-run", "--json").out)["lost"]
    assert lost == [
        {"oid": oid, "size": 27, "names": [f"m.bin at {dropped[:8]}"], "on_remote": False}
    ]
    # No terminal, no --yes: a delete that loses data is refused, not done.
    refused = cli("gc", expect=1)
    assert refused.err.splitlines()[0] == (
        "error: gc would delete 1 objects that no data remote holds; refusing without confirmation"
    )
    assert refused.err.splitlines()[1].startswith("hint: gitml gc --dry-run lists them")
    assert _cached(cache, b"v2, dropped by reset --hard")
    cli("gc", "--yes")
    assert not _cached(cache, b"v2, dropped by reset --hard") and _cached(cache, b"v1")


def test_gc_refuses_when_a_worktree_cannot_be_opened(repo: Path, cli: Cli, tmp_path: Path) -> None:
    _commit_data(repo, cli, "m.bin", b"v1", "v1")
    other = tmp_path / "other"
    git(repo, "worktree", "add", "-q", "-b", "side", str(other))
    (other / ".git").write_text("gitdir: /nonexistent/worktree\n")  # broken link
    result = cli("gc", "--dry-run", expect=1)
    assert f"error: gc cannot read the worktree {other}" in result.err
    assert "hint: mount or repair it (git worktree repair)" in result.err


def _team(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A repository pushed to a bare git remote and a folder data remote, with a
    branch ``feature`` pushed there; then a clone that has only ``main``."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    a = tmp_path / "a"
    a.mkdir()
    git(a, "init", "-q")
    monkeypatch.chdir(a)
    cli("init", "--no-hooks")
    cli("remote", "add", "origin", str(tmp_path / "store"))
    _commit_data(a, cli, "m.bin", b"main data", "main")
    git(a, "remote", "add", "origin", str(origin))
    git(a, "push", "-q", "origin", "main")
    cli("push")
    git(a, "checkout", "-q", "-b", "feature")
    _commit_data(a, cli, "f.bin", b"feature data on the shared remote", "feature")
    cli("push")
    git(a, "push", "-q", "origin", "feature")
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", "--single-branch", "-b", "main", str(origin), str(b))
    monkeypatch.chdir(b)
    assert "no gitml hooks" in cli("remote", "list").err  # a fresh clone is told, once
    return a, b


def test_remote_gc_from_a_main_only_clone_keeps_origin_feature(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _a, b = _team(tmp_path, cli, monkeypatch)
    assert "feature" not in git(b, "branch", "-a")
    store = tmp_path / "store"
    _age(store)
    dry = json.loads(cli("gc", "--cloud", "--dry-run", "--json").out)
    assert dry["removed"] == []
    cli("gc", "--cloud", "--yes")
    oid = hash_bytes(b"feature data on the shared remote")
    assert (store / "objects" / oid[:2] / oid[2:]).exists()
    assert "refs/gitml/gc-remote/origin/heads/feature" in git(b, "for-each-ref")


def test_remote_gc_refuses_without_the_git_remote(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _a, b = _team(tmp_path, cli, monkeypatch)
    _age(tmp_path / "store")
    git(b, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    result = cli("gc", "--cloud", "--yes", expect=1)
    assert result.err.startswith("error: remote gc cannot see the refs on git remote 'origin'")
    git(b, "remote", "remove", "origin")
    result = cli("gc", "--cloud", "--yes", expect=1)
    assert "has no matching git remote" in result.err.splitlines()[0]
    assert result.err.splitlines()[1].startswith("hint: git remote add origin URL")
    oid = hash_bytes(b"feature data on the shared remote")
    assert (tmp_path / "store" / "objects" / oid[:2] / oid[2:]).exists()


def _repo_on(tmp_path: Path, name: str, cache: Path, cli: Cli) -> Path:
    root = tmp_path / name
    root.mkdir()
    git(root, "init", "-q")
    os.chdir(root)
    cli("init", "--no-hooks")
    (root / ".gitml" / "config.local.toml").write_text(f'[cache]\ndir = "{cache}"\n')
    return root


def test_two_repositories_sharing_a_cache_keep_each_others_objects(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shared = tmp_path / "shared-cache"
    a = _repo_on(tmp_path, "a", shared, cli)
    _commit_data(a, cli, "a.bin", b"project A", "a")
    b = _repo_on(tmp_path, "b", shared, cli)
    _commit_data(b, cli, "b.bin", b"project B", "b")
    _age(shared)
    os.chdir(a)
    result = json.loads(cli("gc", "--yes", "--json").out)
    assert result["removed"] == [] and sorted(result["repositories"]) == [str(a), str(b)]
    assert _cached(shared, b"project A") and _cached(shared, b"project B")
    assert len(list((shared / "repos").iterdir())) == 2  # one record per repository
    # A repository that used the cache is gone: refuse, until told to forget it.
    (b / ".git").rename(tmp_path / "b-git-moved")
    refused = cli("gc", "--dry-run", expect=1)
    assert "1 repositories recorded as using it cannot be opened" in refused.err
    assert str(b) in refused.err and "--forget-missing" in refused.err
    assert _cached(shared, b"project B")
    forgot = json.loads(cli("gc", "--yes", "--forget-missing", "--json").out)
    assert forgot["forgotten"] == [str(b)] and forgot["removed"] == [hash_bytes(b"project B")]
    assert _cached(shared, b"project A") and not _cached(shared, b"project B")


def _gc_on_a_terminal(repo: Path, answer: bytes) -> subprocess.CompletedProcess[bytes]:
    """``gitml gc`` with a real terminal on stdin, answering the prompt."""
    leader, follower = os.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gitml", "gc"],
            cwd=repo,
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        os.write(leader, answer)
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(follower)
        os.close(leader)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_local_gc_on_a_terminal_lists_and_asks_first(repo: Path, cli: Cli) -> None:
    _commit_data(repo, cli, "m.bin", b"v1", "v1")
    (repo / "m.bin").write_bytes(b"added, never committed")
    cli("add", "m.bin")
    git(repo, "checkout", "-q", "HEAD", "--", "m.bin.gitml")
    cache = repo / ".gitml" / "cache"
    _age(cache)
    oid = hash_bytes(b"added, never committed")
    declined = _gc_on_a_terminal(repo, b"n\n")
    assert declined.returncode == 1 and _cached(cache, b"added, never committed")
    text = declined.stdout.decode()
    assert f"{oid[:12]}  22 B  [on no remote]  named by no commit gitml can see" in text
    assert "delete these 1 objects that no data remote holds" in text
    accepted = _gc_on_a_terminal(repo, b"y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "removed 1 objects" in accepted.stdout.decode()
    assert not _cached(cache, b"added, never committed") and _cached(cache, b"v1")
