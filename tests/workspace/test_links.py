"""cache.link = hardlink | symlink: read-only workspace files that are cache
objects, and in-place edits that are reported, never silently accepted."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from gitml.store.hashing import hash_bytes
from tests.conftest import Cli, git


def set_link(repo: Path, mode: str) -> None:
    # hardlink/symlink modes are honoured from the local config only
    (repo / ".gitml" / "config.local.toml").write_text(f'[cache]\nlink = "{mode}"\n')


@pytest.mark.parametrize("mode", ["hardlink", "symlink"])
def test_link_modes_round_trip_and_status_is_clean(repo: Path, cli: Cli, mode: str) -> None:
    set_link(repo, mode)
    (repo / "data").mkdir()
    (repo / "data" / "a.csv").write_text("a\n")
    (repo / "data" / "b.csv").write_text("b\n")
    cli("add", "data")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1", "--no-verify")
    shutil.rmtree(repo / "data")
    cli("checkout")
    assert (repo / "data" / "a.csv").read_text() == "a\n"
    if mode == "symlink":
        assert (repo / "data" / "a.csv").is_symlink()
    else:
        obj = repo / ".gitml" / "cache" / hash_bytes(b"a\n")[:2] / hash_bytes(b"a\n")[2:]
        assert os.stat(repo / "data" / "a.csv").st_ino == os.stat(obj).st_ino
    assert not os.access(repo / "data" / "a.csv", os.W_OK) or os.geteuid() == 0
    assert json.loads(cli("status", "--json").out)[0]["state"] == "clean"


def test_in_place_edit_of_hardlinked_file_is_reported(repo: Path, cli: Cli) -> None:
    set_link(repo, "hardlink")
    (repo / "model.bin").write_bytes(b"weights v1")
    cli("add", "model.bin")
    path = repo / "model.bin"
    path.chmod(0o644)
    with open(path, "r+b") as fh:  # edit the inode itself, as `sed -i`-less tools do
        fh.write(b"WEIGHTS")
    result = cli("status")
    assert "edited in place" in result.err
    fsck = cli("fsck", expect=1)
    assert "corrupt" in fsck.out
