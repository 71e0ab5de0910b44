"""Chunked files from the command line: kills during add, fsck, gc, remotes (issue 14).

Each test failed on the code before chunking existed (no chunk list, no
``cache.chunk_min_file``); they now pin the 'nothing lost' bar for it.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import pytest

from gitml.store import chunks
from gitml.store.hashing import hash_bytes
from tests.conftest import Cli, git, run_gitml

MIB = 1 << 20


def _rand(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


@pytest.fixture
def chunked_repo(repo: Path, cli: Cli) -> Path:
    cli("config", "set", "cache.chunk_min_file", str(MIB))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "chunk big files")
    return repo


def _cache(repo: Path) -> Path:
    return repo / ".gitml" / "cache"


def _entry(repo: Path, data: bytes) -> str | None:
    return chunks.read_entry(_cache(repo), hash_bytes(data))


def _age(folder: Path, seconds: float = 7200) -> None:
    old = time.time() - seconds
    for path in folder.rglob("*"):
        if path.is_file() and "repos" not in path.parts:
            os.utime(path, (old, old))


@pytest.mark.parametrize(
    "fault",
    [
        "store.chunk-queued:8",  # mid-chunking, nothing journaled yet
        "store.mid-batch:15",  # chunks under their names, not yet durable
        "store.before-sync",
        "store.before-chunk-index",  # all durable, the file not yet indexed
    ],
)
def test_sigkill_during_chunked_add_then_rerun_completes(
    chunked_repo: Path, cli: Cli, fault: str
) -> None:
    data = _rand(6 * MIB, 1)
    (chunked_repo / "big.bin").write_bytes(data)
    killed = run_gitml(chunked_repo, "add", "big.bin", env={"GITML_FAULT": fault})
    assert killed.returncode == -9, killed.stderr
    assert not (chunked_repo / "big.bin.gitml").exists()  # no pointer to anything incomplete
    assert _entry(chunked_repo, data) is None  # nor an index entry
    run_gitml(chunked_repo, "add", "big.bin", check=True)
    assert _entry(chunked_repo, data) is not None
    assert not os.listdir(_cache(chunked_repo) / "journal")
    (chunked_repo / "big.bin").unlink()
    cli("checkout", "big.bin")
    assert (chunked_repo / "big.bin").read_bytes() == data
    result = json.loads(cli("fsck", "--json").out)
    assert result["corrupt"] == {} and result["missing"] == {}, result


def test_fsck_names_the_file_of_a_missing_or_corrupt_chunk(chunked_repo: Path, cli: Cli) -> None:
    data = _rand(3 * MIB, 2)
    (chunked_repo / "model.bin").write_bytes(data)
    cli("add", "model.bin")
    listed = _entry(chunked_repo, data)
    assert listed is not None
    store_chunks = chunks.decode(
        (_cache(chunked_repo) / listed[:2] / listed[2:]).read_bytes(), source="t"
    ).chunks
    gone, bad = store_chunks[1][0], store_chunks[2][0]
    os.unlink(_cache(chunked_repo) / gone[:2] / gone[2:])
    bad_path = _cache(chunked_repo) / bad[:2] / bad[2:]
    os.chmod(bad_path, 0o644)
    raw = bytearray(bad_path.read_bytes())
    raw[10] ^= 1
    bad_path.write_bytes(bytes(raw))
    res = cli("fsck", "--json", expect=None)
    assert res.code != 0
    report = json.loads(res.out)
    assert report["corrupt"][bad] == "model.bin.gitml (chunk)"
    oid = hash_bytes(data)
    assert "model.bin" in report["missing"][oid] and gone in report["missing"][oid]
    (chunked_repo / "model.bin").unlink()
    res = cli("checkout", "model.bin", expect=None)
    assert res.code != 0 and "model.bin" in res.err and "chunk" in res.err
    assert not (chunked_repo / "model.bin").exists()


def test_gc_keeps_the_chunks_a_kept_version_needs_and_removes_the_rest(
    chunked_repo: Path, cli: Cli
) -> None:
    v1 = bytearray(_rand(4 * MIB, 3))
    (chunked_repo / "d.bin").write_bytes(v1)
    cli("add", "d.bin")
    git(chunked_repo, "add", "-A")
    git(chunked_repo, "commit", "-qm", "v1")
    v2 = bytearray(v1)
    v2[2 * MIB : 3 * MIB] = _rand(MIB, 4)
    (chunked_repo / "d.bin").write_bytes(v2)
    cli("add", "d.bin")
    git(chunked_repo, "add", "-A")
    git(chunked_repo, "commit", "-qm", "v2")
    cache = _cache(chunked_repo)
    _age(cache)
    kept = json.loads(cli("gc", "--yes", "--json").out)  # history keeps v1
    assert kept["removed"] == []
    before = {p.name for p in cache.glob("??/*")}
    result = json.loads(cli("gc", "--workspace", "--yes", "--json").out)
    assert result["removed"] == [hash_bytes(bytes(v1))]  # the file is what is lost
    assert _entry(chunked_repo, bytes(v1)) is None and _entry(chunked_repo, bytes(v2))
    after = {p.name for p in cache.glob("??/*")}
    assert after < before  # v1's own chunks went ...
    removed_bytes = result["bytes"]
    assert MIB // 2 <= removed_bytes <= 3 * MIB  # ... and only about the 1 MiB it did not share
    (chunked_repo / "d.bin").unlink()
    cli("checkout", "d.bin")  # every chunk v2 needs is still there
    assert (chunked_repo / "d.bin").read_bytes() == bytes(v2)
    assert json.loads(cli("fsck", "--json").out)["missing"] == {}


def test_push_and_pull_of_a_chunked_file(chunked_repo: Path, cli: Cli, tmp_path: Path) -> None:
    """The remote gets the chunks, the list and an entry naming it (no whole
    object); a pulled file is stored as chunks again, verified whole first."""
    data = _rand(3 * MIB, 5)
    (chunked_repo / "w.bin").write_bytes(data)
    cli("add", "w.bin")
    remote = tmp_path / "remote"
    cli("remote", "add", "origin", str(remote))
    cli("push")
    oid = hash_bytes(data)
    assert not (remote / "objects" / oid[:2] / oid[2:]).exists()
    assert (remote / "chunked" / oid).read_text() == f"{_entry(chunked_repo, data)}\n"
    cache = _cache(chunked_repo)
    for sub in [p for p in cache.iterdir() if len(p.name) == 2] + [cache / "chunked"]:
        for f in sub.iterdir():
            f.unlink()
    (chunked_repo / "w.bin").unlink()
    cli("pull")
    assert (chunked_repo / "w.bin").read_bytes() == data
    # what was pulled is stored as chunks again, not as a whole object
    assert not (cache / oid[:2] / oid[2:]).exists() and _entry(chunked_repo, data)
    assert json.loads(cli("fsck", "--json").out)["missing"] == {}


def test_push_refuses_a_chunked_file_with_a_corrupt_chunk(
    chunked_repo: Path, cli: Cli, tmp_path: Path
) -> None:
    data = _rand(3 * MIB, 6)
    (chunked_repo / "w.bin").write_bytes(data)
    cli("add", "w.bin")
    listed = _entry(chunked_repo, data)
    assert listed is not None
    cache = _cache(chunked_repo)
    first = chunks.decode((cache / listed[:2] / listed[2:]).read_bytes(), source="t").chunks[0][0]
    path = cache / first[:2] / first[2:]
    os.chmod(path, 0o644)
    path.write_bytes(b"x" + path.read_bytes()[1:])
    remote = tmp_path / "remote"
    cli("remote", "add", "origin", str(remote))
    res = cli("push", expect=None)
    assert res.code != 0
    oid = hash_bytes(data)
    assert not (remote / "objects" / oid[:2] / oid[2:]).exists()
    assert not (remote / "chunked" / oid).exists()  # no entry names a chunk not sent
    assert "w.bin" in res.err, res.err


def test_chunking_off_stores_whole_objects(repo: Path, cli: Cli) -> None:
    cli("config", "set", "cache.chunk_min_file", "0")
    data = _rand(2 * MIB, 7)
    (repo / "x.bin").write_bytes(data)
    cli("config", "set", "--local", "cache.chunk_min_file", "0")
    cli("add", "x.bin")
    oid = hash_bytes(data)
    assert (_cache(repo) / oid[:2] / oid[2:]).exists() and _entry(repo, data) is None


def test_du_reports_logical_and_stored_sizes(chunked_repo: Path, cli: Cli) -> None:
    v1 = bytearray(_rand(8 * MIB, 8))
    (chunked_repo / "d.bin").write_bytes(v1)
    cli("add", "d.bin")
    v1[MIB : MIB + 100_000] = _rand(100_000, 9)
    (chunked_repo / "d.bin").write_bytes(v1)
    cli("add", "d.bin")
    usage = json.loads(cli("du", "--json").out)
    assert usage["schema"] == "gitml.du/1"
    assert usage["chunked_files"] == 2 and usage["damaged_lists"] == 0
    assert usage["logical"] == 16 * MIB  # two versions of 8 MiB, as if stored whole
    # the shared chunks once: the edit costs at most two 1 MiB chunks and the lists
    assert 8 * MIB < usage["stored"] < 10 * MIB + 4096
    assert usage["ratio"] > 1.5
    human = cli("du").out
    assert "dedup ratio: " in human and "2 chunked files" in human


def test_bad_chunk_min_file_is_a_one_line_error(repo: Path, cli: Cli) -> None:
    res = cli("config", "set", "cache.chunk_min_file", "--", "-5", expect=None)
    assert res.code == 2 and "cache.chunk_min_file must be positive" in res.err
    (repo / ".gitml" / "config.toml").write_text('[cache]\nchunk_min_file = "big"\n')
    res = cli("status", expect=None)
    assert res.code == 3 and "Traceback" not in res.err
    assert res.err == (
        "error: cache.chunk_min_file = 'big' is not a size in bytes\n"
        "hint: gitml config set cache.chunk_min_file 16777216 (or 0 to turn chunking off)\n"
    )


def test_chunked_file_checks_out_as_a_copy_in_hardlink_mode(chunked_repo: Path, cli: Cli) -> None:
    data = _rand(3 * MIB, 10)
    (chunked_repo / "m.bin").write_bytes(data)
    cli("add", "m.bin")
    cli("config", "set", "--local", "cache.link", "hardlink")
    (chunked_repo / "m.bin").unlink()
    cli("checkout", "m.bin")
    st = os.lstat(chunked_repo / "m.bin")
    assert st.st_nlink == 1 and st.st_mode & 0o777 == 0o644  # a file of its own, writable
    assert (chunked_repo / "m.bin").read_bytes() == data
    assert "clean" in cli("status").out


def test_sigkill_during_chunked_checkout_then_rerun_completes(chunked_repo: Path, cli: Cli) -> None:
    data = _rand(3 * MIB, 11)
    (chunked_repo / "c.bin").write_bytes(data)
    cli("add", "c.bin")
    (chunked_repo / "c.bin").unlink()
    killed = run_gitml(
        chunked_repo, "checkout", "c.bin", env={"GITML_FAULT": "checkout.file-filled"}
    )
    assert killed.returncode == -9, killed.stderr
    run_gitml(chunked_repo, "checkout", "c.bin", check=True)
    assert (chunked_repo / "c.bin").read_bytes() == data
    assert oct(os.lstat(chunked_repo / "c.bin").st_mode & 0o777) == oct(0o644)
