"""The workspace scan behind status and add: what it reads and what it records."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from gitml.errors import EXIT_USAGE
from tests.conftest import Cli


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def backdate(path: Path, seconds: float = 10) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_touched_file_in_nested_tracked_dir_is_refreshed_once(repo: Path, cli: Cli) -> None:
    """A file re-read with unchanged content gets its new stat recorded, also in a
    tracked folder below the top level (its row key has more than one '/')."""
    for name in ("a.bin", "deep/b.bin"):
        write(repo / "models/sub" / name, name.encode() * 100)
        backdate(repo / "models/sub" / name, 20)
    cli("add", "models/sub")
    target = repo / "models/sub/deep/b.bin"
    backdate(target)  # new mtime, same content, past the racy window
    first = json.loads(cli("status", "--json").out)[0]
    assert first["state"] == "clean"
    from gitml.context import open_repo
    from gitml.workspace.scan import observe

    again = observe(open_repo(repo), "models/sub")
    assert again.hashed == 0 and again.all_fresh


def test_add_restores_objects_removed_from_the_cache(repo: Path, cli: Cli) -> None:
    """Files vouched for by the stat index are re-stored if their object vanished."""
    for i in range(30):
        write(repo / f"data/f{i:02}.txt", f"file {i}\n".encode())
        backdate(repo / f"data/f{i:02}.txt")
    out = json.loads(cli("add", "data", "--json").out)["added"][0]
    cache = repo / ".gitml/cache"
    removed = 0
    for obj in cache.glob("??/*"):
        if obj.stat().st_size == len(b"file 7\n"):
            obj.chmod(0o644)
            obj.unlink()
            removed += 1
    assert removed
    again = json.loads(cli("add", "data", "--json").out)["added"][0]
    assert again["hashed"] == 0 and again["oid"] == out["oid"]
    assert json.loads(cli("status", "--json").out)[0]["state"] == "clean"
    cli("fsck")


def test_unsafe_new_name_is_refused_but_known_names_pass(repo: Path, cli: Cli) -> None:
    write(repo / "data/ok.txt", b"ok")
    cli("add", "data")
    write(repo / "data/.GIT", b"sneaky")
    result = cli("add", "data", expect=None)
    assert result.code == EXIT_USAGE and ".git" in result.err
    assert "Traceback" not in result.err
