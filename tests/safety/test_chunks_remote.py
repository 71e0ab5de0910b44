"""Chunked files on a folder remote from the command line: gc, fsck, du (issue 14)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from gitml.store import chunks
from gitml.store.hashing import hash_bytes
from tests.conftest import Cli, git
from tests.safety.test_chunks_safety import MIB, _cache, _entry, _rand, chunked_repo

__all__ = ["chunked_repo"]


def _age(folder: Path, seconds: float = 7200) -> None:
    old = time.time() - seconds
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))


def _chunk_oids(repo: Path, data: bytes) -> list[str]:
    listed = _entry(repo, data)
    assert listed is not None
    raw = (_cache(repo) / listed[:2] / listed[2:]).read_bytes()
    return [oid for oid, _n in chunks.decode(raw, source="t").chunks]


def _loose(remote: Path, oid: str) -> Path:
    return remote / "objects" / oid[:2] / oid[2:]


def _with_remote(repo: Path, cli: Cli, tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "--bare", "origin.git")  # remote gc reads its refs
    git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    remote = tmp_path / "store"
    cli("remote", "add", "origin", str(remote))
    return remote


def test_remote_gc_keeps_every_chunk_a_kept_version_needs(
    chunked_repo: Path, cli: Cli, tmp_path: Path
) -> None:
    remote = _with_remote(chunked_repo, cli, tmp_path)
    v1 = bytearray(_rand(4 * MIB, 20))
    (chunked_repo / "d.bin").write_bytes(v1)
    cli("add", "d.bin")
    cli("push")  # v1 pushed, never committed: unneeded once replaced
    v2 = bytearray(v1)
    v2[2 * MIB : 3 * MIB] = _rand(MIB, 21)
    (chunked_repo / "d.bin").write_bytes(v2)
    cli("add", "d.bin")
    git(chunked_repo, "add", "-A")
    git(chunked_repo, "commit", "-qm", "v2")
    cli("push")
    old, new = hash_bytes(bytes(v1)), hash_bytes(bytes(v2))
    assert (remote / "chunked" / old).exists() and (remote / "chunked" / new).exists()

    young = json.loads(cli("gc", "--cloud", "--dry-run", "--json").out)
    assert young["removed"] == [] and young["kept_recent"] >= 1  # inside the grace period
    _age(remote)
    before = {p.name for p in remote.rglob("*") if p.is_file()}
    result = json.loads(cli("gc", "--cloud", "--yes", "--json").out)
    assert result["removed"] == [old]  # the file is what is lost, not its chunks
    assert MIB // 2 <= result["bytes"] <= 3 * MIB  # only what v1 did not share with v2
    assert not (remote / "chunked" / old).exists() and (remote / "chunked" / new).exists()
    after = {p.name for p in remote.rglob("*") if p.is_file()}
    assert after < before
    v1_only = set(_chunk_oids(chunked_repo, bytes(v1))) - set(_chunk_oids(chunked_repo, bytes(v2)))
    assert v1_only and not any(_loose(remote, c).exists() for c in v1_only)
    assert all(_loose(remote, c).exists() for c in _chunk_oids(chunked_repo, bytes(v2)))
    check = json.loads(cli("fsck", "--cloud", "--verify", "--json").out)
    assert check["missing"] == {} and check["corrupt"] == {}, check
    assert json.loads(cli("gc", "--cloud", "--dry-run", "--json").out)["removed"] == []

    cache = _cache(chunked_repo)  # a fresh cache pulls v2 from what gc left
    shutil.rmtree(cache)
    (chunked_repo / "d.bin").unlink()
    cli("pull")
    assert (chunked_repo / "d.bin").read_bytes() == bytes(v2)


def test_remote_fsck_names_a_missing_and_a_corrupt_chunk(
    chunked_repo: Path, cli: Cli, tmp_path: Path
) -> None:
    remote = _with_remote(chunked_repo, cli, tmp_path)
    data = _rand(4 * MIB, 22)
    (chunked_repo / "m.bin").write_bytes(data)
    cli("add", "m.bin")
    cli("push")
    assert json.loads(cli("fsck", "--cloud", "--verify", "--json").out)["corrupt"] == {}
    oid = hash_bytes(data)
    parts = _chunk_oids(chunked_repo, data)
    bad = _loose(remote, parts[2])
    bad.chmod(0o644)
    raw = bytearray(bad.read_bytes())
    raw[100] ^= 1
    bad.write_bytes(bytes(raw))
    res = cli("fsck", "--cloud", "--verify", "--json", expect=1)
    corrupt = json.loads(res.out)["corrupt"]
    assert list(corrupt) == [oid]
    assert corrupt[oid].startswith("m.bin.gitml: chunk 3 of ")
    assert parts[2] in corrupt[oid] and "do not match" in corrupt[oid]

    _loose(remote, parts[1]).unlink()
    res = cli("fsck", "--cloud", "--json", expect=1)  # no download needed to see it
    missing = json.loads(res.out)["missing"]
    assert missing == {
        oid: f"m.bin.gitml: chunk 2 of {len(parts)} ({parts[1]}) of file {oid} is not on the remote"
    }
    (chunked_repo / "m.bin").unlink()
    shutil.rmtree(_cache(chunked_repo))
    res = cli("pull", expect=None)
    assert res.code != 0 and "m.bin" in res.err
    assert f"chunk 2 of {len(parts)} ({parts[1]})" in res.err  # the error names the chunk
    assert not (chunked_repo / "m.bin").exists()


def test_du_of_a_remote(chunked_repo: Path, cli: Cli, tmp_path: Path) -> None:
    _with_remote(chunked_repo, cli, tmp_path)
    (chunked_repo / "small.txt").write_text("hello\n")  # stored whole
    v1 = bytearray(_rand(8 * MIB, 23))
    (chunked_repo / "d.bin").write_bytes(v1)
    cli("add", "d.bin", "small.txt")
    cli("push")
    v1[MIB : MIB + 100_000] = _rand(100_000, 24)
    (chunked_repo / "d.bin").write_bytes(v1)
    cli("add", "d.bin")
    cli("push")
    usage = json.loads(cli("du", "--cloud", "--json").out)
    assert usage["chunked_files"] == 2 and usage["whole_files"] == 1
    assert usage["damaged_lists"] == 0
    assert usage["logical"] == 16 * MIB + 6
    assert 8 * MIB < usage["stored"] < 10 * MIB + 8192  # the shared chunks once
    assert usage["ratio"] > 1.5
    local = json.loads(cli("du", "--json").out)
    assert local["logical"] == usage["logical"]
    assert "dedup ratio: " in cli("du", "-r", "origin").out


def test_remote_chunks_off_pushes_whole_objects(
    chunked_repo: Path, cli: Cli, tmp_path: Path
) -> None:
    """remote.NAME.chunks = off: the format every gitml can pull (streamed from the
    chunks, the whole re-hashed); a later push with it on does not send it again."""
    remote = _with_remote(chunked_repo, cli, tmp_path)
    cli("config", "set", "remote.origin.chunks", "off")
    data = _rand(3 * MIB, 25)
    (chunked_repo / "w.bin").write_bytes(data)
    cli("add", "w.bin")
    cli("push")
    oid = hash_bytes(data)
    assert _loose(remote, oid).read_bytes() == data and not (remote / "chunked").exists()
    cli("config", "set", "remote.origin.chunks", "on")
    again = json.loads(cli("push", "--json").out)["objects"]
    assert again["skipped"] == [oid] and again["bytes"] == 0
    res = cli("config", "set", "remote.origin.chunks", "maybe", expect=None)
    assert res.code != 0 and "on, off" in res.err
