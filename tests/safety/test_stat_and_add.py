"""Issue 11, items 4 and 9 and the stat-index medium items: edits that cannot
hide from the stat index, and an ``add`` that never records data the pointer
does not follow (a moved or conflicted pointer). Real repositories, a real
second clone, real files; the read-only index is a real read-only file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, git, run_gitml
from tests.testing.team import origin_and_first_clone


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def backdate(path: Path, seconds: float = 30) -> None:
    """Put mtime well before now: out of the racy-git window, so the stat index
    trusts the row and only ctime can tell an edit."""
    past = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(past, past))


def edit_keeping_mtime(path: Path, data: bytes) -> None:
    """A same-size in-place edit with the mtime put back (`touch -r`, rsync --inplace -t)."""
    before = os.stat(path)
    assert len(data) == before.st_size
    with open(path, "r+b") as fh:
        fh.write(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )


def pointer_oid(repo: Path, name: str = "data.gitml") -> str:
    return (repo / name).read_text().split("oid: ")[1].split()[0]


def status(cli: Cli) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(cli("status", "--json").out)[0]
    return out


def tracked_folder(repo: Path, cli: Cli) -> None:
    write(repo / "data/a.bin", b"AAAA" * 256)
    write(repo / "data/sub/b.bin", b"BBBB" * 256)
    write(repo / "data/run.sh", b"#!/bin/sh\necho hi\n")
    for path in (repo / "data").rglob("*"):
        if path.is_file():
            backdate(path)
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")


# -- item 4: ctime ------------------------------------------------------------


def test_same_size_edit_with_mtime_put_back_is_seen_by_status_add_checkout(
    repo: Path, cli: Cli
) -> None:
    tracked_folder(repo, cli)
    assert status(cli)["state"] == "clean"
    edit_keeping_mtime(repo / "data/a.bin", b"ZZZZ" * 256)

    st = status(cli)
    assert st["state"] == "modified"
    assert [(c["path"], c["change"]) for c in st["changes"]] == [("data/a.bin", "modified")]
    assert cli("status", "--exit-code", expect=1).code == 1

    refused = cli("checkout", "data", expect=1)
    assert refused.err.splitlines() == [
        "error: would overwrite unsaved changes in data/a.bin",
        "hint: gitml add them to keep them, or use --force to discard them",
    ]
    assert (repo / "data/a.bin").read_bytes() == b"ZZZZ" * 256

    added = json.loads(cli("add", "data", "--json").out)["added"][0]
    assert added["changed"] is True and added["hashed"] == 1
    git(repo, "commit", "-qm", "v2")
    (repo / "data/a.bin").unlink()
    cli("checkout", "data")
    assert (repo / "data/a.bin").read_bytes() == b"ZZZZ" * 256  # the new bytes were recorded
    assert status(cli)["state"] == "clean"


def test_same_size_edit_of_a_tracked_file_with_mtime_put_back(repo: Path, cli: Cli) -> None:
    write(repo / "model.bin", b"weights v1")
    backdate(repo / "model.bin")
    cli("add", "model.bin")
    edit_keeping_mtime(repo / "model.bin", b"weights v2")
    assert status(cli)["state"] == "modified"
    out = cli("checkout", "model.bin", expect=1)
    assert out.err.startswith("error: would overwrite unsaved changes in model.bin\n")
    assert (repo / "model.bin").read_bytes() == b"weights v2"


def test_chmod_in_a_tracked_folder_is_seen_and_checkout_restores_it(repo: Path, cli: Cli) -> None:
    """A chmod changes ctime, so the file is re-read; the row's mode says the exec
    bit changed (the content did not): the fast clean path of status sees it.
    (Copy mode: there checkout puts a mode back with a chmod.)"""
    set_local_link(repo, "copy")
    tracked_folder(repo, cli)
    script = repo / "data/run.sh"
    script.chmod(0o755)
    st = status(cli)
    assert st["state"] == "modified"
    assert [(c["path"], c["change"]) for c in st["changes"]] == [("data/run.sh", "modified")]
    assert cli("status", "--exit-code", expect=1).code == 1
    assert status(cli)["state"] == "modified"  # still, not recorded away by the first status

    cli("checkout", "data")  # same content: only the mode is put back
    assert script.stat().st_mode & 0o111 == 0
    assert status(cli)["state"] == "clean"

    script.chmod(0o755)
    before = pointer_oid(repo)
    cli("add", "data")
    assert pointer_oid(repo) != before
    assert status(cli)["state"] == "clean"


# -- hardlink mode: no false "edited in place" --------------------------------


def set_local_link(repo: Path, mode: str) -> None:
    (repo / ".gitml/config.local.toml").write_text(f'[cache]\nlink = "{mode}"\n')


def test_hardlink_add_then_status_prints_no_false_in_place_warning(repo: Path, cli: Cli) -> None:
    set_local_link(repo, "hardlink")
    for i in range(5):
        write(repo / f"data/f{i}.bin", f"file {i}\n".encode() * 50)  # fresh: racy rows
    cli("add", "data")
    for _ in range(3):
        result = cli("status")
        assert "edited in place" not in result.err
        assert "clean" in result.out

    target = repo / "data/f2.bin"
    target.chmod(0o644)
    with open(target, "r+b") as fh:  # a real in-place edit still is reported
        fh.write(b"EDIT")
    assert "data/f2.bin was edited in place while hardlinked" in cli("status").err


def test_hardlink_add_records_the_ctime_the_link_gave(repo: Path, cli: Cli) -> None:
    """Linking a file into the cache changes its ctime: add records the new one,
    so the status after it reads nothing."""
    set_local_link(repo, "hardlink")
    for i in range(5):
        write(repo / f"data/f{i}.bin", f"old file {i}\n".encode() * 50)
        backdate(repo / f"data/f{i}.bin")
    cli("add", "data")
    from gitml.context import open_repo
    from gitml.workspace.scan import observe

    ctx = open_repo(repo)
    scanned = observe(ctx, "data")
    ctx.close()
    assert (scanned.hashed, scanned.all_fresh) == (0, True)


# -- read-only stat index -----------------------------------------------------


@pytest.fixture
def read_only_index(repo: Path) -> Iterator[Path]:
    """Make .gitml/index really read-only: mode 0444, or for root (whom modes do
    not stop) the immutable attribute."""
    index = repo / ".gitml/index"
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("root without chattr: cannot make a file read-only")
        proc = subprocess.run(["chattr", "+i", str(index)], capture_output=True)
        if proc.returncode != 0:
            pytest.skip("chattr +i not permitted here")
        try:
            yield index
        finally:
            subprocess.run(["chattr", "-i", str(index)], check=True)
    else:
        index.chmod(0o444)
        try:
            yield index
        finally:
            index.chmod(0o644)


def test_read_only_index_is_a_one_line_error_before_checkout_writes(
    repo: Path, cli: Cli, request: pytest.FixtureRequest
) -> None:
    tracked_folder(repo, cli)
    (repo / "data/a.bin").unlink()
    index = request.getfixturevalue("read_only_index")
    out = cli("checkout", "data", expect=3)
    assert out.err.splitlines() == [
        f"error: the stat index {index} is read-only (attempt to write a readonly database)",
        f"hint: make it and its folder writable again (chmod u+w {index} {index.parent})",
    ]
    assert not (repo / "data/a.bin").exists()  # nothing written it could not record
    assert not (repo / ".gitml/checkout.journal").exists()
    added = cli("add", "data", expect=3)
    assert added.err.startswith(f"error: the stat index {index} is read-only")
    # Looking needs no writes: status still answers.
    assert "deleted: data/a.bin" in cli("status").out


# -- item 9: add over a pointer the workspace does not follow -----------------


def two_clones(tmp_path: Path) -> tuple[Path, Path]:
    """Clone A pushes data v1; clone B pulls it; A pushes v2 (a teammate's
    change); B runs `git pull`, whose post-merge hook cannot fetch v2's data."""
    bare, a = origin_and_first_clone(tmp_path)
    write(a / "data/a.txt", b"one\n")
    write(a / "data/b.txt", b"two\n")
    run_gitml(a, "add", "data", check=True)
    git(a, "add", "-A")
    git(a, "commit", "-qm", "v1")
    git(a, "push", "-q", "origin", "main")
    run_gitml(a, "push", check=True)

    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(bare), str(b))
    run_gitml(b, "init", check=True)
    run_gitml(b, "pull", check=True)
    assert (b / "data/a.txt").read_bytes() == b"one\n"

    write(a / "data/a.txt", b"teammate's change\n")
    run_gitml(a, "add", "data", check=True)
    git(a, "commit", "-qm", "v2")
    git(a, "push", "-q", "origin", "main")
    run_gitml(a, "push", check=True)
    proc = subprocess.run(
        ["git", "pull", "-q", "origin", "main"], cwd=b, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "data not updated" in proc.stderr  # the hook could not fetch: nothing here
    return a, b


def test_add_over_a_pointer_moved_without_its_data_is_refused(tmp_path: Path) -> None:
    _, b = two_clones(tmp_path)
    teammate_pointer = (b / "data.gitml").read_bytes()
    assert (b / "data/a.txt").read_bytes() == b"one\n"  # B still holds v1
    write(b / "data/b.txt", b"mine\n")  # B's own edit on top of the old files

    proc = run_gitml(b, "add", "data")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "error: data.gitml changed since gitml last wrote data (a git checkout or pull whose "
        "data was not fetched): adding would record the older files and revert that change",
        "hint: gitml pull data (or gitml checkout data) first, "
        "or gitml add --force data to record the workspace as it is",
    ]
    assert (b / "data.gitml").read_bytes() == teammate_pointer
    assert git(b, "diff", "--cached", "--name-only") == ""
    status = json.loads(run_gitml(b, "status", "--json", check=True).stdout)[0]
    assert status["state"] == "not-in-cache"

    # The way out the hint names: pull, then add keeps both changes.
    pulled = run_gitml(b, "pull", "--force")
    assert pulled.returncode == 0, pulled.stderr
    assert (b / "data/a.txt").read_bytes() == b"teammate's change\n"
    write(b / "data/b.txt", b"mine\n")
    run_gitml(b, "add", "data", check=True)
    (b / "data/a.txt").unlink()
    run_gitml(b, "checkout", "data", check=True)
    assert (b / "data/a.txt").read_bytes() == b"teammate's change\n"


def test_add_force_records_the_workspace_over_a_moved_pointer(tmp_path: Path) -> None:
    _, b = two_clones(tmp_path)
    before = (b / "data.gitml").read_bytes()
    run_gitml(b, "add", "--force", "data", check=True)
    assert (b / "data.gitml").read_bytes() != before
    assert git(b, "diff", "--cached", "--name-only").split() == ["data.gitml"]


def test_diff_across_a_missing_manifest_is_an_error(tmp_path: Path) -> None:
    a, _ = two_clones(tmp_path)
    c = tmp_path / "c"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(c))
    run_gitml(c, "init", "--no-hooks", check=True)
    v1 = git(a, "rev-parse", "HEAD~1:data.gitml").strip()
    v1_oid = git(a, "cat-file", "-p", v1).split("oid: ")[1].split()[0]
    proc = run_gitml(c, "diff", "HEAD~1", "HEAD")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"error: the manifest of data (HEAD~1), object {v1_oid[:12]}, is not in the cache",
        "hint: gitml pull --all-commits data",
    ]
    assert "0 modified" not in proc.stdout


# -- conflicted pointer -------------------------------------------------------


def conflicted(repo: Path, cli: Cli) -> None:
    write(repo / "data/a.txt", b"base\n")
    cli("add", "data")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "other")
    write(repo / "data/a.txt", b"theirs\n")
    cli("add", "data")
    git(repo, "commit", "-qm", "theirs")
    git(repo, "checkout", "-q", "main")
    cli("checkout", "data")
    write(repo / "data/a.txt", b"ours!\n")
    cli("add", "data")
    git(repo, "commit", "-qm", "ours")
    proc = subprocess.run(["git", "merge", "-q", "other"], cwd=repo, capture_output=True)
    assert proc.returncode == 1
    assert "\n<<<<<<< ours" in "\n" + (repo / "data.gitml").read_text()  # gitml's merge driver


CONFLICT_HINT = (
    "hint: keep one side: git checkout --ours -- data.gitml (or --theirs), "
    "git add data.gitml, then gitml checkout data"
)


def test_conflicted_pointer_gets_a_clear_error_with_a_hint(repo: Path, cli: Cli) -> None:
    conflicted(repo, cli)
    out = cli("status", expect=3)
    assert out.err.splitlines() == [
        "error: data.gitml has unresolved merge conflict markers (<<<<<<<): both sides of a merge",
        CONFLICT_HINT,
    ]
    assert cli("checkout", "data", expect=3).err.splitlines()[1] == CONFLICT_HINT


def test_add_refuses_to_resolve_a_conflicted_pointer_silently(repo: Path, cli: Cli) -> None:
    conflicted(repo, cli)
    before = (repo / "data.gitml").read_bytes()
    out = cli("add", "data", expect=1)
    assert out.err.splitlines() == [
        "error: data.gitml has unresolved merge conflict markers: adding would replace "
        "both sides with the workspace data",
        "hint: keep one side first (git checkout --ours -- data.gitml, or --theirs; "
        "git add data.gitml; gitml checkout data), or gitml add --force data to record "
        "the workspace",
    ]
    assert (repo / "data.gitml").read_bytes() == before
    assert git(repo, "ls-files", "-u", "data.gitml") != ""  # still unmerged in git

    git(repo, "checkout", "--theirs", "--", "data.gitml")  # the hinted resolution works
    git(repo, "add", "data.gitml")
    cli("checkout", "--force", "data")
    assert (repo / "data/a.txt").read_bytes() == b"theirs\n"
    assert status(cli)["state"] == "clean"


def test_add_force_over_a_conflicted_pointer_records_the_workspace(repo: Path, cli: Cli) -> None:
    conflicted(repo, cli)
    cli("add", "--force", "data")
    assert "<<<<<<<" not in (repo / "data.gitml").read_text()
    assert git(repo, "ls-files", "-u", "data.gitml") == ""
    assert status(cli)["state"] == "clean"
