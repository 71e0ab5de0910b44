"""Chunked storage of big files: round trips, dedup, and damage named with its file."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from gitml.errors import CorruptObjectError, ObjectMissingError
from gitml.store import chunks
from gitml.store.chunks import ChunkList, decode
from gitml.store.hashing import hash_bytes
from gitml.store.objects import ObjectStore

from .conftest import corrupt

MIB = 1 << 20


def _rand(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


@pytest.fixture
def cstore(tmp_path: Path) -> ObjectStore:
    return ObjectStore(tmp_path / "cache", chunk_min_file=MIB)


def stored_bytes(store: ObjectStore) -> int:
    """What the cache holds on disk (objects only), the number the dedup is about."""
    return sum(os.stat(store.path_of(oid)).st_size for oid in store.iter_oids())


def add(
    store: ObjectStore, tmp_path: Path, data: bytes, name: str = "f", link: str = "copy"
) -> str:
    src = tmp_path / "src" / name
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(data)
    with store.batch() as batch:
        oid, size = batch.add_file(src, link=link)
    assert (oid, size) == (hash_bytes(data), len(data))
    return oid


def checkout(store: ObjectStore, oid: str, tmp_path: Path, link: str = "copy") -> bytes:
    dest = tmp_path / "out" / oid[:8]
    dest.parent.mkdir(exist_ok=True)
    store.materialize(oid, dest, link=link)
    return dest.read_bytes()


def test_big_file_is_stored_as_chunks_and_reads_back(cstore: ObjectStore, tmp_path: Path) -> None:
    data = _rand(3 * MIB + 12345, 1)
    oid = add(cstore, tmp_path, data)
    assert not os.path.exists(cstore.path_of(oid))  # no whole object: chunks only
    clist = cstore.chunk_list(oid)
    assert clist is not None and clist.size == len(data) and len(clist.chunks) > 3
    assert b"".join(cstore.read_bytes(c) for c, _n in clist.chunks) == data
    assert cstore.has(oid) and cstore.missing([oid]) == []
    assert cstore.verify(oid) and cstore.read_bytes(oid) == data
    assert cstore.size_of(oid) == len(data)
    assert checkout(cstore, oid, tmp_path) == data
    # the pointer's oid did not change: it is the BLAKE3 of the whole content
    assert oid == hash_bytes(data)


@pytest.mark.parametrize(
    "edit",
    ["start", "middle", "end", "append", "truncate", "insert"],
)
def test_edited_versions_round_trip_and_store_little(
    cstore: ObjectStore, tmp_path: Path, edit: str
) -> None:
    base = _rand(8 * MIB, 2)
    oid1 = add(cstore, tmp_path, base, "v1")
    before = stored_bytes(cstore)
    patch = _rand(100_000, 3)
    mid = len(base) // 2
    new = {
        "start": patch + base[len(patch) :],
        "middle": base[:mid] + patch + base[mid + len(patch) :],
        "end": base[: -len(patch)] + patch,
        "append": base + patch,
        "truncate": base[: len(base) - 3 * MIB],
        "insert": base[:mid] + patch + base[mid:],
    }[edit]
    oid2 = add(cstore, tmp_path, new, "v2")
    grown = stored_bytes(cstore) - before
    # the changed bytes, plus at most a few neighbouring chunks (<= 256 KiB each) and the list
    assert grown <= len(patch) + 4 * chunks.MAX_CHUNK, grown
    assert checkout(cstore, oid1, tmp_path) == base
    assert checkout(cstore, oid2, tmp_path) == new


def test_identical_files_store_nothing_new(cstore: ObjectStore, tmp_path: Path) -> None:
    data = _rand(2 * MIB, 4)
    oid = add(cstore, tmp_path, data, "a")
    before = stored_bytes(cstore)
    assert add(cstore, tmp_path, data, "b") == oid
    assert stored_bytes(cstore) == before


def test_one_mib_edit_in_a_64_mib_file_stores_about_one_mib(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "cache", chunk_min_file=16 * MIB)
    base = bytearray(_rand(64 * MIB, 5))
    add(store, tmp_path, bytes(base), "v1")
    first = stored_bytes(store)
    assert first <= len(base) + 64 * 1024  # the chunks, the list: no whole copy besides
    mid = len(base) // 2
    base[mid : mid + MIB] = _rand(MIB, 6)
    oid2 = add(store, tmp_path, bytes(base), "v2")
    new = stored_bytes(store) - first
    assert MIB <= new <= 3 * MIB, new
    assert checkout(store, oid2, tmp_path) == bytes(base)


def test_threshold_decides(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "cache", chunk_min_file=MIB)
    at = add(store, tmp_path, _rand(MIB, 7), "at")
    below = add(store, tmp_path, _rand(MIB - 1, 8), "below")
    assert store.chunk_list(at) is not None
    assert store.chunk_list(below) is None and os.path.exists(store.path_of(below))
    off = ObjectStore(tmp_path / "cache2")  # chunk_min_file 0: whole objects
    whole = add(off, tmp_path, _rand(2 * MIB, 9), "off")
    assert os.path.exists(off.path_of(whole)) and off.chunk_list(whole) is None


def test_empty_file_splits_into_an_empty_list(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDONLY)
    try:
        oid, clist = chunks.split(fd, 0, lambda _o, _d: None)
    finally:
        os.close(fd)
    assert oid == hash_bytes(b"") and clist.chunks == ()
    assert decode(clist.encode(), source="t") == clist


def test_hardlink_and_reflink_modes_keep_whole_objects(cstore: ObjectStore, tmp_path: Path) -> None:
    data = _rand(2 * MIB, 10)
    oid = add(cstore, tmp_path, data, "h", link="hardlink")
    assert os.path.exists(cstore.path_of(oid)) and cstore.chunk_list(oid) is None


def test_chunked_checkout_in_link_modes_is_a_copy(cstore: ObjectStore, tmp_path: Path) -> None:
    data = _rand(2 * MIB, 11)
    oid = add(cstore, tmp_path, data)
    for link in ("hardlink", "symlink"):
        dest = tmp_path / f"ws-{link}"
        cstore.materialize(oid, dest, link=link)
        st = os.lstat(dest)
        assert dest.read_bytes() == data and not dest.is_symlink()
        assert st.st_nlink == 1 and st.st_mode & 0o777 == 0o644


def _first_chunk(store: ObjectStore, oid: str) -> str:
    clist = store.chunk_list(oid)
    assert clist is not None
    return clist.chunks[len(clist.chunks) // 2][0]


def test_corrupt_chunk_is_named_with_the_file_and_quarantined(
    cstore: ObjectStore, tmp_path: Path
) -> None:
    oid = add(cstore, tmp_path, _rand(2 * MIB, 12))
    bad = _first_chunk(cstore, oid)
    corrupt(Path(cstore.path_of(bad)))
    dir_fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(CorruptObjectError) as exc:
            cstore.create(oid, dir_fd, "model.bin", link="copy", display="models/model.bin")
    finally:
        os.close(dir_fd)
    assert f"({bad}) of models/model.bin is corrupt" in exc.value.message
    assert not (tmp_path / "model.bin").exists()  # nothing half-written
    assert not os.path.exists(cstore.path_of(bad))
    assert os.listdir(cstore.root / "quarantine")[0].startswith(bad)


def test_missing_chunk_names_the_workspace_file(cstore: ObjectStore, tmp_path: Path) -> None:
    oid = add(cstore, tmp_path, _rand(2 * MIB, 13))
    gone = _first_chunk(cstore, oid)
    os.unlink(cstore.path_of(gone))
    dir_fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(ObjectMissingError) as exc:
            cstore.create(oid, dir_fd, "x.bin", link="copy", display="data/x.bin")
    finally:
        os.close(dir_fd)
    assert f"({gone}) of data/x.bin is not in the cache" in exc.value.message
    assert not (tmp_path / "x.bin").exists()


def _repoint(store: ObjectStore, oid: str, clist: ChunkList) -> None:
    """Give ``oid`` another chunk list (what a damaged or tampered cache would hold)."""
    with store.batch() as batch:
        listed = batch.add_bytes(clist.encode())
    os.unlink(chunks.entry_path(store.root, oid))
    chunks.write_entries(store.root, {oid: listed})


def test_reordered_chunks_are_detected(cstore: ObjectStore, tmp_path: Path) -> None:
    oid = add(cstore, tmp_path, _rand(2 * MIB, 14))
    clist = cstore.chunk_list(oid)
    assert clist is not None
    swapped = list(clist.chunks)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    _repoint(cstore, oid, ChunkList(oid, clist.size, tuple(swapped)))
    with pytest.raises(CorruptObjectError, match="out of order or edited"):
        checkout(cstore, oid, tmp_path)
    assert not cstore.verify(oid)
    assert not list((tmp_path / "out").iterdir())  # nothing half-written
    # every chunk is intact: none of them was quarantined
    assert all(cstore.verify(c) for c, _n in clist.chunks)


def test_a_list_for_another_file_is_refused(cstore: ObjectStore, tmp_path: Path) -> None:
    a = add(cstore, tmp_path, _rand(2 * MIB, 15), "a")
    b = add(cstore, tmp_path, _rand(2 * MIB, 16), "b")
    listed_b = chunks.read_entry(cstore.root, b)
    assert listed_b is not None
    os.unlink(chunks.entry_path(cstore.root, a))
    chunks.write_entries(cstore.root, {a: listed_b})
    with pytest.raises(CorruptObjectError, match="rebuilds object"):
        checkout(cstore, a, tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"gitml-chunks 1 xyz 3\n",
        b"gitml-chunks 1 " + b"a" * 64 + b" 5\n" + b"b" * 64 + b" 4\n",  # sizes do not add up
        b"gitml-chunks 1 " + b"a" * 64 + b" 0\n" + b"b" * 64 + b" 0\n",  # empty chunk
        b"gitml-chunks 1 " + b"a" * 64 + b" 4\n" + b"B" * 64 + b" 4\n",  # not an oid
    ],
)
def test_damaged_lists_are_refused(text: bytes) -> None:
    with pytest.raises(CorruptObjectError, match="is damaged"):
        decode(text, source="x")
