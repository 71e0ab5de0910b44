"""Download workers: hash the bytes as they arrive; only verified bytes reach the cache.

Small objects are read whole, hashed, and handed to ``Batch.add_bytes`` only when
they match (it re-hashes and writes straight to the final name under the batch's
journal: no temp file + rename per small object). Big objects are streamed into
``Batch.add_stream`` through a generator that hashes as it yields and raises
*before its last step* when the length or hash is wrong, so the batch drops its
temp file; ``add_stream`` verifies again before the object gets its final name.
A mismatch is retried (damage in transit); when every attempt gives wrong bytes
the object is reported as failed and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from gitml.errors import CorruptObjectError, RemoteError
from gitml.faults import fault_point
from gitml.remotes.backends import Reader
from gitml.remotes.remote import GIVE_UP_AFTER, BadHashError, describe
from gitml.remotes.retry import TransientError, error_chain, is_transient
from gitml.remotes.transfer import BatchLike, Progress, TransferResult, run_parallel
from gitml.store.hashing import hash_bytes, new_hasher

if TYPE_CHECKING:
    from gitml.remotes.remote import Remote


class RemoteMissingError(Exception):
    """The object is not (or no longer) on the remote."""


class ShortReadError(TransientError):
    """Fewer bytes arrived than the remote announced."""


class Downloader:
    def __init__(
        self,
        remote: Remote,
        batch: BatchLike,
        lock: AbstractContextManager[Any],
        result: TransferResult,
        progress: Progress,
        *,
        whole: bool = False,
    ) -> None:
        self.remote = remote
        self.whole = whole  # chunks of a chunked file: never split again
        self.backend = remote.backend
        self.batch = batch
        self.lock = lock
        self.result = result
        self.progress = progress
        self.opts = remote.options
        self._consecutive = 0
        self.missing: list[str] = []  # not on the remote (maybe stored as chunks there)

    def run(self, oids: list[str], jobs: int) -> None:
        run_parallel(oids, self._one, jobs, self._done)

    # runs on a worker thread
    def _one(self, oid: str) -> int:
        key = self.remote.key(oid)
        return self.backend.retrier(lambda: self._attempt(oid, key))

    def _attempt(self, oid: str, key: str) -> int:
        try:
            reader = self.backend.open_reader(key)
        except FileNotFoundError:
            raise RemoteMissingError(oid) from None
        try:
            size = reader.size
            if size is not None and size <= self.opts.small_object:
                data = reader.read()
                if len(data) != size:
                    raise ShortReadError(f"got {len(data)} of {size} bytes")
                if hash_bytes(data) != oid:
                    raise BadHashError("the bytes received do not match the object id")
                with self.lock:  # verified again by the batch before it is named
                    self.batch.add_bytes(data, expected_oid=oid, whole=self.whole)
                fault_point("remote.download.object")
                return size
            counter = [0]
            with self.lock:
                self.batch.add_stream(
                    self._chunks(reader, oid, size, counter), expected_oid=oid, whole=self.whole
                )
            fault_point("remote.download.object")
            return counter[0]
        finally:
            reader.close()

    def _chunks(
        self, reader: Reader, oid: str, size: int | None, counter: list[int]
    ) -> Iterator[bytes]:
        hasher = new_hasher(0)
        while chunk := reader.read(self.opts.chunk_size):
            hasher.update(chunk)
            counter[0] += len(chunk)
            yield chunk
        if size is not None and counter[0] != size:
            raise ShortReadError(f"got {counter[0]} of {size} bytes")
        if hasher.hexdigest() != oid:
            raise BadHashError("the bytes received do not match the object id")

    # runs on the calling thread
    def _done(self, oid: str, nbytes: int | None, exc: BaseException | None) -> None:
        if exc is None:
            self._consecutive = 0
            self.result.transferred.append(oid)
            self.result.bytes += nbytes or 0
            self.progress.advance(1, nbytes or 0)
            return
        if isinstance(exc, RemoteMissingError):
            self.result.failed[oid] = f"not on the remote {self.remote.url.display()}"
            self.missing.append(oid)
            return
        if _bad_bytes(exc):
            reason = (
                f"the bytes from the remote do not match the object id after "
                f"{self.opts.retry.attempts} attempts (corrupt on the remote?); not stored"
            )
            self.result.failed[oid] = reason
            self.progress.warning(f"{oid}: {reason}")
            return
        if not is_transient(exc):
            raise self.remote.failure("download from", exc) from None
        self.result.failed[oid] = describe(exc)
        self._consecutive += 1
        if self._consecutive >= GIVE_UP_AFTER:
            raise RemoteError(
                f"download from {self.remote.url.display()} failed: {self._consecutive} objects "
                f"in a row failed, last: {describe(exc)}",
                "run again to resume; objects already downloaded are kept",
            )


def _bad_bytes(exc: BaseException) -> bool:
    """Wrong bytes arrived (our hash, the batch's, or botocore's response checksum)."""
    if isinstance(exc, BadHashError | CorruptObjectError):
        return True
    return any(type(e).__name__ == "FlexibleChecksumError" for e in error_chain(exc))
