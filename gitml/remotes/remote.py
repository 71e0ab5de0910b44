"""A remote object store: listing, existence checks, verified upload and download.

Layout on the remote (the same fan-out as the local cache)::

    <prefix>/objects/<oid[:2]>/<oid[2:]>

Verification: an upload hashes each local object while reading it and never sends
one whose bytes do not match its name (it is quarantined locally and reported); a
download hashes the bytes as they arrive and hands them to ``Batch.add_stream``,
which verifies again before the object gets its final name, so wrong bytes never
enter the cache. Transient errors are retried per object with backoff
(:mod:`gitml.remotes.retry`); a permanent error that is not about one object (auth,
missing bucket, local disk full) stops the transfer with a one-line, redacted
:class:`~gitml.errors.RemoteError`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from gitml.config import RemoteConfig
from gitml.errors import GitmlError, MissingCredentialError, RemoteError
from gitml.progress import Reporter
from gitml.remotes.backends import Backend, KeyTime
from gitml.remotes.connect import RemoteOptions, make_backend
from gitml.remotes.local import LocalBackend
from gitml.remotes.packs import (
    PACKS,
    DamagedPack,
    PackSet,
    index_key,
    pack_ids,
    pack_key,
    pack_length,
)
from gitml.remotes.retry import (
    Retrier,
    TransientError,
    deadline_of,
    error_chain,
    is_transient,
)
from gitml.remotes.transfer import (
    BatchLike,
    Progress,
    StoreLike,
    TransferResult,
    check_oids,
    plan_download,
    plan_upload,
    run_parallel,
)
from gitml.remotes.url import RemoteURL, parse_url, redact
from gitml.store.hashing import is_oid

OBJECTS = "objects"
_SHARDS = [f"{i:02x}" for i in range(256)]
_LISTING_PAGE = 1000
GIVE_UP_AFTER = 50  # consecutive objects failing with exhausted retries


class LocalCorruptError(Exception):
    """A cache object's bytes do not match its name (never uploaded)."""


class BadHashError(TransientError):
    """Bytes from the remote do not match the object id (retried: may be transit damage)."""


def describe(exc: BaseException) -> str:
    """One redacted line naming the error (the S3 error code and HTTP status if any)."""
    for err in error_chain(exc):
        response = getattr(err, "response", None)
        if isinstance(response, dict) and isinstance(response.get("Error"), dict):
            error = response["Error"]
            status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode", "?")
            text = f"{error.get('Code', 'Error')} (HTTP {status}): {error.get('Message', '')}"
            break
    else:
        text = f"{type(exc).__name__}: {str(exc) or 'no details'}"
    return redact(" ".join(text.split()))[:400]


class Remote:
    """One configured remote. Thread-safe for the operations below."""

    def __init__(
        self,
        url: RemoteURL,
        backend: Backend,
        *,
        name: str = "",
        options: RemoteOptions | None = None,
    ) -> None:
        self.url = url
        self.name = name or url.display()
        self.backend = backend
        self.options = options or RemoteOptions()
        self._lock = threading.Lock()
        self._retry_count = 0
        self._progress: Progress | None = None
        self.packs = PackSet()
        self.damaged_packs: dict[str, DamagedPack] = {}
        self.orphan_packs: dict[str, float | None] = {}  # .pack without .idx → its time
        self._packs_loaded = False
        self.chunk_entries: set[str] = set()  # files stored as chunks (chunked.py)
        backend.retrier = Retrier(self.options.retry, self._on_retry)
        backend.deadline = self.options.timeout
        backend.on_slow = self._on_slow
        self.reporter: Reporter | None = None  # for warnings outside transfers
        self._slow_told = False

    @classmethod
    def from_config(
        cls, config: RemoteConfig, *, base: Path | None = None, options: RemoteOptions | None = None
    ) -> Remote:
        """The remote described by ``config`` (relative folder paths are taken from ``base``)."""
        url = parse_url(config.url, base=base)
        opts = options or RemoteOptions(timeout=config.timeout)
        if not config.chunks and opts.chunks:  # remote.<name>.chunks = off
            opts = dataclasses.replace(opts, chunks=False)
        return cls(url, make_backend(url, config, opts), name=config.name, options=opts)

    @classmethod
    def from_url(
        cls, url: str, *, base: Path | None = None, options: RemoteOptions | None = None
    ) -> Remote:
        return cls.from_config(RemoteConfig(name="", url=url), base=base, options=options)

    def close(self) -> None:
        self.backend.close()

    # ------------------------------------------------------------ helpers
    def check_writable(self) -> None:
        """Refuse, before anything is sent, to write to a read-only (http) remote."""
        if self.url.read_only:
            from gitml.remotes.http import read_only_error

            shown = self.url.display()
            if self.name and self.name != shown:
                shown = f"{self.name!r} ({shown})"
            raise read_only_error(shown)

    @staticmethod
    def key(oid: str) -> str:
        if not is_oid(oid):
            raise GitmlError(f"not an object id: {oid[:80]!r}")
        return f"{OBJECTS}/{oid[:2]}/{oid[2:]}"

    def _on_retry(self, failures: int, exc: BaseException, delay: float) -> None:
        with self._lock:
            self._retry_count += 1
            count, progress = self._retry_count, self._progress
        if progress is not None and count <= 3:
            progress.warning(
                f"{self.name}: retrying after {describe(exc)} (attempt {failures + 1})"
            )

    def _on_slow(self, waited: float, deadline: float) -> None:
        with self._lock:
            if self._slow_told:
                return
            self._slow_told = True
            target: Progress | Reporter | None = self._progress or self.reporter
        if target is not None:
            target.warning(
                f"{self.name}: a request has waited {waited:.0f} s for an answer; "
                f"giving up at {deadline:g} s (remote.{self.name}.timeout)"
            )

    def failure(self, action: str, exc: BaseException) -> RemoteError:
        """The one-line error (with a hint) for ``action`` failing with ``exc``."""
        late = deadline_of(exc)
        if late is not None:
            named = self.name != self.url.display()  # a configured remote, not a bare URL
            key = f"remote.{self.name}.timeout" if named else "RemoteOptions.timeout"
            more = f"{max(late.seconds * 4, 60):g}"
            return RemoteError(
                f"{action} remote {self.name!r} ({self.url.display()}) stopped: a request got "
                f"no complete answer within {late.seconds:g} s ({key})",
                "the endpoint stalls or is very slow; to wait longer: "
                + (f"gitml config set --local {key} {more}" if named else f"raise {key}"),
            )
        from gitml.remotes.auth import missing_credential_hint

        hint = missing_credential_hint(exc)
        if hint is not None:
            return MissingCredentialError(
                f"{action} {self.url.display()} failed: no credentials ({describe(exc)})", hint
            )
        if isinstance(exc, PermissionError) or "AccessDenied" in str(exc):
            hint = "check the credentials: environment, AWS profile or .gitml/config.local.toml"
        elif isinstance(exc, FileNotFoundError):
            hint = "check that the bucket or folder exists"
        elif is_transient(exc):
            hint = f"gave up after {self.options.retry.attempts} attempts; run again to resume"
        return RemoteError(f"{action} {self.url.display()} failed: {describe(exc)}", hint)

    def call(self, action: str, fn: Callable[[], Any], *, retry: bool = True) -> Any:
        """Run ``fn`` against the backend with its retries; errors as RemoteError."""
        return self._call(action, fn, retry=retry)

    def _call(self, action: str, fn: Callable[[], Any], *, retry: bool = True) -> Any:
        try:
            return self.backend.retrier(fn) if retry else fn()
        except GitmlError:
            raise
        except Exception as exc:
            raise self.failure(action, exc) from None

    # ------------------------------------------------------------ listing
    def _keys_to_oids(self, keys: Iterable[str], into: set[str]) -> None:
        into.update(oid for oid in map(_oid_of, keys) if oid is not None)

    def _list_shard(self, shard: str) -> set[str]:
        out: set[str] = set()
        self._keys_to_oids(self.backend.list_keys(f"{OBJECTS}/{shard}"), out)
        return out

    def estimate_count(self) -> int:
        """Objects on the remote, estimated from one shard (one request)."""
        # listings are retried page by page inside the backend
        return len(self._call("list", lambda: self._list_shard("00"), retry=False)) * 256

    def list_oids(self, *, jobs: int = 8) -> set[str]:
        """Every object id on the remote.

        One recursive listing (paginated, 1,000 keys per S3 request); when one shard
        suggests more than a few thousand objects, the 256 shards are listed in
        parallel instead (``jobs`` at a time).
        """
        packed = set(self.load_packs(jobs=jobs).where)
        return self._list_all(jobs, None) | packed | self.load_chunk_entries()

    def load_chunk_entries(self) -> set[str]:
        """Refresh :attr:`chunk_entries`: the files stored on the remote as chunks
        (one listing of ``chunked/``; chunked.py)."""
        from gitml.remotes.chunked import ENTRIES, entry_oid

        keys: list[str] = self._call(
            "list", lambda: list(self.backend.list_keys(ENTRIES)), retry=False
        )
        self.chunk_entries = {oid for oid in map(entry_oid, keys) if oid is not None}
        return self.chunk_entries

    def chunk_entry_times(self) -> dict[str, float | None]:
        """file oid → time of its chunk entry (None: the backend gives no times)."""
        from gitml.remotes.chunked import ENTRIES, entry_oid

        listed: list[KeyTime] = self._call(
            "list", lambda: list(self.backend.list_times(ENTRIES)), retry=False
        )
        out: dict[str, float | None] = {}
        for key, _size, mtime in listed:
            oid = entry_oid(key)
            if oid is not None:
                out[oid] = mtime
        self.chunk_entries = set(out)
        return out

    def list_times(self, *, jobs: int = 8) -> dict[str, tuple[int, float | None]]:
        """oid → (size, modification time or None) of every object on the remote; a
        packed object has its pack index's time. One listing of ``objects/`` (sizes
        and times come with it) and one of ``packs/``: for gc's grace period."""

        def listing(prefix: str) -> list[KeyTime]:
            return list(self._call("list", lambda: list(self.backend.list_times(prefix))))

        out: dict[str, tuple[int, float | None]] = {}
        for key, size, mtime in listing(OBJECTS):
            oid = _oid_of(key)
            if oid is not None:
                out[oid] = (size, mtime)
        pack_times = {
            key.rsplit("/", 1)[-1][:-4]: mtime
            for key, _size, mtime in listing(PACKS)
            if key.endswith(".idx")
        }
        for oid, (pack_id, _offset, size) in self.load_packs(jobs=jobs).where.items():
            out.setdefault(oid, (size, pack_times.get(pack_id)))
        return out

    def load_packs(self, *, jobs: int = 8) -> PackSet:
        """Refresh :attr:`packs`: one listing of ``packs/`` (with sizes), then the
        new indexes. A pack whose size is not the one its index implies (truncated
        by a killed or failed write, or damaged since) is not trusted: its objects
        are left out of :attr:`packs` (so a push uploads them again) and it is
        named in :attr:`damaged_packs`. A ``.pack`` without an index (a killed
        push) is noted in :attr:`orphan_packs` with its time."""
        from gitml.remotes.packio import load_index

        listed: list[KeyTime] = self._call(
            "list", lambda: list(self.backend.list_times(PACKS)), retry=False
        )
        ids = pack_ids(key for key, _size, _mtime in listed)
        sizes: dict[str, tuple[int, float | None]] = {}
        for key, size, mtime in listed:
            name = key.rsplit("/", 1)[-1]
            if name.endswith(".pack"):
                sizes[name[:-5]] = (size, mtime)
        self.orphan_packs = {p: t for p, (_s, t) in sizes.items() if p not in ids and len(p) == 64}
        for gone in set(self.packs.indexes) - ids:
            self.packs.drop(gone)
        loaded: dict[str, dict[str, tuple[int, int]]] = {}

        def done(pack_id: str, index: Any, exc: BaseException | None) -> None:
            if exc is not None:
                raise exc
            if index is not None:
                loaded[pack_id] = index

        known = set(self.packs.indexes) | set(self.damaged_packs)
        run_parallel(sorted(ids - known), lambda p: load_index(self, p), jobs, done)
        for pack_id in sorted(ids):
            index = self.packs.indexes.get(pack_id) or loaded.get(pack_id)
            if index is None and pack_id in self.damaged_packs:
                index = self.damaged_packs[pack_id].index
            if index is None:
                continue  # a malformed index: ignored, as a pack without one
            actual = sizes.get(pack_id, (None, None))[0]
            expected = pack_length(index)
            if actual != expected:
                self.packs.drop(pack_id)
                self.damaged_packs[pack_id] = DamagedPack(pack_id, expected, actual, index)
            else:
                self.damaged_packs.pop(pack_id, None)
                if pack_id not in self.packs.indexes:
                    self.packs.add(pack_id, index)
        for gone in set(self.damaged_packs) - ids:
            del self.damaged_packs[gone]
        self._packs_loaded = True
        return self.packs

    def ensure_packs_loaded(self, *, jobs: int = 8) -> None:
        """Read the pack indexes once (a listing may already have done it)."""
        if not self._packs_loaded:
            self.load_packs(jobs=jobs)

    def retire_damaged_packs(self, *, jobs: int = 8) -> list[str]:
        """Delete each damaged pack whose every object the remote now holds
        elsewhere (loose or in a sound pack): index first, then the pack, like
        a repack. A damaged pack holding the only copy of anything stays."""
        retired: list[str] = []
        for pack_id, damaged in sorted(self.damaged_packs.items()):
            rest = [o for o in damaged.index if o not in self.packs.where]
            if rest and len(self._stat_loose_present(rest, jobs)) != len(rest):
                continue
            for key in (index_key(pack_id), pack_key(pack_id)):  # index first, as a repack
                self._call("delete from", functools.partial(self.backend.delete, [key]))
            del self.damaged_packs[pack_id]
            retired.append(pack_id)
        return retired

    def _stat_loose_present(self, oids: list[str], jobs: int) -> set[str]:
        return {o for o, size in self._stat_loose(oids, jobs).items() if size is not None}

    def _list_all(self, jobs: int, estimate: int | None) -> set[str]:
        out: set[str] = set()
        flat = isinstance(self.backend, LocalBackend) or jobs <= 1
        if not flat:
            estimate = self.estimate_count() if estimate is None else estimate
            flat = estimate < self.options.sharded_listing_min
        if flat:
            keys = self.backend.list_keys(OBJECTS)
            self._call("list", lambda: self._keys_to_oids(keys, out), retry=False)
            return out

        def merge(_shard: str, found: set[str] | None, exc: BaseException | None) -> None:
            if exc is not None:
                raise self.failure("list", exc) from None
            out.update(found or ())

        run_parallel(_SHARDS, self._list_shard, jobs, merge)
        return out

    def stat_many(self, oids: Iterable[str], *, jobs: int = 8) -> dict[str, int | None]:
        """Size of each object on the remote, None where it is missing (parallel HEADs)."""
        wanted = check_oids(oids)
        packed = self.load_packs(jobs=jobs).where if wanted else {}
        out: dict[str, int | None] = {o: packed[o][2] for o in wanted if o in packed}
        out.update(self._stat_loose([o for o in wanted if o not in out], jobs))
        return out

    def _stat_loose(self, oids: list[str], jobs: int) -> dict[str, int | None]:
        out: dict[str, int | None] = {}

        def one(oid: str) -> int | None:
            return self.backend.retrier(lambda: self.backend.size(self.key(oid)))

        def done(oid: str, size: int | None, exc: BaseException | None) -> None:
            if exc is not None:
                raise self.failure("check objects on", exc) from None
            out[oid] = size

        run_parallel(oids, one, jobs, done)
        return out

    def present(self, oids: Iterable[str], *, jobs: int = 8, entries: bool = True) -> set[str]:
        """Which of ``oids`` the remote has, by listing or by existence checks,
        whichever needs fewer round trips. A file stored as chunks counts (its
        entry exists only once its list and chunks do), unless ``entries`` is off
        (asking about the chunks themselves); entries are looked up only for the
        oids no object answers for, so a no-op push costs no extra request."""
        wanted = check_oids(oids)
        if not wanted:
            return set()
        jobs = max(1, jobs)
        found = self._objects_present(wanted, jobs)
        rest = [o for o in wanted if o not in found]
        if entries and rest:
            found |= self._entries_present(rest, jobs)
        return found

    def _objects_present(self, wanted: list[str], jobs: int) -> set[str]:
        packed = self.load_packs(jobs=jobs).where
        found = {o for o in wanted if o in packed}
        wanted = [o for o in wanted if o not in found]
        if not wanted:
            return found
        estimate: int | None = None
        if isinstance(self.backend, LocalBackend):
            use_stat = len(wanted) <= 2000
        else:
            estimate = self.estimate_count()
            if estimate < self.options.sharded_listing_min:
                list_rounds = 1 + estimate / _LISTING_PAGE
            else:
                list_rounds = (256 + estimate / _LISTING_PAGE) / jobs
            use_stat = len(wanted) / jobs < list_rounds
        if use_stat:
            sizes = self._stat_loose(wanted, jobs)
            return found | {o for o, size in sizes.items() if size is not None}
        return found | (self._list_all(jobs, estimate) & set(wanted))

    def _entries_present(self, oids: list[str], jobs: int) -> set[str]:
        """Which of ``oids`` have a chunk entry: existence checks for a few, else
        one listing of ``chunked/``."""
        if len(oids) > 2 * jobs:
            return self.load_chunk_entries() & set(oids)
        from gitml.remotes.chunked import entry_key

        found: set[str] = set()

        def one(oid: str) -> int | None:
            return self.backend.retrier(lambda: self.backend.size(entry_key(oid)))

        def done(oid: str, size: int | None, exc: BaseException | None) -> None:
            if exc is not None:
                raise self.failure("check objects on", exc) from None
            if size is not None:
                found.add(oid)

        run_parallel(oids, one, jobs, done)
        self.chunk_entries |= found
        return found

    # ------------------------------------------------------------ transfers
    def _begin(self, reporter: Reporter | None, task: str, total: int) -> Progress:
        progress = Progress(reporter, task, total)
        with self._lock:
            self._progress, self._retry_count = progress, 0
        return progress

    def _end(self, progress: Progress, result: TransferResult, verb: str) -> None:
        with self._lock:
            result.retries, self._progress = self._retry_count, None
        progress.finish(result, verb)

    def upload(
        self,
        store: StoreLike,
        oids: Iterable[str],
        *,
        jobs: int = 8,
        reporter: Reporter | None = None,
        remote_oids: set[str] | None = None,
    ) -> TransferResult:
        """Upload the objects the remote lacks. ``remote_oids`` skips the existence check."""
        self.check_writable()
        wanted = check_oids(oids)
        if remote_oids is None:
            remote_oids = self.present(wanted, jobs=jobs)
        path_of = _path_fn(store)
        sizes: dict[str, int] = {}
        chunked: set[str] = set()  # streamed whole from their chunks, never packed

        def local_has(oid: str) -> bool:  # one stat gives presence and progress total
            try:
                sizes[oid] = os.stat(path_of(oid)).st_size
            except OSError:
                size_of = getattr(store, "size_of", None)  # a file stored as chunks
                try:
                    sizes[oid] = size_of(oid) if size_of is not None else -1
                except GitmlError:
                    return False
                if sizes[oid] < 0:
                    return False
                chunked.add(oid)
            return True

        plan = plan_upload(wanted, local_has, remote_oids)
        result = TransferResult(skipped=plan.present)
        for oid in plan.missing:
            result.failed[oid] = "not in the local cache"
        from gitml.remotes.packio import PackUploader
        from gitml.remotes.upload import Uploader
        from gitml.store.objects import ObjectStore

        opts = self.options
        todo = plan.todo
        as_chunks = None
        if opts.chunks and chunked and isinstance(store, ObjectStore):
            from gitml.remotes.chunked import ChunkedUpload

            as_chunks = ChunkedUpload(self, store, path_of, result)
            part_bytes = as_chunks.plan([o for o in todo if o in chunked], jobs)
            todo = [o for o in todo if o not in chunked]
            total = sum(sizes[o] for o in todo) + part_bytes
        else:
            total = sum(sizes[o] for o in todo)
        progress = self._begin(reporter, "upload", total)
        small = [o for o in todo if sizes[o] <= opts.pack_object_max and o not in chunked]
        if not opts.pack or len(small) < opts.pack_min_objects:
            small = []
        packed = set(small)
        loose = [o for o in todo if o not in packed] if small else todo
        Uploader(self, store, path_of, result, progress).run(loose, jobs)
        if small:
            PackUploader(self, store, path_of, result, progress, sizes).run(small, jobs)
        if as_chunks is not None:  # parts first, made durable; the entries last
            as_chunks.run(jobs, progress)
        if self.damaged_packs:  # superseded now that their objects were sent again
            self.load_packs(jobs=jobs)
            self.retire_damaged_packs(jobs=jobs)
        self._end(progress, result, "uploaded")
        return result

    def download(
        self,
        store: StoreLike,
        oids: Iterable[str],
        *,
        jobs: int = 8,
        reporter: Reporter | None = None,
        remote_oids: set[str] | None = None,
    ) -> TransferResult:
        """Download the objects the cache lacks, verified before they enter it."""
        wanted = check_oids(oids)
        needed = [o for o in wanted if not store.has(o)]
        if remote_oids is None:
            remote_oids = self.present(needed, jobs=jobs)
        elif needed and not self._packs_loaded:
            self.load_packs(jobs=jobs)
        have = set(wanted).difference(needed)
        plan = plan_download(wanted, have.__contains__, remote_oids)
        todo = plan.todo
        packed = [o for o in todo if o in self.packs.where]
        loose = [o for o in todo if o not in self.packs.where] if packed else todo
        result = TransferResult(skipped=plan.present)
        for oid in plan.missing:
            result.failed[oid] = f"not on the remote {self.url.display()}"
        progress = self._begin(reporter, "download", 0)
        from gitml.remotes.download import Downloader
        from gitml.remotes.packio import PackDownloader

        with store.batch() as batch:
            lock: AbstractContextManager[Any] = (
                nullcontext() if getattr(batch, "thread_safe", False) else threading.Lock()
            )
            loose_job = Downloader(self, batch, lock, result, progress)
            loose_job.run(loose, jobs)
            if packed:
                PackDownloader(self, batch, result, progress).run(packed, jobs)
        as_chunks = self._chunked_only(store, loose_job.missing)
        if as_chunks:  # no whole object (the GET just now said so), but a chunk entry
            from gitml.remotes.chunked import download_files
            from gitml.store.objects import ObjectStore

            assert isinstance(store, ObjectStore)
            for oid in as_chunks:
                del result.failed[oid]
            download_files(self, store, as_chunks, result, progress, jobs)
        self._end(progress, result, "downloaded")
        return result

    def _chunked_only(self, store: StoreLike, missing: list[str]) -> list[str]:
        """Of the files with no whole object on the remote, those it holds as chunks
        (whole objects, as an older gitml pushes them, are tried first). The
        listing of ``chunked/`` is read once, when it is needed."""
        from gitml.store.objects import ObjectStore

        if not missing or not isinstance(store, ObjectStore):
            return []
        if not self.chunk_entries.issuperset(missing):
            self.load_chunk_entries()
        return [o for o in missing if o in self.chunk_entries]

    def cleanup(self, *, older_than: float = 86400.0) -> int:
        """Remove what killed uploads left behind more than ``older_than`` seconds ago
        (temp files of folder remotes, incomplete S3 multipart uploads). Never touches
        objects. For ``gc``; younger leftovers may belong to an upload in flight."""
        return int(self._call("clean up", lambda: self.backend.cleanup(OBJECTS, older_than)))

    def delete(self, oids: Iterable[str], *, jobs: int = 8) -> TransferResult:
        """Delete objects from the remote (missing ones are not an error)."""
        self.check_writable()
        wanted = check_oids(oids)
        batches = [wanted[i : i + 1000] for i in range(0, len(wanted), 1000)]
        result = TransferResult()

        def one(chunk: list[str]) -> None:
            keys = [self.key(o) for o in chunk]
            self.backend.retrier(lambda: self.backend.delete(keys))

        def done(chunk: list[str], _: None, exc: BaseException | None) -> None:
            if exc is not None:
                raise self.failure("delete from", exc) from None
            result.transferred.extend(chunk)

        run_parallel(batches, one, jobs, done)
        if self.packs.where.keys() & set(wanted) or not self._packs_loaded:
            from gitml.remotes.packio import repack

            doomed = set(wanted)
            if self.load_packs(jobs=jobs).where.keys() & doomed:
                self._call("repack", lambda: repack(self, doomed), retry=False)
        return result


def _oid_of(key: str) -> str | None:
    """The oid a loose object's key ``objects/<2 hex>/<62 hex>`` names, else None."""
    parts = key.split("/")
    if len(parts) == 3 and parts[0] == OBJECTS and len(parts[1]) == 2:
        oid = parts[1] + parts[2]
        if is_oid(oid):
            return oid
    return None


def _path_fn(store: StoreLike) -> Callable[[str], str]:
    """``store.object_path`` as a str; the store's unvalidated ``fast_path`` when it has
    one (the oids were validated by :func:`check_oids`)."""
    fast = getattr(store, "fast_path", None)
    if callable(fast):
        return lambda oid: str(fast(oid))
    return lambda oid: str(store.object_path(oid))


__all__ = ["OBJECTS", "BadHashError", "BatchLike", "LocalCorruptError", "Remote", "describe"]
