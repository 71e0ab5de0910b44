"""Bulk I/O of the ingest path: big copies hashed as they land, and durable points.

Measured on the reference machine (docs/PERFORMANCE.md): copying 1 MiB at a
time through Python with a one-thread hash cost 1.6x ``cp -r``; a kernel copy
(``copy_file_range``) overlapped with a multi-threaded hash of the copied pages
is as fast as ``cp``. ``syncfs`` flushes only the cache's filesystem where
``os.sync`` flushes every one (and every other program's pending writes).
"""

from __future__ import annotations

import errno
import functools
import mmap
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import cast

from gitml.errors import InputError
from gitml.store.fsutil import COPY_RANGE_REFUSED, Hasher, copy_hashing, write_error

PIPE_CHUNK = 32 << 20  # copy_file_range step of copy_pipelined
_DEST_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def copy_pipelined(
    src_fd: int, dst_fd: int, hasher: Hasher, src: object, what: str, limit: int
) -> int:
    """Copy ``src_fd`` to ``dst_fd`` (opened read-write) and hash what *landed*; return the size.

    A helper thread copies 32 MiB steps inside the kernel (``copy_file_range``:
    no trip through Python's memory) while this thread hashes each finished
    step back from the destination's pages with BLAKE3's threads, so the hash
    is of the bytes the object holds and copying overlaps hashing. Falls back
    to :func:`copy_hashing` where the kernel cannot copy between these files.
    Same ``limit``, errors and return value as :func:`copy_hashing`.
    """
    steps: queue.SimpleQueue[tuple[int, int] | BaseException | None] = queue.SimpleQueue()
    stop = threading.Event()

    def copier() -> None:
        done = 0
        try:
            while done < limit and not stop.is_set():
                n = os.copy_file_range(src_fd, dst_fd, min(PIPE_CHUNK, limit - done))
                if not n:
                    if not done and limit > 1:  # some filesystems copy nothing, silently
                        raise OSError(errno.EOPNOTSUPP, "copy_file_range copied nothing")
                    break
                steps.put((done, n))
                done += n
        except BaseException as exc:  # handed to the hashing thread, which raises it
            steps.put(exc)
        steps.put(None)

    thread = threading.Thread(target=copier, name="gitml-copy", daemon=True)
    thread.start()
    size = 0
    try:
        while (step := steps.get()) is not None:
            if isinstance(step, OSError):
                if size == 0 and step.errno in COPY_RANGE_REFUSED:  # nothing was copied
                    thread.join()
                    return copy_hashing(src_fd, dst_fd, hasher, src, what, limit)
                if step.errno in _DEST_ERRNOS:
                    raise write_error(what, step) from None
                raise InputError(f"cannot copy {src}: {step.strerror}") from None
            if isinstance(step, BaseException):
                raise step
            off, n = step
            _hash_range(dst_fd, hasher, off, n)
            size = off + n
    finally:
        stop.set()
        thread.join()  # never close a descriptor the copier may still be using
    return size


def _hash_range(fd: int, hasher: Hasher, off: int, n: int) -> None:
    start = off - off % mmap.ALLOCATIONGRANULARITY
    with (
        mmap.mmap(fd, off + n - start, offset=start, access=mmap.ACCESS_READ) as mm,
        memoryview(mm) as view,
    ):
        hasher.update(view[off - start :])


def syncfs(path: str | Path, *, what: str | None = None) -> None:
    """Make everything written on the filesystem holding ``path`` durable.

    ``syncfs(2)`` flushes that one filesystem (``os.sync`` flushes them all,
    including other programs' unrelated writes); ``os.sync`` where it is
    missing. ``what`` names the folder in the error (default: the cache at
    ``path``). A write-back error (EIO, ENOSPC) raises: the caller's intent
    journal must then stay, so a later recover() re-checks its objects.
    """
    fn = _libc_syncfs()
    if fn is None:
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if fn(fd) != 0:
            import ctypes

            err = ctypes.get_errno()
            if err == errno.ENOSYS:
                os.sync()
                return
            where = what or f"the cache {path}"
            raise write_error(f"{where} to disk", OSError(err, os.strerror(err)))
    finally:
        os.close(fd)


@functools.cache
def _libc_syncfs() -> Callable[[int], int] | None:
    import ctypes  # here: ~5 ms of import that only a writing command needs

    try:
        fn = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return cast("Callable[[int], int]", fn)


def fsync_path(path: str | Path, *, directory: bool = False) -> None:
    """fsync the file or folder at ``path`` (opened read-only, never following a symlink)."""
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | (os.O_DIRECTORY if directory else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
