"""Chunked files on a remote: only the chunks a remote lacks travel (issue 14).

Layout beside ``objects/`` and ``packs/``::

    chunked/<file oid>     "<chunk list oid>\\n": the file is stored as the chunks its list names

The chunk list (``gitml-chunks 1 <file oid> <size>`` then ``<chunk oid> <size>``
lines, store/chunks.py) and the chunks are ordinary small objects: packed when
many travel together, loose otherwise. The entry is the only new kind of key.

**Push** (:class:`ChunkedUpload`): the chunks and the list the remote lacks go
through the same uploaders as any small object (each hashed before it is sent;
a pack's index after its pack); the uploaders flush, so everything is durable
under its final key; only *then* is the entry written, and flushed. A remote
therefore never names a list whose chunks are missing: a kill at any point
leaves chunks and packs no entry names (the next push finds them there and
sends only the rest), or a complete entry.

**Pull** (:func:`download_files`): the entry, then the list (its hash must be
its name and its header must name the file), then only the chunks the local
cache lacks (ranged reads of packs), each verified before it enters the batch.
Once the batch is durable, the whole file is rebuilt from the local chunks and
its BLAKE3 checked; only then is the local ``chunked/<file oid>`` entry
written. A chunk that is missing or wrong on the remote fails the file with a
message naming the chunk and the file; nothing of the file is indexed.

A remote where the whole object exists (pushed by an older gitml, or with
``RemoteOptions.chunks`` off) serves the whole object; both kinds mix freely.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitml.errors import CorruptObjectError, GitmlError, ObjectMissingError, RefusedError
from gitml.faults import fault_point
from gitml.remotes.remote import BadHashError, describe
from gitml.remotes.retry import is_transient
from gitml.remotes.transfer import Progress, TransferResult, check_oids, run_parallel
from gitml.store import chunkread, chunks
from gitml.store.chunks import ChunkList
from gitml.store.hashing import hash_bytes, is_oid

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from gitml.remotes.remote import Remote
    from gitml.store.objects import ObjectStore
    from gitml.store.usage import CacheUsage

ENTRIES = "chunked"
# The list of a 1 TiB file of 256 KiB-average chunks is ~250 MiB; nothing bigger is read.
MAX_LIST = 256 << 20
_FSCK_HINT = (
    "gitml fsck --cloud names what is wrong; a gitml push from a clone that has the file repairs it"
)


def entry_key(file_oid: str) -> str:
    if not is_oid(file_oid):
        raise GitmlError(f"not an object id: {file_oid[:80]!r}")
    return f"{ENTRIES}/{file_oid}"


def encode_entry(list_oid: str) -> bytes:
    return f"{list_oid}\n".encode()


def decode_entry(data: bytes) -> str | None:
    """The chunk list oid an entry names; None if it is not exactly one oid line."""
    text = data.decode("ascii", "replace")
    if len(text) != 65 or not text.endswith("\n") or not is_oid(text[:64]):
        return None
    return text[:64]


def entry_oid(key: str) -> str | None:
    """The file oid of an entry key ``chunked/<64 hex>``, else None."""
    parts = key.split("/")
    if len(parts) == 2 and parts[0] == ENTRIES and is_oid(parts[1]):
        return parts[1]
    return None


class RemoteListError(GitmlError):
    """A chunk entry or chunk list on the remote is missing or damaged."""


class TooBigError(Exception):
    """An object on the remote is bigger than what is read into memory for it."""


def _read_capped(remote: Remote, key: str, limit: int) -> bytes:
    """The bytes of ``key``, refusing (TooBigError) anything over ``limit`` bytes
    before it is read: a remote's word is not enough to fill memory."""
    reader = remote.backend.open_reader(key)
    try:
        if reader.size is not None and reader.size > limit:
            raise TooBigError(f"{reader.size} bytes")
        data = reader.read(limit + 1)
    finally:
        reader.close()
    if len(data) > limit:
        raise TooBigError(f"over {limit} bytes")
    return data


def fetch_object(remote: Remote, oid: str, limit: int = MAX_LIST) -> bytes:
    """A small object's bytes from the remote (its pack by a ranged read, or its
    loose key, at most ``limit`` bytes), verified against ``oid``; wrong bytes are
    retried, then raise :class:`BadHashError`. FileNotFoundError when it is not
    there, TooBigError when it is bigger than ``limit``."""
    backend = remote.backend
    where = remote.packs.where.get(oid)

    def attempt() -> bytes:
        if where is not None:
            from gitml.remotes.packs import pack_key

            pack_id, offset, size = where  # packs.MAX_ENTRY bounds a packed object
            data = backend.get_range(pack_key(pack_id), offset, size)
        else:
            data = _read_capped(remote, remote.key(oid), limit)
        if hash_bytes(data) != oid:
            raise BadHashError("the bytes received do not match the object id")
        return data

    return backend.retrier(attempt)


def read_list(
    remote: Remote, file_oid: str, store: ObjectStore | None = None
) -> tuple[str, ChunkList, bytes]:
    """The entry of ``file_oid`` on the remote and the list it names, verified:
    ``(list oid, list, list bytes)``. The list comes from ``store`` when it has it.
    RemoteListError says what is missing or damaged; transport errors propagate."""
    label = f"file {file_oid}"
    try:
        raw = remote.backend.retrier(lambda: _read_capped(remote, entry_key(file_oid), 65))
    except FileNotFoundError:
        raise RemoteListError(f"{label} has no chunk entry on the remote") from None
    except TooBigError:
        raw = b""  # not one oid line: damaged
    list_oid = decode_entry(raw)
    if list_oid is None:
        raise RemoteListError(f"the chunk entry of {label} on the remote is damaged", _FSCK_HINT)
    data: bytes | None = None
    if store is not None and os.path.lexists(store.path_of(list_oid)):
        with contextlib.suppress(GitmlError):  # a bad local copy: take the remote's
            data = store.read_bytes(list_oid)
    if data is None:
        try:
            data = fetch_object(remote, list_oid)
        except FileNotFoundError:
            raise RemoteListError(
                f"chunk list {list_oid} of {label} is not on the remote", _FSCK_HINT
            ) from None
        except BadHashError:
            raise RemoteListError(
                f"chunk list {list_oid} of {label} is corrupt on the remote", _FSCK_HINT
            ) from None
        except TooBigError as exc:
            raise RemoteListError(
                f"chunk list {list_oid} of {label} on the remote is too big to be one "
                f"({exc}; the limit is {MAX_LIST >> 20} MiB)",
                _FSCK_HINT,
            ) from None
    try:
        clist = chunks.decode(data, source=f"{list_oid} of {label} on the remote")
    except CorruptObjectError as exc:
        raise RemoteListError(exc.message, _FSCK_HINT) from None
    if clist.file_oid != file_oid:
        raise RemoteListError(
            f"the chunk entry of {label} on the remote names list {list_oid}, which "
            f"rebuilds object {clist.file_oid}",
            _FSCK_HINT,
        )
    return list_oid, clist, data


def _chunk_label(clist: ChunkList, oid: str) -> str:
    for index, (chunk, _size) in enumerate(clist.chunks):
        if chunk == oid:
            return f"chunk {index + 1} of {len(clist.chunks)} ({oid}) of file {clist.file_oid}"
    return f"chunk list {oid} of file {clist.file_oid}"


def _first_failure(
    list_oid: str, clist: ChunkList, failed: dict[str, str]
) -> tuple[str, str] | None:
    if list_oid in failed:
        return list_oid, failed[list_oid]
    for oid, _size in clist.chunks:
        if oid in failed:
            return oid, failed[oid]
    return None


# ---------------------------------------------------------------- push


class ChunkedUpload:
    """Push files the local cache keeps as chunks: the missing parts, then entries."""

    def __init__(
        self,
        remote: Remote,
        store: ObjectStore,
        path_of: Callable[[str], str],
        result: TransferResult,
    ) -> None:
        self.remote, self.store, self.path_of, self.result = remote, store, path_of, result
        self.lists: dict[str, tuple[str, ChunkList]] = {}
        self.todo: list[str] = []
        self.sizes: dict[str, int] = {}
        self.local_missing: dict[str, str] = {}

    def plan(self, files: Iterable[str], jobs: int) -> int:
        """Read each file's list (verified), ask the remote which parts it has;
        return the bytes that will be sent."""
        for oid in files:
            try:
                clist = self.store.chunk_list(oid)
            except GitmlError as exc:
                self.result.failed[oid] = exc.message
                continue
            list_oid = chunks.read_entry(self.store.root, oid)
            if clist is None or list_oid is None:
                self.result.failed[oid] = "not in the local cache"
                continue
            self.lists[oid] = (list_oid, clist)
        parts = check_oids(
            p
            for list_oid, clist in self.lists.values()
            for p in (list_oid, *(c for c, _ in clist.chunks))
        )
        have = self.remote.present(parts, jobs=jobs, entries=False) if parts else set()
        self.result.parts_present += len(have)
        for oid in parts:
            if oid in have:
                continue
            try:
                self.sizes[oid] = os.stat(self.path_of(oid)).st_size
            except OSError:
                self.local_missing[oid] = "not in the local cache"
                continue
            self.todo.append(oid)
        return sum(self.sizes.values())

    def run(self, jobs: int, progress: Progress) -> None:
        from gitml.remotes.packio import PackUploader
        from gitml.remotes.upload import Uploader

        remote, opts = self.remote, self.remote.options
        sub = TransferResult()
        small = [o for o in self.todo if self.sizes[o] <= opts.pack_object_max]
        if not opts.pack or len(small) < opts.pack_min_objects:
            small = []
        packed = set(small)
        loose = [o for o in self.todo if o not in packed]
        try:
            Uploader(remote, self.store, self.path_of, sub, progress).run(loose, jobs)
            if small:  # run() flushes: the packs and their indexes are durable after it
                PackUploader(remote, self.store, self.path_of, sub, progress, self.sizes).run(
                    small, jobs
                )
        finally:
            self.result.bytes += sub.bytes
            self.result.parts += len(sub.transferred)
        failed = {**self.local_missing, **sub.failed}
        ready: dict[str, str] = {}
        for file_oid, (list_oid, clist) in self.lists.items():
            bad = _first_failure(list_oid, clist, failed)
            if bad is None:
                ready[file_oid] = list_oid
                continue
            what = _chunk_label(clist, bad[0])
            self.result.failed[file_oid] = f"{what}: {bad[1]}"
            if bad[1] == "not in the local cache":
                progress.warning(f"{what} is not in the local cache; the file was not pushed")
        if ready:
            self._write_entries(ready, jobs)

    def _write_entries(self, ready: dict[str, str], jobs: int) -> None:
        """The last step: every part is durable on the remote; now name the files."""
        backend = self.remote.backend
        fault_point("remote.upload.chunk-entry")
        written: list[str] = []

        def one(file_oid: str) -> int:
            data = encode_entry(ready[file_oid])
            backend.retrier(lambda: backend.put_bytes(entry_key(file_oid), data))
            return len(data)

        def done(file_oid: str, nbytes: int | None, exc: BaseException | None) -> None:
            if exc is not None:
                if not is_transient(exc):
                    raise self.remote.failure("upload to", exc) from None
                self.result.failed[file_oid] = describe(exc)
                return
            written.append(file_oid)
            self.result.bytes += nbytes or 0

        try:
            run_parallel(sorted(ready), one, jobs, done)
        finally:
            with contextlib.suppress(Exception):
                backend.flush()  # what was written stays usable
        try:
            backend.flush()
        except Exception as exc:
            raise self.remote.failure("upload to", exc) from None
        self.remote.chunk_entries.update(written)
        self.result.transferred.extend(written)


# ---------------------------------------------------------------- pull


@dataclass
class _Pending:
    list_oid: str
    clist: ChunkList
    data: bytes  # the list's bytes (verified)


def download_files(
    remote: Remote,
    store: ObjectStore,
    files: list[str],
    result: TransferResult,
    progress: Progress,
    jobs: int,
) -> None:
    """Pull files the remote keeps as chunks into ``store`` (see the module docstring)."""
    pending = _load_lists(remote, store, files, result, progress, jobs)
    for attempt in range(2):  # a second round refetches chunks found corrupt locally
        if not pending:
            return
        retry = _fetch_round(remote, store, pending, result, progress, jobs, last=attempt == 1)
        pending = {f: pending[f] for f in retry}


def _load_lists(
    remote: Remote,
    store: ObjectStore,
    files: list[str],
    result: TransferResult,
    progress: Progress,
    jobs: int,
) -> dict[str, _Pending]:
    out: dict[str, _Pending] = {}

    def done(
        file_oid: str, got: tuple[str, ChunkList, bytes] | None, exc: BaseException | None
    ) -> None:
        if isinstance(exc, RemoteListError):
            result.failed[file_oid] = exc.message
            progress.warning(f"{file_oid}: {exc.message}")
        elif exc is not None:
            if not is_transient(exc):
                raise remote.failure("download from", exc) from None
            result.failed[file_oid] = describe(exc)
        else:
            assert got is not None
            out[file_oid] = _Pending(*got)

    run_parallel(files, lambda f: read_list(remote, f, store), jobs, done)
    return out


def _fetch_round(
    remote: Remote,
    store: ObjectStore,
    pending: dict[str, _Pending],
    result: TransferResult,
    progress: Progress,
    jobs: int,
    *,
    last: bool,
) -> list[str]:
    """One batch: the lists and the chunks the cache lacks; then the rebuild check
    and the index entries. Returns the files to try once more."""
    from gitml.remotes.download import Downloader
    from gitml.remotes.packio import PackDownloader

    sub = TransferResult()
    wanted = check_oids(c for p in pending.values() for c, _n in p.clist.chunks)
    with store.batch() as batch:
        for p in pending.values():
            if not os.path.lexists(store.path_of(p.list_oid)):
                batch.add_bytes(p.data, expected_oid=p.list_oid, whole=True)
        todo = store.missing(wanted)
        result.parts_present += len(wanted) - len(todo)
        if todo and not remote.packs.indexes:
            remote.ensure_packs_loaded(jobs=jobs)
        packed = [o for o in todo if o in remote.packs.where]
        loose = [o for o in todo if o not in remote.packs.where]
        lock = threading.Lock()
        Downloader(remote, batch, lock, sub, progress, whole=True).run(loose, jobs)
        if packed:
            PackDownloader(remote, batch, sub, progress, whole=True).run(packed, jobs)
    result.bytes += sub.bytes
    result.parts += len(sub.transferred)
    ready: dict[str, str] = {}
    retry: list[str] = []
    for file_oid, p in pending.items():
        bad = _first_failure(p.list_oid, p.clist, sub.failed)
        if bad is not None:
            reason = bad[1]
            if reason.startswith("not on the remote"):
                reason = "not on the remote"
            message = f"{_chunk_label(p.clist, bad[0])}: {reason}"
            result.failed[file_oid] = message
            progress.warning(message)
            continue
        try:
            chunkread.verify(store, p.clist, f"file {file_oid}")
        except ObjectMissingError as exc:  # a local chunk went (quarantined, or a gc)
            if not last:
                retry.append(file_oid)
                continue
            result.failed[file_oid] = exc.message
            continue
        except CorruptObjectError as exc:
            if not last and store.missing(c for c, _n in p.clist.chunks):
                retry.append(file_oid)  # a local chunk was corrupt (now quarantined): refetch
                continue
            result.failed[file_oid] = exc.message + " (the chunk list on the remote is wrong?)"
            progress.warning(result.failed[file_oid])
            continue
        ready[file_oid] = p.list_oid
    if ready:
        store.index_chunked(ready)  # chunks and lists are durable and rebuild the files
        result.transferred.extend(ready)
    return retry


# ---------------------------------------------------------------- gc and fsck


@dataclass
class RemoteChunkRoots:
    """Chunk objects a remote gc must keep, and those owned only by removable files."""

    keep: dict[str, str] = field(default_factory=dict)  # chunk/list oid -> who needs it
    owned: dict[str, set[str]] = field(default_factory=dict)  # removable file oid -> its parts
    young: int = 0  # entries no root needs, kept for the grace period


def _read_lists(
    remote: Remote, files: list[str], jobs: int
) -> dict[str, tuple[str, ChunkList] | RemoteListError]:
    out: dict[str, tuple[str, ChunkList] | RemoteListError] = {}

    def done(
        file_oid: str, got: tuple[str, ChunkList, bytes] | None, exc: BaseException | None
    ) -> None:
        if isinstance(exc, RemoteListError):
            out[file_oid] = exc
        elif exc is not None:
            raise remote.failure("read chunk lists of", exc) from None
        else:
            assert got is not None
            out[file_oid] = (got[0], got[1])

    run_parallel(files, lambda f: read_list(remote, f), jobs, done)
    return out


def remote_roots(
    remote: Remote, needed: dict[str, str], grace_seconds: float, now: float, jobs: int
) -> RemoteChunkRoots:
    """store/chunkgc.py's rules on a remote: a kept file (or an entry younger than
    the grace period: a push whose commit is not on git yet) keeps its entry, its
    list and every chunk the list names; the parts of the other files are theirs
    to lose, but only those no kept file shares. A kept file whose list cannot be
    read stops gc: it cannot tell which chunks to keep."""
    times = remote.chunk_entry_times()
    lists = _read_lists(remote, sorted(times), jobs)
    out = RemoteChunkRoots()
    later: list[str] = []
    for file_oid, mtime in sorted(times.items()):
        label = needed.get(file_oid)
        young = mtime is None or now - mtime < grace_seconds
        if label is None and not young:
            later.append(file_oid)
            continue
        if label is None:
            out.young += 1
        got = lists[file_oid]
        if isinstance(got, RemoteListError):
            if label is None:
                continue  # a recent entry with a damaged list: kept, fsck --cloud reports it
            raise RefusedError(
                f"remote gc cannot tell which chunks {label} needs: {got.message}",
                "gitml fsck --cloud names the problem; gitml push from a clone that has "
                "the file sends it again",
            )
        list_oid, clist = got
        why = f"{label or 'a recent push'} (chunk)"
        for oid in (list_oid, *(c for c, _n in clist.chunks)):
            out.keep.setdefault(oid, why)
    for file_oid in later:
        got = lists[file_oid]
        parts: set[str] = set()
        if not isinstance(got, RemoteListError):
            parts = {got[0], *(c for c, _n in got[1].chunks)}
        out.owned[file_oid] = {o for o in parts if o not in out.keep}
    return out


def delete_entries(remote: Remote, files: Iterable[str]) -> None:
    """Remove the chunk entries of ``files`` (before their chunks: an entry never
    names a chunk that is gone)."""
    keys = [entry_key(f) for f in files]
    for start in range(0, len(keys), 1000):
        batch = keys[start : start + 1000]
        remote.call("delete from", lambda b=batch: remote.backend.delete(b))  # type: ignore[misc]
    remote.chunk_entries.difference_update(files)
    fault_point("remote.gc.after-entries")


@dataclass
class ChunkCheck:
    """What fsck --cloud found about files the remote holds as chunks."""

    corrupt: dict[str, str] = field(default_factory=dict)  # file oid -> label: what is wrong
    missing: dict[str, str] = field(default_factory=dict)


def check_files(
    remote: Remote, files: dict[str, str], sizes: dict[str, int], jobs: int
) -> ChunkCheck:
    """Each file's entry and list (hash, header, total size against the pointer's
    ``sizes``) and every chunk it names: present, with the size the list says.
    ``files``: file oid -> label. Hashing the chunks is ``--verify``'s download."""
    out = ChunkCheck()
    lists = _read_lists(remote, sorted(files), jobs)
    wanted: dict[str, tuple[str, ChunkList]] = {}
    for file_oid, got in lists.items():
        label = files[file_oid]
        if isinstance(got, RemoteListError):
            target = out.missing if "is not on the remote" in got.message else out.corrupt
            target[file_oid] = f"{label}: {got.message}"
            continue
        clist = got[1]
        expected = sizes.get(file_oid, -1)
        if expected >= 0 and clist.size != expected:
            out.corrupt[file_oid] = (
                f"{label}: its chunk list on the remote says {clist.size} bytes, "
                f"the pointer {expected}"
            )
            continue
        wanted[file_oid] = got
    every = check_oids(c for _l, clist in wanted.values() for c, _n in clist.chunks)
    found = remote.stat_many(every, jobs=jobs) if every else {}
    for file_oid, (_list_oid, clist) in wanted.items():
        label = files[file_oid]
        for oid, size in clist.chunks:
            got_size = found.get(oid)
            if got_size is None:
                out.missing[file_oid] = f"{label}: {_chunk_label(clist, oid)} is not on the remote"
                break
            if got_size != size:
                out.corrupt[file_oid] = (
                    f"{label}: {_chunk_label(clist, oid)} has {got_size} bytes on the remote, "
                    f"its list says {size}"
                )
                break
    return out


def remote_usage(remote: Remote, jobs: int) -> CacheUsage:
    """``gitml du`` for a remote: *logical* is every file as if stored whole (a
    chunked file counts its full size), *stored* the bytes of its objects, loose
    or packed (chunks and lists once, however many files share them). One listing
    of objects/, packs/ and chunked/, plus one read of each chunk list."""
    from gitml.store.usage import CacheUsage

    out = CacheUsage()
    objects = remote.list_times(jobs=jobs)
    entries = sorted(remote.load_chunk_entries())
    lists = _read_lists(remote, entries, jobs)
    parts: set[str] = set()
    list_oids: set[str] = set()
    for file_oid, got in lists.items():
        if isinstance(got, RemoteListError):
            out.damaged_lists += 1
            continue
        list_oid, clist = got
        list_oids.add(list_oid)
        parts.add(list_oid)
        parts.update(c for c, _n in clist.chunks)
        if file_oid not in objects:  # else counted as a whole object below
            out.chunked_files += 1
            out.logical += clist.size
    for oid, (size, _mtime) in objects.items():
        out.objects += 1
        out.stored += size
        if oid in parts:
            out.chunks += oid not in list_oids
        else:
            out.whole_files += 1
            out.logical += size
    return out
