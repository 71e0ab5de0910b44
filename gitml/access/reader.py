"""Streaming one object from the cache, its hash checked on the way.

:class:`ObjectReader` is a raw binary stream over a whole object or a chunked
one (its chunks in order): memory stays at the caller's buffer. Bytes read
front to back are hashed as they pass, and the last read raises
:class:`~gitml.errors.CorruptObjectError` if they were not the object. A
seek that leaves that order (Parquet readers jump to the footer first) verifies
the whole object once, in one streaming pass, before any byte is returned, so
every byte a caller gets belongs to a verified object.
"""

from __future__ import annotations

import bisect
import io
import os
from typing import TYPE_CHECKING

from gitml.errors import CorruptObjectError, ObjectMissingError
from gitml.store.hashing import new_hasher

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from gitml.store.objects import ObjectStore

_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_BLOCK = 1 << 20
_HINT = "gitml fsck finds damaged objects; gitml pull brings them back"


class ObjectReader(io.RawIOBase):
    """``ObjectReader(store, oid, size, what)``: read-only, seekable."""

    def __init__(self, store: ObjectStore, oid: str, size: int, what: str) -> None:
        super().__init__()
        self._what = what
        self._oid = oid
        self.size = size
        clist = store.chunk_list(oid, what)
        if clist is None:
            parts = [(store.path_of(oid), size)]
        else:
            parts = [(store.path_of(c), n) for c, n in clist.chunks]
            if clist.size != size:
                raise CorruptObjectError(f"{what}: its chunk list says {clist.size} bytes")
        self._paths = [p for p, _ in parts]
        self._starts: list[int] = []
        total = 0
        for _, n in parts:
            self._starts.append(total)
            total += n
        self._fds: dict[int, int] = {}
        self._pos = 0
        self._hasher = new_hasher(size)
        self._hashed = 0  # bytes [0, _hashed) went through the hasher, in order
        self._verified = False
        self._fd_of(0) if parts else None  # a missing object fails at open, not at read

    # -- io.RawIOBase -----------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        target = base + offset
        if target < 0:
            raise ValueError("negative seek position")
        if target != self._hashed and not self._verified:
            self._verify_all()
        self._pos = target
        return target

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._pos >= self.size or not len(view):
            if self._pos >= self.size:
                self._finish()
            return 0
        n = self._pread(view, self._pos)
        if not self._verified and self._pos == self._hashed:
            self._hasher.update(view[:n])
            self._hashed += n
        self._pos += n
        if self._pos >= self.size:
            self._finish()
        return n

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        super().close()

    # -- internals --------------------------------------------------------
    def _fd_of(self, index: int) -> int:
        fd = self._fds.get(index)
        if fd is None:
            try:
                fd = os.open(self._paths[index], _OPEN)
            except (FileNotFoundError, NotADirectoryError):
                part = f" (chunk {index + 1} of {len(self._paths)})" if len(self._paths) > 1 else ""
                raise ObjectMissingError(
                    f"{self._what}{part} is not in the cache", "gitml pull brings it"
                ) from None
            if len(self._fds) >= 8:  # keep a few chunk files open, not thousands
                os.close(self._fds.pop(next(iter(self._fds))))
            self._fds[index] = fd
        return fd

    def _pread(self, view: memoryview, pos: int) -> int:
        index = bisect.bisect_right(self._starts, pos) - 1
        start = self._starts[index]
        end = self._starts[index + 1] if index + 1 < len(self._starts) else self.size
        want = min(len(view), end - pos)
        data = os.pread(self._fd_of(index), want, pos - start)
        if not data:
            raise CorruptObjectError(f"{self._what} is shorter in the cache than recorded", _HINT)
        view[: len(data)] = data
        return len(data)

    def _finish(self) -> None:
        if self._verified:
            return
        if self._hashed != self.size:
            self._verify_all()
            return
        self._check(str(self._hasher.hexdigest()))

    def _verify_all(self) -> None:
        hasher = new_hasher(self.size)
        buf = bytearray(min(_BLOCK, max(self.size, 1)))
        view = memoryview(buf)
        pos = 0
        while pos < self.size:
            n = self._pread(view[: min(len(buf), self.size - pos)], pos)
            hasher.update(view[:n])
            pos += n
        self._check(str(hasher.hexdigest()))

    def _check(self, got: str) -> None:
        if got != self._oid:
            raise CorruptObjectError(
                f"{self._what} is corrupt in the cache: its bytes hash to {got[:12]}, "
                f"not {self._oid[:12]}",
                _HINT,
            )
        self._verified = True
