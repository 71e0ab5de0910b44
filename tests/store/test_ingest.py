"""The fast ingest paths on real files: the caller's stat, kernel copies of big files,
journal-free tiny batches, and the per-object fsync of small batches."""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from gitml.errors import InputError
from gitml.store import bulk, unnamed, writer
from gitml.store.fsutil import Hasher
from gitml.store.hashing import MMAP_THRESHOLD, hash_bytes, new_hasher
from gitml.store.objects import ObjectStore

from .conftest import corrupt, leftovers

MakeFile = Callable[..., Path]
HUGE = MMAP_THRESHOLD + 3 * (1 << 20) + 4321  # the pipelined copy, not a multiple of a page


def test_add_file_with_the_callers_stat(store: ObjectStore, make_file: MakeFile) -> None:
    src = make_file("a", b"walked")
    with store.batch() as batch:
        assert batch.add_file(src, st=os.lstat(src)) == (hash_bytes(b"walked"), 6)
    assert store.read_bytes(hash_bytes(b"walked")) == b"walked"


def test_callers_stat_must_still_match(store: ObjectStore, make_file: MakeFile) -> None:
    src = make_file("a", b"before")
    other = make_file("b", b"other file")
    walked = os.lstat(src)
    with open(src, "ab") as fh:  # changed between the caller's walk and the read
        fh.write(b" and after")
    with store.batch() as batch:
        with pytest.raises(InputError, match="changed"):
            batch.add_file(src, st=walked)
        with pytest.raises(InputError, match="replaced"):
            batch.add_file(src, st=os.lstat(other))  # a different inode under the name now
        with pytest.raises(InputError, match="not a regular file"):
            batch.add_file(src, st=os.lstat(src.parent))
    assert list(store.iter_oids()) == []


@pytest.mark.parametrize("link", ["copy", "auto", "hardlink"])
def test_big_file_is_copied_and_hashed(
    store: ObjectStore, make_file: MakeFile, monkeypatch: pytest.MonkeyPatch, link: str
) -> None:
    monkeypatch.setattr(bulk, "PIPE_CHUNK", (1 << 20) + 7)  # steps at unaligned offsets
    data = os.urandom(HUGE)
    src = make_file("big", data)
    with store.batch() as batch:
        oid, size = batch.add_file(src, link=link, st=os.lstat(src))
    assert (oid, size) == (hash_bytes(data), HUGE)
    assert store.read_bytes(oid) == data
    assert stat.S_IMODE(os.stat(store.object_path(oid)).st_mode) == 0o444
    assert leftovers(store.root) == []


def test_pipelined_copy_falls_back_where_the_kernel_cannot(tmp_path: Path) -> None:
    data = os.urandom(50_000)  # fits a pipe buffer
    rfd, wfd = os.pipe()  # copy_file_range refuses pipes (EINVAL): plain reads instead
    os.write(wfd, data)
    os.close(wfd)
    out = os.open(tmp_path / "out", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    hasher = new_hasher(len(data))
    try:
        assert bulk.copy_pipelined(rfd, out, hasher, "pipe", "out", 10**9) == len(data)
    finally:
        os.close(rfd)
        os.close(out)
    assert hasher.hexdigest() == hash_bytes(data)
    assert (tmp_path / "out").read_bytes() == data


def test_big_file_changed_while_copied(
    store: ObjectStore, make_file: MakeFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_file("big", os.urandom(HUGE))
    real = bulk._hash_range

    def hash_then_change(fd: int, hasher: Hasher, off: int, n: int) -> None:
        real(fd, hasher, off, n)
        if off == 0:
            with open(src, "ab") as fh:  # fault injection: a real append mid-copy
                fh.write(b"more")

    monkeypatch.setattr(bulk, "_hash_range", hash_then_change)
    with store.batch() as batch, pytest.raises(InputError, match="changed"):
        batch.add_file(src, st=os.lstat(src))
    assert list(store.iter_oids()) == []
    assert leftovers(store.root) == []


# batch sizes for: journal-free (unnamed.py), journal + fsync each, journal + syncfs
SIZES = [1, writer.DIRECT_MAX + 1, writer.FSYNC_MAX + 1]


@pytest.mark.parametrize("count", SIZES)
def test_small_batches_durable_and_deduped(store: ObjectStore, count: int) -> None:
    blobs = [f"object {i}".encode() for i in range(count)]
    with store.batch() as batch:
        oids = [batch.add_bytes(b) for b in blobs]
    if count <= writer.DIRECT_MAX:
        assert not (store.root / "journal").exists()  # no journal was needed
    assert leftovers(store.root) == []
    inodes = {oid: os.stat(store.object_path(oid)).st_ino for oid in oids}
    with store.batch() as batch:  # again: the existing objects are kept
        assert [batch.add_bytes(b) for b in blobs] == oids
    for oid, data in zip(oids, blobs, strict=True):
        assert store.read_bytes(oid) == data
        assert os.stat(store.object_path(oid)).st_ino == inodes[oid]
        assert stat.S_IMODE(os.stat(store.object_path(oid)).st_mode) == 0o444


@pytest.mark.parametrize("count", SIZES)
def test_short_existing_object_replaced_in_every_path(store: ObjectStore, count: int) -> None:
    blobs = [f"object number {i}".encode() for i in range(count)]
    with store.batch() as batch:
        oids = [batch.add_bytes(b) for b in blobs]
    corrupt(store.object_path(oids[0]), truncate=True)  # as if its writer had died
    with store.batch() as batch:
        for b in blobs:
            batch.add_bytes(b)
    assert store.read_bytes(oids[0]) == blobs[0]
    assert len(os.listdir(store.root / "quarantine")) == 1


def test_without_unnamed_files_tiny_batches_use_the_journal(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unnamed, "SUPPORTED", False)  # a filesystem without O_TMPFILE
    with store.batch() as batch:
        oid = batch.add_bytes(b"manifest")
    assert store.read_bytes(oid) == b"manifest"
    assert (store.root / "journal").exists() and leftovers(store.root) == []


def test_refused_link_of_an_unnamed_file_falls_back_to_the_journal(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some sandboxes refuse linkat of /proc/self/fd/N (EXDEV): the object is
    still stored, through the journal, and nothing is left behind."""
    real_link = os.link

    def refuse(src: str, dst: str, **kw: object) -> None:
        if str(src).startswith("/proc/self/fd/"):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_link(src, dst, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "link", refuse)  # the os module unnamed.py calls
    with store.batch() as batch:
        oid = batch.add_bytes(b"manifest")
    assert store.read_bytes(oid) == b"manifest"
    assert leftovers(store.root) == []


def test_concurrent_tiny_batches_of_the_same_object(tmp_path: Path) -> None:
    data = os.urandom(300_000)
    errors: list[BaseException] = []

    def add() -> None:
        try:
            with ObjectStore(tmp_path / "cache").batch() as batch:
                batch.add_bytes(data)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = ObjectStore(tmp_path / "cache")
    assert list(store.iter_oids()) == [hash_bytes(data)]
    assert store.verify(hash_bytes(data))
    assert not (store.root / "quarantine").exists()
