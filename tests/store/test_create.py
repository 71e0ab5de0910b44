"""ObjectStore.create: new names only, verified, marked unfinished until whole;
ObjectStore.missing: the same answers as has(), listing or not."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gitml.errors import CorruptObjectError, SizeMismatchError, UsageError
from gitml.store.hashing import hash_bytes
from gitml.store.objects import ObjectStore

BIG = 3 << 20


def _dir(path: Path) -> int:
    path.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY)


@pytest.mark.parametrize("size", [0, 5000, BIG])
@pytest.mark.parametrize("link", ["copy", "auto"])
def test_create_writes_new_files(store: ObjectStore, tmp_path: Path, size: int, link: str) -> None:
    data = os.urandom(size)
    with store.batch() as batch:
        oid = batch.add_bytes(data)
    fd = _dir(tmp_path / "ws")
    try:
        st = store.create(oid, fd, "f.bin", link=link, executable=True, size=size)
        st2 = store.create(oid, fd, "g.bin", link=link, size=size)
    finally:
        os.close(fd)
    assert st is not None and st2 is not None
    assert (tmp_path / "ws/f.bin").read_bytes() == data
    assert stat.S_IMODE(os.stat(tmp_path / "ws/f.bin").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(tmp_path / "ws/g.bin").st_mode) == 0o644
    assert st.st_ino == os.stat(tmp_path / "ws/f.bin").st_ino
    if link == "auto" and size >= 1 << 20:
        assert store.reflink.works is not None  # tried once, remembered


def test_create_never_touches_an_existing_name(store: ObjectStore, tmp_path: Path) -> None:
    with store.batch() as batch:
        oid = batch.add_bytes(b"new")
    victim = tmp_path / "victim"
    victim.write_bytes(b"do not touch")
    ws = tmp_path / "ws"
    fd = _dir(ws)
    try:
        (ws / "file").write_bytes(b"old")
        os.symlink(victim, ws / "link")
        os.symlink(tmp_path / "nowhere", ws / "dangling")
        for link in ("copy", "hardlink", "symlink"):
            for name in ("file", "link", "dangling"):
                assert store.create(oid, fd, name, link=link) is None
        assert (ws / "file").read_bytes() == b"old"
        assert victim.read_bytes() == b"do not touch"
        assert not (tmp_path / "nowhere").exists()
        assert store.create(oid, fd, "link", link="copy", replace=True) is not None
    finally:
        os.close(fd)
    assert not (ws / "link").is_symlink() and (ws / "link").read_bytes() == b"new"
    assert victim.read_bytes() == b"do not touch"
    assert sorted(os.listdir(ws)) == ["dangling", "file", "link"]  # no temp files


@pytest.mark.parametrize("size", [100, BIG])
def test_create_from_a_corrupt_object_leaves_nothing(
    store: ObjectStore, tmp_path: Path, size: int
) -> None:
    data = os.urandom(size)
    with store.batch() as batch:
        oid = batch.add_bytes(data)
    obj = store.object_path(oid)
    obj.chmod(0o644)
    with open(obj, "r+b") as fh:
        fh.seek(size // 2)
        fh.write(b"\0" if data[size // 2] else b"\1")
    fd = _dir(tmp_path / "ws")
    try:
        with pytest.raises(CorruptObjectError, match=oid):
            store.create(oid, fd, "f.bin", link="copy", size=size)
    finally:
        os.close(fd)
    assert os.listdir(tmp_path / "ws") == []
    assert not store.has(oid)  # quarantined


def test_create_links(store: ObjectStore, tmp_path: Path) -> None:
    with store.batch() as batch:
        oid = batch.add_bytes(b"linked")
    fd = _dir(tmp_path / "ws")
    try:
        hard = store.create(oid, fd, "hard", link="hardlink", size=6)
        sym = store.create(oid, fd, "sym", link="symlink", size=6)
        assert hard is not None and hard.st_ino == store.object_path(oid).stat().st_ino
        assert sym is not None and stat.S_ISLNK(sym.st_mode)
        assert (tmp_path / "ws/sym").read_bytes() == b"linked"
        with pytest.raises(SizeMismatchError):  # the size disagrees, the bytes match
            store.create(oid, fd, "bad", link="hardlink", size=7)
    finally:
        os.close(fd)
    assert not (tmp_path / "ws/bad").exists()
    assert store.has(oid)  # a good object is never quarantined for a wrong record


@pytest.mark.parametrize("count", [3, 400])  # a stat each / one listing per folder
def test_missing_agrees_with_has(store: ObjectStore, count: int) -> None:
    with store.batch() as batch:
        present = [batch.add_bytes(b"%d" % i) for i in range(count)]
    absent = [hash_bytes(b"absent %d" % i) for i in range(count)]
    asked = [oid for pair in zip(absent, present, strict=True) for oid in pair]
    assert store.missing(asked) == absent
    assert store.missing(present) == []
    with store.batch() as batch:
        held = batch.add_bytes(b"held by an open batch")
        assert store.missing([held, absent[0]]) == [absent[0]]
    with pytest.raises(UsageError):
        store.missing(["not-an-oid"])
