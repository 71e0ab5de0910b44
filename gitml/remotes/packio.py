"""Moving packs: upload many small objects as packs, read objects back with ranged
reads, rewrite packs on delete. Every object is hashed before it is packed and after
it is read back, exactly like a loose object (see packs.py for the format)."""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING

from gitml.errors import RemoteError
from gitml.faults import fault_point
from gitml.remotes.packs import (
    Span,
    decode_index,
    encode_index,
    group,
    index_key,
    pack_key,
    spans,
)
from gitml.remotes.remote import describe
from gitml.remotes.retry import is_transient
from gitml.remotes.transfer import BatchLike, Progress, StoreLike, TransferResult, run_parallel
from gitml.remotes.upload import LocalMissingError, read_small, report_corrupt
from gitml.store.hashing import hash_bytes

if TYPE_CHECKING:
    from collections.abc import Callable

    from gitml.remotes.remote import Remote

# ok, corrupt, missing, bytes, (pack id, index) or None
_Built = tuple[list[str], list[str], list[str], int, tuple[str, dict[str, tuple[int, int]]] | None]


class PackUploader:
    """Reads, verifies and packs groups of small objects; one PUT per pack (+ index)."""

    def __init__(
        self,
        remote: Remote,
        store: StoreLike,
        path_of: Callable[[str], str],
        result: TransferResult,
        progress: Progress,
        sizes: dict[str, int],
    ) -> None:
        self.remote, self.store, self.path_of = remote, store, path_of
        self.result, self.progress, self.sizes = result, progress, sizes
        self.opts = remote.options
        self._unflushed: list[str] = []

    def run(self, oids: list[str], jobs: int) -> None:
        groups = group(oids, self.sizes, self.opts.pack_max_bytes, self.opts.pack_max_objects)
        try:
            run_parallel(groups, self._one, max(1, min(jobs, 4)), self._done)
        finally:
            self.remote.backend.flush()  # pack before index, in write order
            self.result.transferred.extend(self._unflushed)

    def _one(self, oids: list[str]) -> _Built:
        ok: list[str] = []
        corrupt: list[str] = []
        missing: list[str] = []
        blobs: list[bytes] = []
        for oid in oids:
            try:
                data = read_small(self.path_of(oid), oid, self.opts.pack_object_max)
            except LocalMissingError:
                missing.append(oid)
                continue
            if data is None or hash_bytes(data) != oid:
                corrupt.append(oid)  # grew past its recorded size, or wrong bytes
                continue
            ok.append(oid)
            blobs.append(data)
        if not ok:
            return ok, corrupt, missing, 0, None
        pack = b"".join(blobs)
        index = encode_index(zip(ok, map(len, blobs), strict=True))
        blobs.clear()  # only the joined copy stays in memory while it is sent
        pack_id = hash_bytes(pack)
        backend = self.remote.backend
        backend.retrier(lambda: backend.put_bytes(pack_key(pack_id), pack))
        fault_point("remote.upload.pack")
        backend.retrier(lambda: backend.put_bytes(index_key(pack_id), index))
        return ok, corrupt, missing, len(pack), (pack_id, decode_index(index))

    def _done(self, oids: list[str], built: _Built | None, exc: BaseException | None) -> None:
        if exc is not None:
            if not is_transient(exc):
                raise self.remote.failure("upload to", exc) from None
            for oid in oids:
                self.result.failed[oid] = describe(exc)
            return
        assert built is not None
        ok, corrupt, missing, nbytes, packed = built
        if packed is not None:
            self.remote.packs.add(*packed)
        for oid in corrupt:
            report_corrupt(self.store, self.result, self.progress, oid)
        for oid in missing:
            self.result.failed[oid] = "not in the local cache"
        self._unflushed.extend(ok)
        self.result.bytes += nbytes
        self.progress.advance(len(ok), nbytes)


class PackDownloader:
    """Ranged reads of packs; each object is verified before it reaches the batch."""

    def __init__(
        self,
        remote: Remote,
        batch: BatchLike,
        result: TransferResult,
        progress: Progress,
        *,
        whole: bool = False,
    ) -> None:
        self.remote, self.batch, self.result, self.progress = remote, batch, result, progress
        self.opts = remote.options
        self.whole = whole  # chunks of a chunked file: never split again

    def run(self, oids: list[str], jobs: int) -> None:
        where = self.remote.packs.where
        wanted = [(where[o][0], o, where[o][1], where[o][2]) for o in oids]
        todo = spans(wanted, self.opts.range_gap, self.opts.range_max)
        run_parallel(todo, self._fetch, jobs, self._done)

    def _fetch(self, span: Span) -> tuple[dict[str, bytes], dict[str, str]]:
        good: dict[str, bytes] = {}
        pending = list(span.entries)
        policy = self.opts.retry
        reason = ""
        for attempt in range(1, policy.attempts + 1):
            try:
                data = self.remote.backend.get_range(
                    pack_key(span.pack_id), span.start, span.length
                )
            except Exception as exc:
                if attempt == policy.attempts or not is_transient(exc):
                    raise
                time.sleep(policy.delay(attempt))
                continue
            for oid, offset, size in pending:
                blob = data[offset - span.start : offset - span.start + size]
                if len(blob) == size and hash_bytes(blob) == oid:
                    good[oid] = blob
            pending = [e for e in pending if e[0] not in good]
            if not pending:
                break
            reason = "the bytes from the remote pack do not match the object id"
            if attempt < policy.attempts:
                time.sleep(policy.delay(attempt))
        return good, {oid: f"{reason} after {policy.attempts} attempts" for oid, _o, _s in pending}

    def _done(
        self,
        span: Span,
        out: tuple[dict[str, bytes], dict[str, str]] | None,
        exc: BaseException | None,
    ) -> None:
        oids = [e[0] for e in span.entries]
        if exc is not None:
            if isinstance(exc, FileNotFoundError):  # repacked meanwhile by another client
                reason = f"pack {span.pack_id[:12]} is gone from {self.remote.url.display()}"
            elif is_transient(exc):
                reason = describe(exc)
            else:
                raise self.remote.failure("download from", exc) from None
            for oid in oids:
                self.result.failed[oid] = reason
            return
        assert out is not None
        good, bad = out
        for oid, blob in good.items():  # calling thread: the batch is ours alone
            self.batch.add_bytes(blob, expected_oid=oid, whole=self.whole)
            self.result.transferred.append(oid)
            self.result.bytes += len(blob)
        self.progress.advance(len(good), sum(map(len, good.values())))
        for oid, reason in bad.items():
            self.result.failed[oid] = reason + " (corrupt on the remote?); not stored"
            self.progress.warning(f"{oid}: {reason}")


def repack(remote: Remote, doomed: set[str]) -> None:
    """Rewrite every pack holding an object of ``doomed`` without it.

    Order: new pack, new index, make them durable, then remove the old index and
    the old pack; a crash leaves objects in two packs at worst, never in none.
    Kept objects are verified; one found corrupt is dropped (it is lost on the
    remote either way, and a later push sends it again).
    """
    backend = remote.backend
    for pack_id, index in list(remote.packs.indexes.items()):
        if not doomed & index.keys():
            continue
        keep = [o for o in sorted(index, key=lambda o: index[o][0]) if o not in doomed]
        if keep:
            try:
                data = backend.retrier(functools.partial(backend.get_bytes, pack_key(pack_id)))
            except FileNotFoundError:
                remote.packs.drop(pack_id)
                continue
            blobs = [(o, data[index[o][0] : index[o][0] + index[o][1]]) for o in keep]
            blobs = [(o, b) for o, b in blobs if hash_bytes(b) == o]
            if blobs:
                pack = b"".join(b for _o, b in blobs)
                new_id = hash_bytes(pack)
                new_index = encode_index((o, len(b)) for o, b in blobs)
                backend.retrier(functools.partial(backend.put_bytes, pack_key(new_id), pack))
                backend.retrier(functools.partial(backend.put_bytes, index_key(new_id), new_index))
                backend.flush()
                remote.packs.add(new_id, decode_index(new_index))
        fault_point("remote.repack.before-delete")
        backend.retrier(functools.partial(backend.delete, [index_key(pack_id)]))
        backend.retrier(functools.partial(backend.delete, [pack_key(pack_id)]))
        remote.packs.drop(pack_id)


def load_index(remote: Remote, pack_id: str) -> dict[str, tuple[int, int]] | None:
    """A pack's index, or None when it is gone or malformed (then it is ignored)."""
    try:
        data = remote.backend.retrier(lambda: remote.backend.get_bytes(index_key(pack_id)))
        return decode_index(data)
    except (FileNotFoundError, ValueError):
        return None
    except Exception as exc:
        raise RemoteError(
            f"reading pack index {pack_id[:12]} of {remote.url.display()} failed: {describe(exc)}"
        ) from None
