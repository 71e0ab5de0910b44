"""Copying a cache object into a workspace file, verified on the way.

Every byte that enters the workspace is checked against its object id, as
cheaply as the size allows:

- small objects (< 1 MiB) are read whole, hashed, and written only if they
  match, so a corrupt object never produces a file;
- larger ones are copied in chunks of up to 8 MiB through one reused
  buffer, each chunk hashed (BLAKE3's threads from 8 MiB up; the GIL is
  released) before it is written, so each byte is read once and the bytes
  checked are exactly the bytes written. The file being written keeps mode
  000 until the whole object matched (see ``create_file``). On a machine
  whose disk is the bottleneck the writes wait for writeback anyway; the
  hashing fits in those waits when checkout writes two files at a time.
- a reflink (FICLONE) clone is hashed through a memory map of the clone.
  Whether the filesystem can clone at all is remembered after the first
  refusal (``ReflinkMemo``), so ``link = auto`` on ext4 costs one failed
  ioctl per run, not one per file.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gitml.errors import ConfigError, SizeMismatchError
from gitml.faults import fault_point
from gitml.store import chunkread
from gitml.store.chunks import ChunkList
from gitml.store.durable import tmp_name
from gitml.store.fsutil import (
    COPY_RANGE_REFUSED,
    LINK_FALLBACK,
    read_exact,
    try_reflink,
    write_all,
    write_error,
)
from gitml.store.hashing import CHUNK, new_hasher

if TYPE_CHECKING:
    from gitml.store.objects import ObjectStore

# read-write: a reflink clone is verified by hashing it through mmap
_CREATE_RW = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

_BIG_CHUNK = 8 << 20
_MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)


class ReflinkMemo:
    """Whether FICLONE is worth trying: None = not known yet."""

    __slots__ = ("works",)

    def __init__(self) -> None:
        self.works: bool | None = None


def read_verified(fd_in: int, size: int, oid: str) -> bytes | None:
    """The object's bytes if they hash to ``oid`` and are exactly ``size`` long, else None."""
    data = read_exact(fd_in, size + 1)
    if len(data) != size:
        return None
    hasher = new_hasher(size)
    hasher.update(data)
    return data if hasher.hexdigest() == oid else None


def hash_fd(fd: int, size: int) -> str:
    """BLAKE3 of the first ``size`` bytes of ``fd`` (opened for reading), via mmap
    (prefaulted in one go where the platform can: ~10% less than page faults)."""
    hasher = new_hasher(size)
    if size:
        with mmap.mmap(fd, size, flags=_MAP_FLAGS, prot=mmap.PROT_READ) as mm:
            hasher.update(memoryview(mm))
    return str(hasher.hexdigest())


def copy_hashed(oid: str, fd_in: int, fd_out: int, size: int) -> bool:
    """Copy ``size`` bytes in the kernel while another thread hashes the object
    through a memory map (BLAKE3 threads from 8 MiB; both release the GIL), so
    the copy costs no trip through Python and the hash no read. True if the
    object hashes to ``oid``."""
    digest: list[str] = []
    failure: list[BaseException] = []

    def verify() -> None:
        try:
            digest.append(hash_fd(fd_in, size))
        except BaseException as exc:  # re-raised by the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=verify, name="gitml-verify", daemon=True)
    worker.start()
    try:
        kernel_copy(fd_in, fd_out, size, f"object {oid}")
    finally:
        worker.join()
    if failure:
        raise failure[0]
    return digest[0] == oid


def kernel_copy(fd_in: int, fd_out: int, size: int, what: str) -> None:
    """Copy ``size`` bytes from ``fd_in`` to ``fd_out`` (both at offset 0):
    ``os.copy_file_range`` where the kernel can, else through one buffer."""
    done = 0
    while done < size:
        try:
            n = os.copy_file_range(fd_in, fd_out, size - done)
        except OSError as exc:
            if done == 0 and exc.errno in COPY_RANGE_REFUSED:
                break
            raise
        if n == 0:
            raise OSError(errno.EIO, f"{what} is shorter than its recorded size")
        done += n
    if done < size:
        view = memoryview(bytearray(min(size - done, _BIG_CHUNK)))
        while done < size:
            n = os.readv(fd_in, [view[: size - done]])
            if n == 0:
                raise OSError(errno.EIO, f"{what} is shorter than its recorded size")
            write_all(fd_out, view[:n])
            done += n


def copy_verified(
    oid: str,
    fd_in: int,
    fd_out: int,
    size: int,
    *,
    link: str,
    memo: ReflinkMemo,
    where: str,
    data: bytes | None = None,
) -> bool:
    """Fill the empty ``fd_out`` (opened read-write) with object ``oid``; True if it matches.

    ``data``: the object's bytes already read and verified by
    :func:`read_verified` (small objects), written as they are. ``where``
    names the cache in the error raised when ``link = reflink`` cannot clone.
    """
    if data is not None:
        write_all(fd_out, data)
        return True
    if link in ("reflink", "auto") and size:
        if memo.works is not False:
            if try_reflink(fd_in, fd_out):
                memo.works = True
                return hash_fd(fd_out, size) == oid
            memo.works = False
        if link == "reflink":
            raise ConfigError(
                f"the filesystem of {where} cannot reflink (copy-on-write clone)",
                "gitml config set --local cache.link auto",
            )
    if size < CHUNK:
        small = read_verified(fd_in, size, oid)
        if small is None:
            return False
        write_all(fd_out, small)
        return True
    return copy_hashed(oid, fd_in, fd_out, size)


def _fill(
    store: ObjectStore,
    oid: str,
    fd_in: int,
    fd_out: int,
    size: int,
    link: str,
    what: str,
    data: bytes | None,
) -> None:
    """Copy the object into the empty ``fd_out``; a mismatch quarantines it and raises."""
    try:
        ok = copy_verified(
            oid,
            fd_in,
            fd_out,
            size,
            link=link,
            memo=store.reflink,
            where=str(store.root),
            data=data,
        )
    except OSError as exc:
        raise write_error(what, exc) from None
    if not ok:
        raise store._corrupt(oid)


def _read_small(store: ObjectStore, oid: str, fd_in: int, size: int, link: str) -> bytes | None:
    """Small objects are read and verified before any file is created (a clone
    of a few KiB saves nothing, so ``auto`` copies them)."""
    if size >= CHUNK or link == "reflink":
        return None
    data = read_verified(fd_in, size, oid)
    if data is None:
        raise store._corrupt(oid)
    return data


def create_file(
    store: ObjectStore,
    oid: str,
    dir_fd: int,
    name: str,
    link: str,
    executable: bool,
    size: int | None,
    what: str,
    *,
    replace: bool = False,
) -> os.stat_result | None:
    """ObjectStore.create: the new file ``name`` in ``dir_fd`` (None if it exists), or
    with ``replace`` a temp file beside it renamed over whatever is there."""
    target = tmp_name(Path(name)).name if replace else name
    clist = store.chunk_list(oid, what)
    if clist is not None:  # always a copy: a link needs the whole object (ARCHITECTURE.md)
        return _create_chunked(store, clist, dir_fd, name, target, executable, size, what, replace)
    if link in ("hardlink", "symlink"):
        store.check_for_link(oid, size)
        src = store.path_of(oid)
        try:
            if link == "symlink":
                os.symlink(os.path.abspath(src), target, dir_fd=dir_fd)
            else:
                os.link(src, target, dst_dir_fd=dir_fd)
            return _finish(dir_fd, target, name, None) if replace else _lstat(dir_fd, name)
        except FileExistsError:
            if replace:
                raise
            return None
        except OSError as exc:
            if link == "symlink" or exc.errno not in LINK_FALLBACK:
                raise write_error(what, exc) from None
        link = "copy"
    fd_in, st = store._open(oid)
    try:
        if size is not None and st.st_size != size:
            raise store.wrong_size(oid, st.st_size, size)  # quarantined only if corrupt
        data = _read_small(store, oid, fd_in, st.st_size, link)  # corrupt: nothing created

        def fill(fd_out: int) -> None:
            _fill(store, oid, fd_in, fd_out, st.st_size, link, what, data)

        return _write_new(dir_fd, name, target, executable, what, replace, fill)
    finally:
        os.close(fd_in)


def _write_new(
    dir_fd: int,
    name: str,
    target: str,
    executable: bool,
    what: str,
    replace: bool,
    fill: Callable[[int], None],
) -> os.stat_result | None:
    """Create ``target`` (mode 000), let ``fill`` write and verify its bytes, then
    give it its mode (the mark of a finished file) and, with ``replace``, rename it
    over ``name``. Removed on any failure; None if it exists (and not ``replace``)."""
    try:
        fd_out = os.open(target, _CREATE_RW, 0, dir_fd=dir_fd)
    except FileExistsError:
        if replace:
            raise
        return None
    except OSError as exc:
        raise write_error(what, exc) from None
    try:
        fault_point("checkout.file-created")
        fill(fd_out)
        fault_point("checkout.file-filled")
        os.fchmod(fd_out, 0o755 if executable else 0o644)
        return _finish(dir_fd, target, name, fd_out) if replace else os.fstat(fd_out)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(target, dir_fd=dir_fd)
        if isinstance(exc, OSError):
            raise write_error(what, exc) from None
        raise
    finally:
        os.close(fd_out)


def _create_chunked(
    store: ObjectStore,
    clist: ChunkList,
    dir_fd: int,
    name: str,
    target: str,
    executable: bool,
    size: int | None,
    what: str,
    replace: bool,
) -> os.stat_result | None:
    """create_file for a chunked object: the chunks are written in order, each
    verified, the whole-file hash checked at the end; the file keeps mode 000
    (or its temp name) until then, and is removed on any failure."""
    if size is not None and clist.size != size:
        raise SizeMismatchError(
            f"object {clist.file_oid} has {clist.size} bytes, not the {size} recorded for it",
            "the record (pointer or manifest) is wrong, the object is intact",
            actual=clist.size,
            expected=size,
        )

    def fill(fd_out: int) -> None:
        hasher = new_hasher(0)
        for data in chunkread.iter_chunks(store, clist, what):
            hasher.update(data)
            write_all(fd_out, data)
        got = str(hasher.hexdigest())
        if got != clist.file_oid:
            raise chunkread.rebuild_error(clist, got, what)

    return _write_new(dir_fd, name, target, executable, what, replace, fill)


def _lstat(dir_fd: int, name: str) -> os.stat_result:
    return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)


def _finish(dir_fd: int, tmp: str, name: str, fd: int | None) -> os.stat_result:
    """Rename the finished temp file over ``name`` (replacing, never following, a link)."""
    try:
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        unlink_quiet_at(dir_fd, tmp)
        raise
    return os.fstat(fd) if fd is not None else _lstat(dir_fd, name)


def unlink_quiet_at(dir_fd: int, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=dir_fd)


def materialize_path(
    store: ObjectStore, oid: str, dest: Path, link: str, executable: bool, size: int | None
) -> None:
    """ObjectStore.materialize: ``create_file(replace=True)`` in dest's folder."""
    try:
        dir_fd = os.open(dest.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise write_error(str(dest), exc) from None
    try:
        create_file(store, oid, dir_fd, dest.name, link, executable, size, str(dest), replace=True)
    finally:
        os.close(dir_fd)
