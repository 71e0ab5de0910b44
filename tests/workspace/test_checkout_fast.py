"""Checkout straight to final names: real SIGKILLs mid-file, the journal's
recovery, the thread pool, and what recovery must never touch."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
from pathlib import Path

import pytest

from gitml.errors import EXIT_CHECK_FAILED, EXIT_USAGE
from gitml.store.hashing import hash_bytes
from gitml.store.objects import ObjectStore
from gitml.workspace.materialize import recover
from tests.conftest import Cli, git, run_gitml

BIG = 3 << 20  # above the 1 MiB chunk: the streamed copy


def make_tree(root: Path, n: int = 30, *, big: bool = True) -> dict[str, bytes]:
    out = {}
    for i in range(n):
        data = f"row {i}\n".encode() * (i + 1)
        out[f"data/d{i % 3}/f{i:03}.csv"] = data
    if big:
        out["data/model.bin"] = bytes(range(256)) * (BIG // 256) + b"tail"
    for rel, data in out.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return out


def committed(repo: Path, cli: Cli, **kw: object) -> dict[str, bytes]:
    files = make_tree(repo, **kw)  # type: ignore[arg-type]
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")
    return files


def unfinished(root: Path) -> list[str]:
    """Regular files of mode 000: what a killed create leaves."""
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and stat.S_IMODE(p.lstat().st_mode) == 0
    )


def assert_tree(repo: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = repo / rel
        assert path.read_bytes() == data, rel
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, rel
    assert unfinished(repo / "data") == []
    assert list((repo / "data").rglob("*.tmp")) == []
    assert not (repo / ".gitml" / "checkout.journal").exists()


@pytest.mark.parametrize(
    ("point", "big"),
    [
        ("checkout.file-created:5", False),  # an empty file under its real name
        ("checkout.file-filled:5", False),  # every byte there, mode not yet set
        ("checkout.file-created:31", True),  # the big file is the last of 31
        ("checkout.file-filled:31", True),
    ],
)
def test_kill_mid_file_is_cleaned_up_by_the_next_checkout(
    repo: Path, cli: Cli, point: str, big: bool
) -> None:
    files = committed(repo, cli, big=big)
    shutil.rmtree(repo / "data")
    proc = run_gitml(repo, "checkout", env={"GITML_FAULT": point})
    assert proc.returncode == -signal.SIGKILL
    left = unfinished(repo / "data")
    assert len(left) == 1  # the file being written, marked as unfinished
    assert (repo / ".gitml" / "checkout.journal").exists()
    if "created" in point:  # an empty file is never taken for good data
        assert json.loads(cli("status", "--json").out)[0]["state"] != "clean"
    cli("checkout")
    assert_tree(repo, files)
    assert json.loads(cli("status", "--json").out)[0]["state"] == "clean"


def test_add_after_a_killed_checkout_refuses_to_snapshot_unfinished_files(
    repo: Path, cli: Cli
) -> None:
    """A file left mode 000 by a killed checkout is readable by root: add must
    not store it truncated. It refuses until a checkout completes the tree."""
    files = committed(repo, cli, big=False)
    pointer = (repo / "data.gitml").read_bytes()
    shutil.rmtree(repo / "data")
    proc = run_gitml(repo, "checkout", env={"GITML_FAULT": "checkout.file-created:5"})
    assert proc.returncode == -signal.SIGKILL
    refused = cli("add", "data", expect=None)
    assert refused.code == EXIT_CHECK_FAILED and "gitml checkout" in refused.err
    assert "Traceback" not in refused.err
    assert (repo / "data.gitml").read_bytes() == pointer
    cli("checkout")
    assert_tree(repo, files)
    assert "data" in cli("add", "data").out


@pytest.mark.parametrize("threads", ["1", "3"])
def test_kill_after_some_files_with_threads(repo: Path, cli: Cli, threads: str) -> None:
    files = committed(repo, cli, n=600, big=False)
    shutil.rmtree(repo / "data")
    env = {"GITML_FAULT": "checkout.file-filled:300", "GITML_CHECKOUT_THREADS": threads}
    proc = run_gitml(repo, "checkout", env=env)
    assert proc.returncode == -signal.SIGKILL
    for rel, data in files.items():
        path = repo / rel
        if path.exists() and stat.S_IMODE(path.stat().st_mode):
            assert path.read_bytes() == data  # a finished file is whole
    proc = run_gitml(repo, "checkout", env={"GITML_CHECKOUT_THREADS": threads})
    assert proc.returncode == 0, proc.stderr
    assert_tree(repo, files)


def test_recovery_leaves_alone_what_it_did_not_write(repo: Path, cli: Cli) -> None:
    committed(repo, cli, big=False)
    shutil.rmtree(repo / "data")
    proc = run_gitml(repo, "checkout", env={"GITML_FAULT": "checkout.file-created:3"})
    assert proc.returncode == -signal.SIGKILL
    (killed,) = unfinished(repo / "data")
    # Someone else's files in the same tree, both mode 000: one at a path the
    # version does not name, one at a path it names but longer than its object.
    stranger = repo / "data/d0/private.key"
    stranger.write_bytes(b"secret")
    stranger.chmod(0)
    larger = repo / "data/d1/f001.csv"
    larger.parent.mkdir(exist_ok=True)
    larger.write_bytes(b"unsaved work, longer than the committed row\n" * 4)
    larger.chmod(0)
    recover(repo, repo / ".gitml", ObjectStore(repo / ".gitml" / "cache"))
    assert not (repo / "data" / killed).exists()
    assert stranger.read_bytes() == b"secret"
    assert larger.read_bytes().startswith(b"unsaved work")
    assert not (repo / ".gitml" / "checkout.journal").exists()


def test_journal_of_an_older_gitml_still_cleans_temp_files(repo: Path, cli: Cli) -> None:
    files = committed(repo, cli, big=False)
    temp = repo / "data/d2/.f002.csv.0123456789ab.tmp"
    temp.write_bytes(b"half")
    (repo / ".gitml" / "checkout.journal").write_text("data\n")
    cli("checkout")
    assert not temp.exists()
    assert_tree(repo, files)


def test_many_files_on_threads_match_and_are_recorded(
    repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITML_CHECKOUT_THREADS", "3")
    files = committed(repo, cli, n=700)
    shutil.rmtree(repo / "data")
    cli("checkout")
    assert_tree(repo, files)
    assert json.loads(cli("status", "--json").out)[0]["state"] == "clean"


def test_corrupt_object_among_many_stops_the_pool(
    repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITML_CHECKOUT_THREADS", "3")
    files = committed(repo, cli, n=700)
    store = ObjectStore(repo / ".gitml" / "cache")
    for rel in ("data/d1/f400.csv", "data/model.bin"):
        obj = store.object_path(hash_bytes(files[rel]))
        obj.chmod(0o644)
        raw = bytearray(obj.read_bytes())
        raw[-1] ^= 0xFF
        obj.write_bytes(bytes(raw))
    shutil.rmtree(repo / "data")
    result = cli("checkout", expect=1)
    assert "corrupt" in result.err and "data.gitml" in result.err
    assert not (repo / "data/d1/f400.csv").exists()
    assert not (repo / "data/model.bin").exists()
    assert unfinished(repo / "data") == []  # the failed file was removed, not left at 000
    for path in (repo / "data").rglob("*.csv"):
        assert path.read_bytes() == files[str(path.relative_to(repo))]


def test_existing_file_is_replaced_not_written_through(
    repo: Path, cli: Cli, tmp_path: Path
) -> None:
    files = committed(repo, cli, big=False)
    (repo / "data/d1/f001.csv").write_bytes(b"edited\n")
    other = tmp_path / "other-name"
    os.link(repo / "data/d1/f001.csv", other)  # someone else's name for the same inode
    cli("checkout", "--force")
    assert other.read_bytes() == b"edited\n"
    assert_tree(repo, files)


def test_parent_swapped_for_a_file_or_symlink_is_refused(
    repo: Path, cli: Cli, tmp_path: Path
) -> None:
    committed(repo, cli, big=False)
    shutil.rmtree(repo / "data")
    (repo / "data").mkdir()
    (repo / "data" / "d0").write_bytes(b"a file where a folder goes")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, repo / "data" / "d1")
    result = cli("checkout", "--force", expect=None)
    assert result.code == EXIT_USAGE
    assert list(outside.iterdir()) == []
    assert (repo / "data" / "d0").read_bytes() == b"a file where a folder goes"
