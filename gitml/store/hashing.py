"""Object identity: BLAKE3-256 as 64 lowercase hex characters.

BLAKE3 is ~3x faster than MD5 (DVC) on one core and scales over cores for big
inputs, so hashing is rarely the bottleneck. Files are hashed in bounded
memory: 1 MiB chunks, or a memory map with BLAKE3's own threads for files of
8 MiB and more (the kernel pages the file in; nothing is copied into Python).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

import blake3

from gitml.errors import InputError

OID_RE: re.Pattern[str] = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 20
MMAP_THRESHOLD = 8 << 20
_HEX_CHARS = frozenset("0123456789abcdef")


def is_oid(text: object) -> bool:
    """True if ``text`` is a well-formed object id (64 lowercase hex chars)."""
    return isinstance(text, str) and len(text) == 64 and _HEX_CHARS.issuperset(text)


def hash_bytes(data: bytes) -> str:
    """The oid of ``data``."""
    return str(blake3.blake3(data).hexdigest())


def new_hasher(size: int) -> blake3.blake3:
    """A hasher; multi-threaded when ``size`` is big enough for threads to pay off."""
    if size >= MMAP_THRESHOLD:
        return blake3.blake3(max_threads=blake3.blake3.AUTO)
    return blake3.blake3()


def _stat_key(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def hash_file(path: Path | str) -> tuple[str, int]:
    """Return ``(oid, size)`` of the file at ``path``, never holding it in memory.

    Raises :class:`InputError` if the file is not a regular file or if it
    changed while it was read (so no hash is ever returned for bytes that did
    not exist together at one moment).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{path} is a symlink", "gitml does not follow symlinks") from None
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise InputError(f"{path} is not a regular file", "gitml only hashes regular files")
        if before.st_size >= MMAP_THRESHOLD:
            hasher = new_hasher(before.st_size)
            hasher.update_mmap(f"/proc/self/fd/{fd}" if _HAS_PROC_FD else path)
            size = before.st_size
        else:
            hasher = blake3.blake3()
            size = 0
            while True:
                chunk = os.read(fd, CHUNK)
                if not chunk:
                    break
                hasher.update(chunk)
                size += len(chunk)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    if _stat_key(before) != _stat_key(after) or size != after.st_size:
        raise InputError(f"{path} changed while it was being hashed", "run the command again")
    return str(hasher.hexdigest()), size


_HAS_PROC_FD = os.path.isdir("/proc/self/fd")
