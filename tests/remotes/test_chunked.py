"""Chunked files on remotes (issue 14): only missing chunks travel, entries last.

Every test runs against a folder remote and moto S3 (``make_url_remote``).
"""

from __future__ import annotations

import dataclasses
import os
import random
from pathlib import Path

import pytest

from gitml.remotes import Remote, RemoteOptions
from gitml.remotes.chunked import decode_entry, entry_key
from gitml.remotes.packs import pack_key
from gitml.store import chunks
from gitml.store.chunks import ChunkList
from gitml.store.hashing import hash_bytes
from gitml.store.objects import ObjectStore
from tests.remotes.remote_helpers import (
    FAST,
    Handle,
    MakeRemote,
    assert_cache_clean,
)
from tests.remotes.test_resume import _killed, _run

MIB = 1 << 20
PACKED = dataclasses.replace(FAST, pack_min_objects=8, pack_max_objects=10)
LOOSE = dataclasses.replace(FAST, pack=False)


def _rand(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def _cstore(root: Path) -> ObjectStore:
    return ObjectStore(root, chunk_min_file=MIB)


def _add(store: ObjectStore, tmp_path: Path, data: bytes) -> str:
    src = tmp_path / f"src-{os.urandom(3).hex()}"
    src.write_bytes(data)
    with store.batch() as batch:
        oid, _size = batch.add_file(src)
    src.unlink()
    assert store.chunk_list(oid) is not None  # stored as chunks locally
    return oid


def _list(store: ObjectStore, oid: str) -> ChunkList:
    clist = store.chunk_list(oid)
    assert clist is not None
    return clist


def _with(handle: Handle, options: RemoteOptions) -> Remote:
    return Remote(handle.remote.url, handle.remote.backend, options=options)


def test_round_trip_into_a_fresh_cache(make_url_remote: MakeRemote, tmp_path: Path) -> None:
    handle = make_url_remote()
    store = _cstore(tmp_path / "cache")
    data = _rand(8 * MIB + 777, 1)
    oid = _add(store, tmp_path, data)
    clist = _list(store, oid)
    list_oid = chunks.read_entry(store.root, oid)

    up = handle.remote.upload(store, [oid])
    assert up.ok, up.failed
    assert up.transferred == [oid] and up.skipped == []
    assert up.parts == len(clist.chunks) + 1 and up.parts_present == 0
    keys = handle.raw_keys()
    assert entry_key(oid) in keys and Remote.key(oid) not in keys  # no whole object
    assert decode_entry(handle.get_raw(entry_key(oid))) == list_oid
    assert handle.remote.present([oid]) == {oid}
    assert oid in handle.remote.list_oids()

    again = handle.remote.upload(store, [oid])
    assert again.transferred == [] and again.skipped == [oid] and again.bytes == 0

    for fresh in (ObjectStore(tmp_path / "plain"), _cstore(tmp_path / "chunked")):
        cold = Remote(handle.remote.url, handle.remote.backend, options=FAST)
        down = cold.download(fresh, [oid])
        assert down.ok, down.failed
        assert down.transferred == [oid]
        assert down.parts == len(clist.chunks)  # the list travels with its chunks
        assert fresh.read_bytes(oid) == data
        assert fresh.chunk_list(oid) == clist  # stored as chunks, whatever its threshold
        assert not os.path.lexists(fresh.path_of(oid))
        assert_cache_clean(fresh)
    handle.all_good(tmp_path)


def test_an_edited_version_sends_only_the_changed_chunks(
    make_url_remote: MakeRemote, tmp_path: Path
) -> None:
    handle = make_url_remote()
    store = _cstore(tmp_path / "cache")
    v1 = bytearray(_rand(32 * MIB, 2))
    first = _add(store, tmp_path, bytes(v1))
    up1 = handle.remote.upload(store, [first])
    assert up1.ok and 32 * MIB <= up1.bytes < 33 * MIB
    v2 = bytearray(v1)
    v2[16 * MIB : 17 * MIB] = _rand(MIB, 3)
    second = _add(store, tmp_path, bytes(v2))
    up2 = handle.remote.upload(store, [second])
    assert up2.ok, up2.failed
    assert up2.transferred == [second]
    assert MIB <= up2.bytes < 3 * MIB, up2.bytes  # about the 1 MiB edit, not 32 MiB
    assert up2.parts_present >= len(_list(store, second).chunks) - 8

    other = _cstore(tmp_path / "other")  # a clone that has v1 pulls v2: the same saving
    assert handle.remote.download(other, [first]).ok
    down = handle.remote.download(other, [second])
    assert down.ok, down.failed
    assert MIB <= down.bytes < 3 * MIB, down.bytes
    assert other.read_bytes(second) == bytes(v2)
    assert other.read_bytes(first) == bytes(v1)


def test_many_chunks_travel_in_packs(make_url_remote: MakeRemote, tmp_path: Path) -> None:
    handle = make_url_remote(PACKED)
    store = _cstore(tmp_path / "cache")
    data = _rand(12 * MIB, 4)
    oid = _add(store, tmp_path, data)
    n = len(_list(store, oid).chunks)
    assert handle.remote.upload(store, [oid]).ok
    packs = handle.remote.load_packs()
    assert len(packs.where) == n + 1  # every chunk and the list are packed
    assert not [k for k in handle.raw_keys() if k.startswith("objects/")]
    fresh = ObjectStore(tmp_path / "fresh")
    down = Remote(handle.remote.url, handle.remote.backend, options=PACKED).download(fresh, [oid])
    assert down.ok, down.failed
    assert fresh.read_bytes(oid) == data


def test_old_format_remote_and_a_mixed_one(make_url_remote: MakeRemote, tmp_path: Path) -> None:
    """A remote holding whole objects (older gitml, or chunks=False) keeps working
    both ways, and next to chunked files."""
    handle = make_url_remote()
    store = _cstore(tmp_path / "cache")
    v1 = bytearray(_rand(6 * MIB, 5))
    first = _add(store, tmp_path, bytes(v1))
    old = _with(handle, dataclasses.replace(FAST, chunks=False))
    assert old.upload(store, [first]).ok
    assert handle.get_raw(Remote.key(first)) == bytes(v1)  # the whole object, as before
    assert not [k for k in handle.raw_keys() if k.startswith("chunked/")]

    again = handle.remote.upload(store, [first])  # a new gitml does not send it again
    assert again.skipped == [first] and again.bytes == 0

    v2 = bytearray(v1)
    v2[MIB : 2 * MIB] = _rand(MIB, 6)
    second = _add(store, tmp_path, bytes(v2))
    assert handle.remote.upload(store, [second]).ok  # chunks: none of v1's are there
    assert entry_key(second) in handle.raw_keys()

    fresh = _cstore(tmp_path / "fresh")
    down = Remote(handle.remote.url, handle.remote.backend, options=FAST).download(
        fresh, [first, second]
    )
    assert down.ok, down.failed
    assert sorted(down.transferred) == sorted([first, second])
    assert fresh.read_bytes(first) == bytes(v1) and fresh.read_bytes(second) == bytes(v2)
    assert_cache_clean(fresh)


def test_whole_object_wins_over_an_entry(make_url_remote: MakeRemote, tmp_path: Path) -> None:
    handle = make_url_remote()
    store = _cstore(tmp_path / "cache")
    data = _rand(4 * MIB, 7)
    oid = _add(store, tmp_path, data)
    assert handle.remote.upload(store, [oid]).ok
    handle.put_raw(Remote.key(oid), data)  # an older gitml pushed it whole too
    fresh = ObjectStore(tmp_path / "fresh")
    down = handle.remote.download(fresh, [oid])
    assert down.ok and down.parts == 0 and down.bytes == len(data)
    assert fresh.read_bytes(oid) == data


@pytest.mark.parametrize("options", [LOOSE, PACKED], ids=["loose", "packed"])
def test_corrupt_chunk_on_the_remote_is_named_and_not_stored(
    make_url_remote: MakeRemote, tmp_path: Path, options: RemoteOptions
) -> None:
    handle = make_url_remote(options)
    store = _cstore(tmp_path / "cache")
    oid = _add(store, tmp_path, _rand(6 * MIB, 8))
    clist = _list(store, oid)
    assert handle.remote.upload(store, [oid]).ok
    victim = clist.chunks[3][0]
    packs = handle.remote.load_packs()
    if victim in packs.where:
        pack_id, offset, size = packs.where[victim]
        raw = bytearray(handle.get_raw(pack_key(pack_id)))
        raw[offset + size // 2] ^= 0x01
        handle.put_raw(pack_key(pack_id), bytes(raw))
    else:
        handle.corrupt(victim)

    fresh = _cstore(tmp_path / "fresh")
    down = Remote(handle.remote.url, handle.remote.backend, options=options).download(fresh, [oid])
    assert list(down.failed) == [oid]
    reason = down.failed[oid]
    assert f"chunk 4 of {len(clist.chunks)} ({victim}) of file {oid}" in reason, reason
    assert "do not match" in reason
    assert not fresh.has(oid) and chunks.read_entry(fresh.root, oid) is None
    assert not fresh.has(victim)
    assert_cache_clean(fresh)


def test_missing_chunk_and_damaged_list_on_the_remote(
    make_url_remote: MakeRemote, tmp_path: Path
) -> None:
    handle = make_url_remote(LOOSE)
    store = _cstore(tmp_path / "cache")
    a = _add(store, tmp_path, _rand(5 * MIB, 9))
    b = _add(store, tmp_path, _rand(5 * MIB, 10))
    assert handle.remote.upload(store, [a, b]).ok
    gone = _list(store, a).chunks[1][0]
    handle.remote.backend.delete([Remote.key(gone)])
    b_list = chunks.read_entry(store.root, b)
    assert b_list is not None
    handle.corrupt(b_list)

    fresh = _cstore(tmp_path / "fresh")
    down = Remote(handle.remote.url, handle.remote.backend, options=LOOSE).download(fresh, [a, b])
    assert sorted(down.failed) == sorted([a, b])
    n = len(_list(store, a).chunks)
    assert down.failed[a] == f"chunk 2 of {n} ({gone}) of file {a}: not on the remote"
    assert down.failed[b].startswith(f"chunk list {b_list} of file {b} is corrupt on the remote")
    assert not fresh.has(a) and not fresh.has(b)
    assert_cache_clean(fresh)


def test_a_corrupt_local_chunk_is_fetched_again(
    make_url_remote: MakeRemote, tmp_path: Path
) -> None:
    handle = make_url_remote()
    store = _cstore(tmp_path / "cache")
    data = _rand(5 * MIB, 11)
    oid = _add(store, tmp_path, data)
    assert handle.remote.upload(store, [oid]).ok
    clone = _cstore(tmp_path / "clone")
    assert handle.remote.download(clone, [oid]).ok
    chunks.remove_entry(clone.root, oid)  # the file is gone, its chunks stay ...
    bad = _list(store, oid).chunks[2][0]
    path = Path(clone.path_of(bad))
    os.chmod(path, 0o644)
    path.write_bytes(b"!" + path.read_bytes()[1:])  # ... one of them damaged
    down = handle.remote.download(clone, [oid])
    assert down.ok, down.failed
    assert clone.read_bytes(oid) == data
    assert list((clone.root / "quarantine").iterdir())  # the bad copy kept aside


def test_local_corrupt_chunk_is_not_pushed_and_no_entry_is_written(
    make_url_remote: MakeRemote, tmp_path: Path
) -> None:
    handle = make_url_remote()
    store = _cstore(tmp_path / "cache")
    oid = _add(store, tmp_path, _rand(5 * MIB, 12))
    clist = _list(store, oid)
    bad = clist.chunks[0][0]
    path = Path(store.path_of(bad))
    os.chmod(path, 0o644)
    path.write_bytes(b"!" + path.read_bytes()[1:])
    up = handle.remote.upload(store, [oid])
    assert list(up.failed) == [oid]
    assert up.failed[oid].startswith(
        f"chunk 1 of {len(clist.chunks)} ({bad}) of file {oid}: corrupt in the local cache"
    ), up.failed[oid]
    assert entry_key(oid) not in handle.raw_keys()
    assert oid not in handle.remote.present([oid])


@pytest.mark.slow
@pytest.mark.parametrize(
    "fault",
    ["remote.upload.pack:2", "remote.upload.chunk-entry", "remote.local.before-rename:5"],
)
def test_push_killed_then_rerun_completes(
    make_url_remote: MakeRemote, tmp_path: Path, fault: str
) -> None:
    handle = make_url_remote(PACKED)
    if fault.startswith("remote.local") and handle.root is None:
        pytest.skip("folder remotes only")
    store = _cstore(tmp_path / "cache")
    data = _rand(12 * MIB, 13)
    oid = _add(store, tmp_path, data)
    packing = {"pack_min_objects": 8, "pack_max_objects": 10}
    _killed(_run(handle, store, "upload", [oid], fault, **packing))
    assert oid not in handle.remote.list_oids()  # no entry names an incomplete file
    assert entry_key(oid) not in handle.raw_keys()
    handle.all_good(tmp_path)  # what made it is whole and verifies
    parts = [str(chunks.read_entry(store.root, oid)), *(c for c, _n in _list(store, oid).chunks)]
    before = handle.remote.present(parts, entries=False)

    again = _with(handle, PACKED)
    result = again.upload(store, [oid])
    assert result.ok, result.failed
    assert result.transferred == [oid]
    assert result.parts_present == len(before)  # what made it is not sent again
    assert result.parts == len(parts) - len(before)
    fresh = _cstore(tmp_path / "fresh")
    down = _with(handle, PACKED).download(fresh, [oid])
    assert down.ok, down.failed
    assert fresh.read_bytes(oid) == data
    handle.all_good(tmp_path)


@pytest.mark.slow
def test_pull_killed_before_the_local_entry_then_rerun(
    make_url_remote: MakeRemote, tmp_path: Path
) -> None:
    handle = make_url_remote()
    store = _cstore(tmp_path / "cache")
    data = _rand(6 * MIB, 14)
    oid = _add(store, tmp_path, data)
    assert handle.remote.upload(store, [oid]).ok
    target = ObjectStore(tmp_path / "target")
    _killed(_run(handle, target, "download", [oid], "store.before-pulled-chunk-index"))
    fresh = ObjectStore(target.root)
    assert not fresh.has(oid)  # chunks durable, but the file is not named yet
    down = handle.remote.download(fresh, [oid])
    assert down.ok, down.failed
    assert down.parts == 0  # every chunk was already there
    assert fresh.read_bytes(oid) == data
    assert_cache_clean(fresh)


def test_hash_of_rebuilt_file_is_checked(make_url_remote: MakeRemote, tmp_path: Path) -> None:
    """A list whose chunks are intact but in the wrong order (a bad writer) is
    refused on pull: the whole-file hash is checked before the file is indexed."""
    handle = make_url_remote()
    store = _cstore(tmp_path / "cache")
    data = _rand(4 * MIB, 15)
    oid = _add(store, tmp_path, data)
    assert handle.remote.upload(store, [oid]).ok
    clist = _list(store, oid)
    swapped = ChunkList(oid, clist.size, (clist.chunks[1], clist.chunks[0], *clist.chunks[2:]))
    raw = swapped.encode()
    bad_list = hash_bytes(raw)
    handle.put_raw(Remote.key(bad_list), raw)
    handle.put_raw(entry_key(oid), f"{bad_list}\n".encode())
    fresh = ObjectStore(tmp_path / "fresh")
    down = handle.remote.download(fresh, [oid])
    assert list(down.failed) == [oid]
    assert "rebuild object" in down.failed[oid] and oid in down.failed[oid]
    assert not fresh.has(oid)


def test_damaged_or_oversized_entry_is_refused(make_url_remote: MakeRemote, tmp_path: Path) -> None:
    handle = make_url_remote()
    store = _cstore(tmp_path / "cache")
    oid = _add(store, tmp_path, _rand(3 * MIB, 16))
    assert handle.remote.upload(store, [oid]).ok
    for raw in (b"not an oid\n", b"a" * 64 + b"\n" + b"x" * 100_000):
        handle.put_raw(entry_key(oid), raw)
        fresh = ObjectStore(tmp_path / f"fresh-{len(raw)}")
        down = handle.remote.download(fresh, [oid])
        assert down.failed == {oid: f"the chunk entry of file {oid} on the remote is damaged"}
        assert not fresh.has(oid)
