"""Reading a chunked object back: its chunk list, then its chunks, each verified.

A chunk is small (at most 256 KiB), so each is read whole, hashed, and only
then handed on; the whole file's BLAKE3 is computed over the same bytes and
checked at the end (the caller keeps the output unnamed, or mode 000, until
then). Memory stays at one chunk. A missing or corrupt chunk is named
together with the file that needs it; a corrupt chunk is quarantined like any
object whose bytes do not match its name.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import TYPE_CHECKING

import blake3

from gitml.errors import CorruptObjectError, ObjectMissingError
from gitml.store import chunks
from gitml.store.chunks import ChunkList
from gitml.store.fsutil import read_exact
from gitml.store.hashing import new_hasher

if TYPE_CHECKING:
    from gitml.store.objects import ObjectStore

_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_PULL_HINT = "gitml pull restores it from a remote; or add the original data again"


def load_list(store: ObjectStore, file_oid: str, what: str = "") -> ChunkList | None:
    """The verified chunk list of ``file_oid``; None if the cache has no entry for it."""
    list_oid = chunks.read_entry(store.root, file_oid)
    if list_oid is None:
        return None
    label = what or f"object {file_oid}"
    try:
        data = store.read_bytes(list_oid)
    except ObjectMissingError:
        raise ObjectMissingError(
            f"chunk list {list_oid} of {label} is not in the cache {store.root}", _PULL_HINT
        ) from None
    except CorruptObjectError as exc:
        raise CorruptObjectError(f"{exc.message} (the chunk list of {label})", _PULL_HINT) from None
    clist = chunks.decode(data, source=f"{list_oid} of {label}")
    if clist.file_oid != file_oid:
        raise CorruptObjectError(
            f"the chunk index names list {list_oid} for {label}, but that list rebuilds "
            f"object {clist.file_oid}",
            "gitml fsck; then gitml pull or add the data again",
        )
    return clist


def iter_chunks(store: ObjectStore, clist: ChunkList, what: str) -> Generator[bytes, None, None]:
    """Each chunk's bytes, in order, each verified against its oid."""
    label = what or f"object {clist.file_oid}"
    for index, (oid, size) in enumerate(clist.chunks):
        path = store.path_of(oid)
        try:
            fd = os.open(path, _OPEN)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectMissingError(
                f"chunk {index + 1} of {len(clist.chunks)} ({oid}) of {label} is not in "
                f"the cache {store.root}",
                _PULL_HINT,
            ) from None
        try:
            data = read_exact(fd, size + 1)
        finally:
            os.close(fd)
        count = f"chunk {index + 1} of {len(clist.chunks)} ({oid}) of {label}"
        if blake3.blake3(data).hexdigest() != oid:  # corruption: only a hash mismatch
            try:
                where = f"moved to {store.quarantine(oid)}"
            except ObjectMissingError:
                where = "already moved aside"
            raise CorruptObjectError(
                f"{count} is corrupt: its bytes do not match its name ({where})", _PULL_HINT
            )
        if len(data) != size:  # an intact chunk the list describes wrongly
            raise CorruptObjectError(
                f"{count} has {len(data)} bytes, its chunk list says {size}: the list is wrong",
                _PULL_HINT,
            )
        yield data


def rebuild_error(clist: ChunkList, got: str, what: str) -> CorruptObjectError:
    """Every chunk is intact but together they are not the file: the list is wrong."""
    return CorruptObjectError(
        f"the chunks of {what or 'object ' + clist.file_oid} rebuild object {got}, not "
        f"{clist.file_oid}: its chunk list is wrong (out of order or edited)",
        "gitml pull restores the file from a remote; or add the original data again",
    )


def verify(store: ObjectStore, clist: ChunkList, what: str = "") -> None:
    """Read every chunk and check the whole file's hash; raises on any problem."""
    hasher = new_hasher(0)
    for data in iter_chunks(store, clist, what):
        hasher.update(data)
    got = str(hasher.hexdigest())
    if got != clist.file_oid:
        raise rebuild_error(clist, got, what)


class ChunkedReader:
    """A read-only file-like view of a chunked object (for uploads): ``read(n)``.

    Each chunk is verified as it is read; the reader of the stream hashes the
    whole (the upload does) and must not trust it before the end.
    """

    def __init__(self, store: ObjectStore, clist: ChunkList, what: str = "") -> None:
        self._chunks = iter_chunks(store, clist, what)
        self._buf = b""
        self.size = clist.size

    def read(self, n: int = -1) -> bytes:
        parts = [self._buf]
        have = len(self._buf)
        while n < 0 or have < n:
            data = next(self._chunks, None)
            if data is None:
                break
            parts.append(data)
            have += len(data)
        joined = b"".join(parts)
        if n < 0:
            self._buf = b""
            return joined
        self._buf = joined[n:]
        return joined[:n]

    def __enter__(self) -> ChunkedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._chunks.close()
