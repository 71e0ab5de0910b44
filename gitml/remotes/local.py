"""The folder backend: local disk, NFS, a mounted share.

Objects are written to a temp file beside their final name. A big object from the
cache is copied by the kernel (``copy_file_range``) while BLAKE3 hashes the pages
that landed (``store.bulk.copy_pipelined``, as ``gitml add`` does), and the worker
fsyncs it. :meth:`LocalBackend.flush` makes the other temp files durable (an fsync
each for up to ``FSYNC_MAX``, else one ``syncfs`` of the remote's filesystem: never
``os.sync()``, which waits for every dirty page of the machine), renames every
finished temp file and then fsyncs the folders that changed (or syncs the filesystem
again), so an object never has its final name before its bytes are on disk and
``flush`` returning means the names are durable too (see backends.py).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator

from gitml.faults import fault_point
from gitml.remotes.backends import Backend, KeyTime, Reader, Writer, temp_key
from gitml.store.bulk import copy_pipelined, fsync_path, syncfs
from gitml.store.hashing import new_hasher

FSYNC_MAX = 16  # up to this many files (or folders) per flush: fsync each, else syncfs
_CREATE_RW = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class _LocalWriter:
    def __init__(self, backend: LocalBackend, key: str) -> None:
        self._backend = backend
        self._key = key
        self._tmp = backend._temp_path(key)
        self._fh = open(self._tmp, "xb")  # noqa: SIM115 - closed in commit/abort

    def write(self, data: bytes) -> None:
        self._fh.write(data)

    def commit(self) -> None:
        self._fh.close()
        self._backend._pending_add(self._tmp, self._backend.path(self._key))

    def abort(self) -> None:
        self._fh.close()
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)


class _FileReader:
    def __init__(self, path: str) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.size: int | None = os.fstat(self._fh.fileno()).st_size

    def read(self, n: int = -1) -> bytes:
        return self._fh.read(n)

    def close(self) -> None:
        self._fh.close()


class LocalBackend(Backend):
    """A plain folder (local disk, NFS, a mounted share)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.display = root
        self._lock = threading.Lock()
        self._pending: list[tuple[str, str, bool]] = []  # (temp, final, already fsync'd)
        self._made: set[str] = set()
        self._new_dirs: set[str] = set()  # folders whose entries changed by a makedirs

    def path(self, key: str) -> str:
        return os.path.join(self.root, key)

    def _temp_path(self, key: str) -> str:
        final = self.path(key)
        parent = os.path.dirname(final)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            with self._lock:
                self._made.add(parent)
                # the folders above it may have got a new entry: fsync'd at flush
                up, top = os.path.dirname(parent), len(os.path.normpath(self.root))
                while len(up) >= top and up not in self._new_dirs:
                    self._new_dirs.add(up)
                    up = os.path.dirname(up)
        return self.path(temp_key(key))

    def _pending_add(self, tmp: str, final: str, durable: bool = False) -> None:
        with self._lock:
            self._pending.append((tmp, final, durable))

    def list_keys(self, prefix: str) -> Iterator[str]:
        top = self.path(prefix)

        def onerror(err: OSError) -> None:  # a missing folder is empty; anything else is not
            if not isinstance(err, FileNotFoundError):
                raise err

        for dirpath, dirnames, filenames in os.walk(top, onerror=onerror):
            dirnames.sort()
            rel = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            for name in filenames:
                if not name.startswith("."):
                    yield f"{rel}/{name}"

    def list_times(self, prefix: str) -> Iterator[KeyTime]:
        for key in self.list_keys(prefix):
            try:
                st = os.stat(self.path(key))
            except FileNotFoundError:
                continue
            yield key, st.st_size, st.st_mtime

    def size(self, key: str) -> int | None:
        try:
            return os.stat(self.path(key)).st_size
        except FileNotFoundError:
            return None

    def put_bytes(self, key: str, data: bytes) -> None:
        tmp = self._temp_path(key)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        os.close(fd)
        self._pending_add(tmp, self.path(key))

    def open_writer(self, key: str) -> Writer:
        return _LocalWriter(self, key)

    def put_file(self, key: str, src_fd: int, size: int, oid: str) -> bool:
        """A kernel copy into the temp file, hashed back from the bytes that landed
        (BLAKE3's threads, overlapped with the copy), then fsync'd here on the worker
        thread, so :meth:`flush` has only the rename and the folders left."""
        tmp = self._temp_path(key)
        what = f"{key} in {self.display}"
        fd = os.open(tmp, _CREATE_RW, 0o444)  # read-write: the copy is hashed back from it
        try:
            hasher = new_hasher(size)
            got = copy_pipelined(src_fd, fd, hasher, f"cache object {oid}", what, size + 1)
            ok = got == size and hasher.hexdigest() == oid
            if ok:
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        os.close(fd)
        if not ok:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return False
        self._pending_add(tmp, self.path(key), durable=True)
        return True

    def open_reader(self, key: str) -> Reader:
        return _FileReader(self.path(key))

    def get_range(self, key: str, start: int, length: int) -> bytes:
        fd = os.open(self.path(key), os.O_RDONLY | os.O_CLOEXEC)
        try:
            parts: list[bytes] = []
            got = 0
            while got < length:
                chunk = os.pread(fd, length - got, start + got)
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
            return b"".join(parts)
        finally:
            os.close(fd)

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path(key))

    def cleanup(self, prefix: str, older_than: float) -> int:
        cutoff = time.time() - older_than
        removed = 0
        for dirpath, _dirs, filenames in os.walk(self.path(prefix)):
            for name in filenames:
                if not (name.startswith(".") and name.endswith(".tmp")):
                    continue
                path = os.path.join(dirpath, name)
                with contextlib.suppress(FileNotFoundError):
                    if os.lstat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
        return removed

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            new_dirs, self._new_dirs = self._new_dirs, set()
        if not pending:
            return
        # the bytes of every temp file are on disk before any gets its name
        unsynced = [tmp for tmp, _final, durable in pending if not durable]
        if len(unsynced) > FSYNC_MAX:
            syncfs(self.root, what=f"the remote {self.display}")
        else:
            for tmp in unsynced:
                fsync_path(tmp)
        folders = set(new_dirs)
        for tmp, final, _durable in pending:
            fault_point("remote.local.before-rename")
            os.replace(tmp, final)
            folders.add(os.path.dirname(final))
        # and the names are durable before we report success
        if len(folders) > FSYNC_MAX:
            syncfs(self.root, what=f"the remote {self.display}")
            return
        for folder in sorted(folders, key=len, reverse=True):  # deepest first
            fsync_path(folder, directory=True)
