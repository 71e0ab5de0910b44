"""Low-level file helpers shared by the object store.

Kept apart from the store logic so each piece stays small and testable:
opening untrusted input files without ever blocking on a FIFO or following
a symlink, exact reads and writes, reflink (FICLONE) and link-then-rename.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from pathlib import Path
from typing import NamedTuple, Protocol

from gitml.errors import DamagedStateError, GitmlError, InputError
from gitml.store.durable import tmp_name

# Same as gitml.config.LINK_MODES (a test keeps them equal); not imported from
# there because config pulls in tomllib, which the store does not need.
LINK_MODES = ("auto", "reflink", "hardlink", "symlink", "copy")
FICLONE = 0x40049409
# errnos meaning "this kind of link/clone is not possible here": fall back to a copy.
LINK_FALLBACK = frozenset(
    {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES}
)
REFLINK_UNSUPPORTED = frozenset(
    {errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOTTY, errno.EPERM}
)
# copy_file_range refusals meaning "copy by hand" (old kernels, other filesystems)
COPY_RANGE_REFUSED = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM}
)
CHUNK = 1 << 20
_OPEN_INPUT = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class StatLike(Protocol):
    """The fields of an ``lstat`` the store compares: an ``os.stat_result``, or the
    compact record a directory walk keeps instead (see :class:`LStat`)."""

    @property
    def st_mode(self) -> int: ...
    @property
    def st_ino(self) -> int: ...
    @property
    def st_dev(self) -> int: ...
    @property
    def st_size(self) -> int: ...
    @property
    def st_mtime_ns(self) -> int: ...


class LStat(NamedTuple):
    """An ``lstat`` reduced to what :class:`StatLike` names (a walk of 100,000 files
    keeps tuples: a full ``os.stat_result`` with its float times is ~700 bytes)."""

    st_mode: int
    st_ino: int
    st_dev: int
    st_size: int
    st_mtime_ns: int


def stat_key(st: StatLike) -> tuple[int, int, int, int]:
    """What must stay equal for a file to count as unchanged."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symlink"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device or special file"


def open_input(path: str | Path, st: StatLike | None = None) -> tuple[int, StatLike]:
    """Open a user's file for reading; return ``(fd, lstat)``.

    ``lstat`` first (or the caller's fresh ``st`` from its directory walk), so
    a FIFO, socket, device or symlink is refused before it is ever opened; the
    open itself uses O_NOFOLLOW|O_NONBLOCK and the descriptor is checked with
    ``fstat`` in case the name was swapped in between. Reading a FIFO would
    block forever (a DVC failure mode).
    """
    if st is None:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            raise InputError(f"{path} does not exist") from None
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            f"{path} is {_kind(st.st_mode)}, not a regular file", "gitml stores regular files only"
        )
    try:
        fd = os.open(path, _OPEN_INPUT)
    except FileNotFoundError:
        raise changed_error(path) from None  # it was there when the caller looked
    except OSError as exc:
        raise InputError(f"cannot open {path}: {exc.strerror}") from None
    try:
        fst = os.fstat(fd)
    except BaseException:
        os.close(fd)
        raise
    if not stat.S_ISREG(fst.st_mode) or (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
        os.close(fd)
        raise InputError(f"{path} was replaced while gitml opened it", "run the command again")
    return fd, st


def changed_error(path: str | Path) -> InputError:
    return InputError(f"{path} changed while gitml was reading it", "run the command again")


def read_exact(fd: int, size: int) -> bytes:
    """Read up to ``size`` bytes (fewer only at end of file)."""
    data = os.read(fd, size) if size else b""
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        chunk = os.read(fd, size - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def write_all(fd: int, data: bytes | memoryview) -> None:
    """``os.write`` until every byte is written."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> object: ...


def copy_hashing(
    src_fd: int, dst_fd: int, hasher: Hasher, src: object, what: str, limit: int
) -> int:
    """Copy ``src_fd`` to ``dst_fd`` in 1 MiB chunks, hashing each; return the size.

    Stops after ``limit`` bytes, so a file that keeps growing (a live log) is
    not copied forever: pass the expected size + 1 and compare. A failed read
    is the input's fault (InputError), a failed write the destination's
    (disk full...): each gets its own clean message.
    """
    size = 0
    while size < limit:
        try:
            chunk = os.read(src_fd, min(CHUNK, limit - size))
        except OSError as exc:
            raise InputError(f"cannot read {src}: {exc.strerror}") from None
        if not chunk:
            return size
        hasher.update(chunk)
        try:
            write_all(dst_fd, chunk)
        except OSError as exc:
            raise write_error(what, exc) from None
        size += len(chunk)
    return size


def try_reflink(src_fd: int, dst_fd: int) -> bool:
    """Clone ``src_fd`` into ``dst_fd`` (copy-on-write); False if the filesystem cannot."""
    try:
        fcntl.ioctl(dst_fd, FICLONE, src_fd)
    except OSError as exc:
        if exc.errno in REFLINK_UNSUPPORTED:
            return False
        raise
    return True


def unlink_quiet(path: Path | str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def replace_with_link(target: Path | str, dest: Path) -> None:
    """Make ``dest`` a hard link to ``target`` via temp + rename (never writes through dest)."""
    tmp = tmp_name(dest)
    os.link(target, tmp)
    try:
        os.replace(tmp, dest)
    except BaseException:
        unlink_quiet(tmp)
        raise


def replace_with_symlink(target: Path | str, dest: Path) -> None:
    """Make ``dest`` a symlink to ``target`` via temp + rename."""
    tmp = tmp_name(dest)
    os.symlink(target, tmp)
    try:
        os.replace(tmp, dest)
    except BaseException:
        unlink_quiet(tmp)
        raise


def write_error(what: str, exc: OSError) -> GitmlError:
    """A clean error for a failed write (disk full, read-only filesystem...)."""
    hint = None
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):  # full disk, quota, file size limit
        hint = "free some disk space and run the command again"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "check the permissions of the folder"
    return GitmlError(f"cannot write {what}: {exc.strerror or exc}", hint)


def layout_error(folder: str | Path) -> DamagedStateError:
    """A folder of the cache (a fan-out folder ``<2 hex>``, ``tmp``...) that is
    not a folder: say which, and how to get going again without losing it."""
    return DamagedStateError(
        f"the cache folder {folder} is not a folder (something else is in its place)",
        f"move it out of the cache (mv {folder} {folder}.damaged), then gitml fsck",
    )
