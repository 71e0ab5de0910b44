"""ObjectStore and Batch on real files: layout, dedupe, verification, links."""

from __future__ import annotations

import os
import signal
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from gitml.errors import (
    ConfigError,
    CorruptObjectError,
    InputError,
    ObjectMissingError,
    SizeMismatchError,
    UsageError,
)
from gitml.store import batch as batch_mod
from gitml.store import fsutil
from gitml.store.batch import SMALL
from gitml.store.hashing import hash_bytes
from gitml.store.objects import ObjectStore

from .conftest import corrupt, leftovers

MakeFile = Callable[..., Path]
BIG = SMALL + 12345


def test_layout_readonly_and_dedupe(store: ObjectStore, make_file: MakeFile) -> None:
    a = make_file("a.txt", b"hello")
    b = make_file("sub/b.txt", b"hello")
    with store.batch() as batch:
        oid_a, size = batch.add_file(a)
        oid_b, _ = batch.add_file(b)
        assert store.has(oid_a)  # visible while the batch is open
    assert oid_a == oid_b == hash_bytes(b"hello") and size == 5
    path = store.object_path(oid_a)
    assert path == store.root / oid_a[:2] / oid_a[2:]
    assert path.read_bytes() == b"hello"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert list(store.iter_oids()) == [oid_a]
    assert leftovers(store.root) == []
    # a second batch with the same content keeps the existing object
    inode = path.stat().st_ino
    with store.batch() as batch:
        assert batch.add_file(a) == (oid_a, 5)
    assert path.stat().st_ino == inode


def test_empty_and_big_files(store: ObjectStore, make_file: MakeFile) -> None:
    big_data = os.urandom(BIG)
    empty = make_file("empty", b"")
    big = make_file("big", big_data)
    with store.batch() as batch:
        e_oid, e_size = batch.add_file(empty)
        b_oid, b_size = batch.add_file(big)
    assert (e_oid, e_size) == (hash_bytes(b""), 0)
    assert (b_oid, b_size) == (hash_bytes(big_data), BIG)
    assert store.read_bytes(e_oid) == b""
    assert store.read_bytes(b_oid) == big_data
    assert stat.S_IMODE(store.object_path(b_oid).stat().st_mode) == 0o444


def test_empty_batch_writes_nothing(store: ObjectStore) -> None:
    with store.batch():
        pass
    assert not store.root.exists()
    assert store.recover() == []


def test_add_bytes_and_expected(store: ObjectStore) -> None:
    with store.batch() as batch:
        oid = batch.add_bytes(b"manifest")
        with pytest.raises(CorruptObjectError):
            batch.add_bytes(b"other", expected_oid=oid)
    assert store.read_bytes(oid) == b"manifest"
    assert list(store.iter_oids()) == [oid]


def test_add_file_expected_oid_mismatch(store: ObjectStore, make_file: MakeFile) -> None:
    f = make_file("f", b"abc")
    with store.batch() as batch, pytest.raises(InputError, match="expected content"):
        batch.add_file(f, expected_oid=hash_bytes(b"xyz"))
    assert list(store.iter_oids()) == []


@pytest.mark.parametrize("size", [10, BIG])
def test_add_stream_verifies(store: ObjectStore, size: int) -> None:
    data = os.urandom(size)
    oid = hash_bytes(data)
    chunks = [data[i : i + 4096] for i in range(0, size, 4096)]
    with store.batch() as batch:
        with pytest.raises(CorruptObjectError, match=oid):
            batch.add_stream([*chunks[:-1], b"evil"], expected_oid=oid)
        assert not store.has(oid)
        batch.add_stream(iter(chunks), expected_oid=oid)
    assert store.read_bytes(oid) == data
    assert os.listdir(store.root / "tmp") == []


def test_add_stream_failure_leaves_nothing(store: ObjectStore) -> None:
    def broken() -> object:
        yield b"part"
        raise ConnectionError("dropped")

    oid = hash_bytes(b"partial")
    with store.batch() as batch, pytest.raises(ConnectionError):
        batch.add_stream(broken(), expected_oid=oid)  # type: ignore[arg-type]
    assert list(store.iter_oids()) == []
    assert leftovers(store.root) == []


def test_bad_oid_refused(store: ObjectStore) -> None:
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63):
        with pytest.raises(UsageError):
            store.object_path(bad)
        with pytest.raises(UsageError):
            store.has(bad)


@pytest.mark.parametrize("truncate", [False, True])
@pytest.mark.parametrize("size", [100, BIG])
def test_corruption_detected_and_quarantined(
    store: ObjectStore, make_file: MakeFile, tmp_path: Path, truncate: bool, size: int
) -> None:
    data = os.urandom(size)
    with store.batch() as batch:
        oid, _ = batch.add_file(make_file("f", data))
    corrupt(store.object_path(oid), truncate=truncate)
    assert store.verify(oid) is False
    assert store.has(oid)  # verify does not quarantine
    dest = tmp_path / "out"
    dest.write_bytes(b"user data")
    with pytest.raises(CorruptObjectError, match=oid):
        store.materialize(oid, dest, link="copy")
    assert dest.read_bytes() == b"user data"  # untouched
    assert not store.has(oid)
    quarantined = os.listdir(store.root / "quarantine")
    assert len(quarantined) == 1 and quarantined[0].startswith(oid + ".")
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []
    with pytest.raises(ObjectMissingError):
        store.read_bytes(oid)


def test_read_bytes_quarantines(store: ObjectStore) -> None:
    with store.batch() as batch:
        oid = batch.add_bytes(b"precious bytes")
    corrupt(store.object_path(oid))
    with pytest.raises(CorruptObjectError, match=oid):
        store.read_bytes(oid)
    (q,) = (store.root / "quarantine").iterdir()
    assert q.name.startswith(oid)
    # re-adding the right bytes repairs the cache
    with store.batch() as batch:
        batch.add_bytes(b"precious bytes")
    assert store.read_bytes(oid) == b"precious bytes"


def test_quarantine_and_remove(store: ObjectStore) -> None:
    with store.batch() as batch:
        a = batch.add_bytes(b"a")
        b = batch.add_bytes(b"b")
    q = store.quarantine(a)
    assert q.parent == store.root / "quarantine" and q.read_bytes() == b"a"
    with pytest.raises(ObjectMissingError):
        store.quarantine(a)
    store.remove(b)
    store.remove(b)  # idempotent
    assert list(store.iter_oids()) == []


@pytest.mark.parametrize("size", [0, 5000, BIG])
@pytest.mark.parametrize("executable", [False, True])
def test_materialize_copy(store: ObjectStore, tmp_path: Path, size: int, executable: bool) -> None:
    data = os.urandom(size)
    with store.batch() as batch:
        oid = batch.add_bytes(data)
    dest = tmp_path / "out.bin"
    store.materialize(oid, dest, link="copy", executable=executable, size=size)
    assert dest.read_bytes() == data
    assert stat.S_IMODE(dest.stat().st_mode) == (0o755 if executable else 0o644)
    assert dest.stat().st_ino != store.object_path(oid).stat().st_ino


def test_materialize_replaces_symlink_without_touching_target(
    store: ObjectStore, tmp_path: Path
) -> None:
    with store.batch() as batch:
        oid = batch.add_bytes(b"new content")
    victim = tmp_path / "victim"
    victim.write_bytes(b"do not touch")
    for link in ("copy", "hardlink", "symlink", "auto"):
        dest = tmp_path / f"dest-{link}"
        dest.symlink_to(victim)
        store.materialize(oid, dest, link=link)
        assert victim.read_bytes() == b"do not touch"
        assert dest.read_bytes() == b"new content"
        if link != "symlink":
            assert not dest.is_symlink()


def test_materialize_breaks_hardlink(store: ObjectStore, tmp_path: Path) -> None:
    with store.batch() as batch:
        oid = batch.add_bytes(b"new content")
    other = tmp_path / "other"
    other.write_bytes(b"old content")
    dest = tmp_path / "dest"
    os.link(other, dest)
    store.materialize(oid, dest, link="copy")
    assert dest.read_bytes() == b"new content"
    assert other.read_bytes() == b"old content"
    assert other.stat().st_nlink == 1


def test_materialize_links(store: ObjectStore, tmp_path: Path) -> None:
    with store.batch() as batch:
        oid = batch.add_bytes(b"linked")
    obj = store.object_path(oid)
    hard = tmp_path / "hard"
    store.materialize(oid, hard, link="hardlink", size=6)
    assert hard.stat().st_ino == obj.stat().st_ino
    sym = tmp_path / "sym"
    store.materialize(oid, sym, link="symlink")
    assert sym.is_symlink() and Path(os.readlink(sym)) == obj.absolute()
    with pytest.raises(SizeMismatchError):  # a wrong size is not corruption
        store.materialize(oid, tmp_path / "x", link="hardlink", size=7)
    assert not (tmp_path / "x").exists()
    assert store.has(oid)


def test_materialize_missing(store: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(ObjectMissingError):
        store.materialize(hash_bytes(b"nope"), tmp_path / "d", link="copy")
    with pytest.raises(UsageError):
        store.materialize(hash_bytes(b"nope"), tmp_path / "d", link="bogus")


def test_reflink_modes_on_this_filesystem(
    store: ObjectStore, make_file: MakeFile, tmp_path: Path
) -> None:
    data = os.urandom(BIG)
    src = make_file("big", data)
    with store.batch() as batch:
        oid, _ = batch.add_file(src, link="auto")  # clones if it can, else copies
    assert store.read_bytes(oid) == data
    dest = tmp_path / "out"
    store.materialize(oid, dest, link="auto")
    assert dest.read_bytes() == data
    try:
        store.materialize(oid, tmp_path / "strict", link="reflink")
    except ConfigError as exc:  # ext4, tmpfs...: no copy-on-write clones
        assert "reflink" in str(exc)
        assert not (tmp_path / "strict").exists()
    else:
        assert (tmp_path / "strict").read_bytes() == data


def test_hardlink_mode(store: ObjectStore, make_file: MakeFile) -> None:
    a = make_file("a", b"same bytes")
    b = make_file("b", b"same bytes")
    big_data = os.urandom(BIG)
    big = make_file("big", big_data, mode=0o755)
    with store.batch() as batch:
        oid, _ = batch.add_file(a, link="hardlink")
        assert batch.add_file(b, link="hardlink")[0] == oid
        big_oid, _ = batch.add_file(big, link="hardlink")
    obj = store.object_path(oid)
    for f in (a, b, obj):
        assert stat.S_IMODE(f.stat().st_mode) == 0o444
    assert a.stat().st_ino == b.stat().st_ino == obj.stat().st_ino
    assert big.stat().st_ino == store.object_path(big_oid).stat().st_ino
    assert store.read_bytes(big_oid) == big_data
    # adding again when the object exists: the workspace file becomes a link to it
    c = make_file("c", b"same bytes")
    with store.batch() as batch:
        batch.add_file(c, link="hardlink")
    assert c.stat().st_ino == obj.stat().st_ino and c.read_bytes() == b"same bytes"


def test_hardlink_falls_back_to_copy_across_filesystems(store: ObjectStore) -> None:
    if (
        not os.path.isdir("/dev/shm")
        or os.stat("/dev/shm").st_dev == os.stat(store.root.parent).st_dev
    ):
        pytest.skip("needs a second filesystem")
    path = Path("/dev/shm") / f"gitml-test-{os.getpid()}"
    path.write_bytes(b"elsewhere")
    try:
        with store.batch() as batch:
            oid, _ = batch.add_file(path, link="hardlink")
        assert store.read_bytes(oid) == b"elsewhere"
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # the user's file is left alone
    finally:
        path.unlink()


@pytest.mark.parametrize("size", [100, BIG])
def test_file_changed_while_reading(
    store: ObjectStore, make_file: MakeFile, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    src = make_file("f", os.urandom(size))
    real_read_exact, real_write_all = fsutil.read_exact, fsutil.write_all

    def append_to_source() -> None:
        with open(src, "ab") as fh:  # a real change: size and mtime move
            fh.write(b"more")
        monkeypatch.setattr(fsutil, "write_all", real_write_all)  # once is enough

    def read_then_change(fd: int, n: int) -> bytes:
        data = real_read_exact(fd, n)
        append_to_source()
        return data

    def write_then_change(fd: int, data: bytes) -> None:
        real_write_all(fd, data)
        append_to_source()

    monkeypatch.setattr(batch_mod, "read_exact", read_then_change)
    monkeypatch.setattr(fsutil, "write_all", write_then_change)
    with store.batch() as batch, pytest.raises(InputError, match="changed"):
        batch.add_file(src)
    assert list(store.iter_oids()) == []
    assert not (store.root / "tmp").exists() or os.listdir(store.root / "tmp") == []


def test_non_regular_files_refused_without_blocking(store: ObjectStore, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    target = tmp_path / "target"
    target.write_bytes(b"outside")
    link = tmp_path / "link"
    link.symlink_to(target)
    signal.alarm(10)
    try:
        with store.batch() as batch:
            with pytest.raises(InputError, match="FIFO"):
                batch.add_file(fifo)
            with pytest.raises(InputError, match="symlink"):
                batch.add_file(link)
            with pytest.raises(InputError, match="directory"):
                batch.add_file(tmp_path)
            with pytest.raises(InputError, match="does not exist"):
                batch.add_file(tmp_path / "missing")
    finally:
        signal.alarm(0)
    assert list(store.iter_oids()) == []


def test_exception_in_batch_cleans_up(store: ObjectStore, make_file: MakeFile) -> None:
    big = make_file("big", os.urandom(BIG), mode=0o640)
    small = make_file("small", b"x")
    with pytest.raises(RuntimeError), store.batch() as batch:
        oid, _ = batch.add_file(big, link="hardlink")
        batch.add_file(small)
        raise RuntimeError("boom")
    assert list(store.iter_oids()) == []  # pending objects dropped
    assert leftovers(store.root) == []
    assert stat.S_IMODE(big.stat().st_mode) == 0o640  # the user's file got its mode back
    assert not store.has(oid)


def test_damaged_existing_object_is_replaced(store: ObjectStore) -> None:
    """An object left short by a writer that died is fixed by the next writer."""
    data = b"complete object bytes"
    oid = hash_bytes(data)
    path = store.object_path(oid)
    path.parent.mkdir(parents=True)
    path.write_bytes(data[:5])
    os.chmod(path, 0o444)
    with store.batch() as batch:
        batch.add_bytes(data)
    assert store.read_bytes(oid) == data
    assert len(os.listdir(store.root / "quarantine")) == 1


def test_fanout_folders_created_when_needed(store: ObjectStore) -> None:
    one, two = hash_bytes(b"one"), hash_bytes(b"two")
    with store.batch() as batch:
        batch.add_bytes(b"one")
    assert [name for name in os.listdir(store.root) if len(name) == 2] == [one[:2]]
    store.remove(one)
    os.rmdir(store.root / one[:2])  # removed behind our back
    with store.batch() as batch:
        batch.add_bytes(b"one")
        batch.add_bytes(b"two")
    assert store.read_bytes(one) == b"one"
    assert store.read_bytes(two) == b"two"


def test_strict_reflink_add(store: ObjectStore, make_file: MakeFile) -> None:
    src = make_file("f", b"clone me")
    try:
        with store.batch() as batch:
            oid, _ = batch.add_file(src, link="reflink")
    except ConfigError as exc:  # no copy-on-write on this filesystem: a clear error
        assert "reflink" in str(exc) and exc.hint
        assert list(store.iter_oids()) == []
        assert os.listdir(store.root / "tmp") == []
    else:
        assert store.read_bytes(oid) == b"clone me"


def test_link_modes_match_config() -> None:
    from gitml.config import LINK_MODES as CONFIG_MODES
    from gitml.store.fsutil import LINK_MODES

    assert LINK_MODES == CONFIG_MODES
