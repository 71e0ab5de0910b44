"""Journal-free writes for tiny batches: an object is durable before it has a name.

The object is written as an unnamed file in its fan-out folder (``O_TMPFILE``),
fsynced, and only then linked to its final name; then the folder is fsynced.
A crash at any point leaves either no name at all (the filesystem frees the
unnamed inode; there is no temp file to clean up) or a complete, durable
object. Two fsyncs per object: cheaper than a journal (three fsyncs) plus a
sync of the whole filesystem when a batch holds one small object, such as
the manifest written after an add's files.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import TYPE_CHECKING

from gitml.errors import ObjectMissingError
from gitml.faults import fault_point
from gitml.store.bulk import fsync_path
from gitml.store.fsutil import layout_error, write_all, write_error

if TYPE_CHECKING:
    from gitml.store.objects import ObjectStore

SUPPORTED = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")
_TMPFILE = getattr(os, "O_TMPFILE", 0) | os.O_WRONLY | os.O_CLOEXEC
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
# linkat of /proc/self/fd/N refused (no /proc, sandboxes that mount it apart,
# filesystems that cannot): the caller falls back to the journal.
_LINK_REFUSED = frozenset(
    {errno.EXDEV, errno.ENOENT, errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP}
)
_NO_TMPFILE = frozenset({errno.EOPNOTSUPP, errno.ENOTSUP, errno.EISDIR, errno.EINVAL})


def put(store: ObjectStore, oid: str, data: bytes, mode: int = 0o444) -> bool:
    """Make ``data`` (which hashes to ``oid``) the durable object ``oid``.

    An existing good object is kept (and fsynced: it may come from a batch
    that has not synced yet); a damaged one is quarantined and replaced.
    False if this filesystem has no unnamed files: nothing was done.
    """
    path = store.path_of(oid)
    folder, name = os.path.split(path)
    made = False
    while True:
        try:
            dir_fd = os.open(folder, _DIR)
            break
        except FileNotFoundError:
            try:
                os.makedirs(folder, exist_ok=True)
            except FileExistsError:
                raise layout_error(folder) from None
            made = True
        except NotADirectoryError:  # a file where the fan-out folder goes
            raise layout_error(folder) from None
    try:
        if not _link_unnamed(store, oid, path, dir_fd, name, data, mode):
            return False
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    if made:
        fsync_path(store.root, directory=True)
    return True


def _link_unnamed(
    store: ObjectStore, oid: str, path: str, dir_fd: int, name: str, data: bytes, mode: int
) -> bool:
    what = f"object {oid} into {store.root}"
    for _ in range(3):
        if _durable_existing(store, oid, path, len(data)):
            return True
        try:
            fd = os.open(".", _TMPFILE, mode, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno in _NO_TMPFILE:
                return False
            raise write_error(what, exc) from None
        try:
            write_all(fd, data)
            os.fsync(fd)
            fault_point("store.direct-before-link")
            # dst_dir_fd makes CPython call linkat(AT_SYMLINK_FOLLOW): the
            # /proc link is followed to the unnamed file, not linked itself.
            os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dir_fd, follow_symlinks=True)
        except FileExistsError:
            continue  # another writer named it first: check theirs
        except OSError as exc:
            if exc.errno in _LINK_REFUSED:
                return False  # the unnamed file vanishes with its fd: use the journal
            raise write_error(what, exc) from None
        finally:
            os.close(fd)
        fault_point("store.direct-after-link")
        return True
    raise write_error(what, OSError(errno.EEXIST, "it kept being replaced"))


def _durable_existing(store: ObjectStore, oid: str, path: str, size: int) -> bool:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if not (stat.S_ISREG(st.st_mode) and st.st_size == size and not st.st_mode & 0o222):
        try:  # damaged, or a live batch is mid-write: our complete copy wins
            if not store.verify(oid):
                store.quarantine(oid)
                return False
        except ObjectMissingError:
            return False
    try:
        fsync_path(path)
    except FileNotFoundError:  # quarantined meanwhile by another process
        return False
    return True
