"""Upload workers: read + hash each cache object once, send only verified bytes.

A big object goes to a backend that can copy it itself (a folder remote: kernel copy,
the bytes written hashed as they land) that way, else it is streamed: read in chunks,
hashed, written; either way the backend keeps it only if the hash is the object id.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gitml.errors import RemoteError
from gitml.faults import fault_point
from gitml.remotes.remote import GIVE_UP_AFTER, LocalCorruptError, describe
from gitml.remotes.retry import is_transient
from gitml.remotes.transfer import Progress, StoreLike, TransferResult, run_parallel
from gitml.store.copyout import hash_fd
from gitml.store.hashing import hash_bytes, new_hasher

if TYPE_CHECKING:
    from gitml.remotes.remote import Remote


class LocalMissingError(Exception):
    """The object is not in the local cache."""


class Uploader:
    def __init__(
        self,
        remote: Remote,
        store: StoreLike,
        path_of: Callable[[str], str],
        result: TransferResult,
        progress: Progress,
    ) -> None:
        self.remote = remote
        self.path_of = path_of
        self.backend = remote.backend
        self.store = store
        self.result = result
        self.progress = progress
        self.opts = remote.options
        self._unflushed: list[str] = []
        self._consecutive = 0

    def run(self, oids: list[str], jobs: int) -> None:
        try:
            run_parallel(oids, self._one, jobs, self._done)
        except BaseException:
            with contextlib.suppress(Exception):
                self._flush()  # what was fully written stays usable
            raise
        try:
            self._flush()
        except Exception as exc:
            raise self.remote.failure("upload to", exc) from None

    def _flush(self) -> None:
        self.backend.flush()
        self.result.transferred.extend(self._unflushed)
        self._unflushed = []

    # runs on a worker thread
    def _one(self, oid: str) -> int:
        key = self.remote.key(oid)
        try:
            data = read_small(self.path_of(oid), oid, self.opts.small_object)
        except LocalMissingError:
            if chunked_reader(self.store, oid) is None:
                raise
            data = None  # stored as chunks: streamed whole, so the remote format is unchanged
        if data is None:
            sent = self.backend.retrier(lambda: self._stream(oid, key))
            fault_point("remote.upload.object")
            return sent
        if hash_bytes(data) != oid:
            raise LocalCorruptError(oid)
        self.backend.retrier(lambda: self.backend.put_bytes(key, data))
        fault_point("remote.upload.object")
        return len(data)

    def _stream(self, oid: str, key: str) -> int:
        if chunked_reader(self.store, oid) is None:
            sent = self._put_file(oid, key)
            if sent is not None:
                return sent
        hasher = new_hasher(0)
        total = 0
        with chunked_reader(self.store, oid) or open(self.path_of(oid), "rb") as fh:
            writer = self.backend.open_writer(key)
            try:
                while chunk := fh.read(self.opts.chunk_size):
                    hasher.update(chunk)
                    writer.write(chunk)
                    total += len(chunk)
                if hasher.hexdigest() != oid:
                    raise LocalCorruptError(oid)
            except BaseException:
                writer.abort()
                raise
            writer.commit()
        return total

    def _put_file(self, oid: str, key: str) -> int | None:
        """The backend's own copy of a whole cache object (folder remotes: in the
        kernel, the bytes written hashed as they land); None where it has none."""
        fd = os.open(self.path_of(oid), os.O_RDONLY | os.O_CLOEXEC)
        try:
            size = os.fstat(fd).st_size
            stored = self.backend.put_file(key, fd, size, oid)
            if stored is False and hash_fd(fd, size) == oid:
                # the cache object is intact: the copy went wrong on the way
                raise OSError(errno.EIO, f"the copy of object {oid} does not match its id")
        finally:
            os.close(fd)
        if stored is None:
            return None
        if not stored:
            raise LocalCorruptError(oid)
        return size

    # runs on the calling thread
    def _done(self, oid: str, nbytes: int | None, exc: BaseException | None) -> None:
        if exc is None:
            self._consecutive = 0
            self._unflushed.append(oid)
            self.result.bytes += nbytes or 0
            self.progress.advance(1, nbytes or 0)
            if len(self._unflushed) >= self.opts.flush_every:
                self._flush()
            return
        if isinstance(exc, LocalMissingError):
            self.result.failed[oid] = "not in the local cache"
            return
        if isinstance(exc, LocalCorruptError):
            report_corrupt(self.store, self.result, self.progress, oid)
            return
        if not is_transient(exc):
            raise self.remote.failure("upload to", exc) from None
        self.result.failed[oid] = describe(exc)
        self._consecutive += 1
        if self._consecutive >= GIVE_UP_AFTER:
            raise RemoteError(
                f"upload to {self.remote.url.display()} failed: {self._consecutive} objects "
                f"in a row failed, last: {describe(exc)}",
                "run again to resume; objects already uploaded are skipped",
            )


def chunked_reader(store: StoreLike, oid: str) -> Any:
    """A reader of ``oid`` if the store keeps it as chunks only (each chunk verified;
    the uploader hashes the whole), else None."""
    opener = getattr(store, "open_chunked", None)
    return opener(oid) if opener is not None else None


def read_small(path: str, oid: str, limit: int) -> bytes | None:
    """The bytes of a cache object up to ``limit`` bytes, None if it is bigger."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise LocalMissingError(oid) from None
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            return None
        parts = [os.read(fd, size + 1)]
        while parts[-1] and sum(map(len, parts)) <= size:
            parts.append(os.read(fd, 1 << 20))
        return b"".join(parts)
    finally:
        os.close(fd)


def report_corrupt(store: StoreLike, result: TransferResult, progress: Progress, oid: str) -> None:
    """A cache object whose bytes do not match its name: quarantine it, report it."""
    where = "quarantined"
    try:
        store.quarantine(oid)
    except Exception as exc:
        where = f"could not quarantine it: {describe(exc)}"
    reason = f"corrupt in the local cache: its bytes do not match its id ({where})"
    result.failed[oid] = reason + ", not uploaded"
    progress.warning(f"{oid}: {reason}; not uploaded")
