"""Moving one DVC file object into gitml's cache, verified, each byte read once.

Sources, in order: the workspace file (when it exists and its bytes match
DVC's MD5: reading it also lets us prime gitml's stat index, so ``gitml
status`` is clean at once), then the DVC cache. A small file (< 1 MiB) is read
into memory once, MD5-checked and handed to ``Batch.add_bytes`` (BLAKE3).
A big one is MD5-checked in 1 MiB reads (DVC's chunking, which the 2.x
dos2unix MD5 depends on) and then stored by ``Batch.add_file`` (hash while
copying, or a reflink clone), with a stat check across both reads; the second
read comes from the page cache.

Objects known from an earlier run (``Md5Map``) and still in the cache are
not read at all.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.interop.md5 import CHUNK, DvcMd5, dvc_md5_bytes
from gitml.interop.md5map import Md5Map
from gitml.store.fsutil import read_exact, stat_key
from gitml.store.hashing import hash_file
from gitml.store.objects import Batch
from gitml.store.stat_index import StatIndex, StatRow

SMALL = 1 << 20
_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


WsState = Literal["verified", "present", "absent", "differs"]


@dataclass(frozen=True, slots=True)
class Stored:
    """Where an object came from, and what the workspace holds at its path."""

    oid: str
    size: int
    row: StatRow | None  # the workspace file was read and matched: its stat row
    state: WsState  # verified (read, matches), present (not read), absent, differs
    executable: bool  # the workspace file's x bit (False when absent)


class _Mismatch(Exception):
    """The source exists but its bytes do not match the MD5 (or changed while read)."""


@dataclass
class Ingestor:
    """Stores DVC objects into one open :class:`Batch`."""

    ctx: RepoContext
    batch: Batch
    known: Md5Map
    link: str
    pending: dict[tuple[bool, str], tuple[str, int]] = field(default_factory=dict)
    differs: list[str] = field(default_factory=list)  # workspace files unlike DVC's record
    corrupt: list[str] = field(default_factory=list)  # DVC cache objects with a bad MD5
    nbytes: int = 0
    _safe_dirs: set[str] = field(default_factory=set)

    def lookup(self, md5: str, legacy: bool) -> tuple[str, int] | None:
        """The object already imported for this MD5 (this run or an earlier one), if present."""
        hit = self.pending.get((legacy, md5)) or self.known.get(legacy, md5)
        if hit is not None and self.ctx.store.has(hit[0]):
            return hit
        return None

    def ingest(
        self,
        md5: str,
        legacy: bool,
        rel: str,
        cache_paths: list[Path],
        size: int | None,
        row: StatRow | None = None,
    ) -> Stored | None:
        """Store the object for workspace path ``rel``; None if it is nowhere.

        ``row``: the stat index's row for ``rel``, if any.
        """
        ws = self._workspace_stat(rel)
        state: WsState = "absent" if ws is None else "present"
        if ws is not None and not stat.S_ISREG(ws.st_mode):
            state = "differs"  # a link (DVC symlink cache type) or a folder
        executable = bool(ws is not None and stat.S_ISREG(ws.st_mode) and ws.st_mode & 0o111)
        hit = self.lookup(md5, legacy)
        if hit is not None:
            if ws is None or state != "present":
                return Stored(hit[0], hit[1], None, state, executable)
            return self._check_known(rel, ws, row, hit, executable)
        if state == "present":
            try:
                found = self._from(os.fspath(self.ctx.root / rel), md5, legacy, size, rel)
            except _Mismatch:
                state = "differs"
                self.differs.append(rel)
            else:
                if found is not None:
                    return Stored(found.oid, found.size, found.row, "verified", executable)
        for path in cache_paths:
            try:
                found = self._from(os.fspath(path), md5, legacy, None, None)
            except _Mismatch:
                self.corrupt.append(f"{path} (for {rel})")
                continue
            if found is not None:
                return Stored(found.oid, found.size, None, state, executable)
        return None

    def from_cache(self, md5: str, legacy: bool, cache_paths: list[Path]) -> Stored | None:
        """The object for ``md5`` from the DVC cache only (an older version's
        output: the workspace holds another version), verified; None if absent."""
        hit = self.lookup(md5, legacy)
        if hit is not None:
            return Stored(hit[0], hit[1], None, "absent", False)
        for path in cache_paths:
            try:
                found = self._from(os.fspath(path), md5, legacy, None, None)
            except _Mismatch:
                self.corrupt.append(str(path))
                continue
            if found is not None:
                return found
        return None

    def _check_known(
        self,
        rel: str,
        ws: os.stat_result,
        row: StatRow | None,
        hit: tuple[str, int],
        executable: bool,
    ) -> Stored:
        """A workspace file whose object we already have: is it that object?

        Fresh in the stat index: yes, no read. Otherwise one BLAKE3 read (no
        MD5 needed: the object's oid is what we compare with).
        """
        oid, size = hit
        if StatIndex.fresh_oid(rel, ws, row) == oid:
            return Stored(oid, size, None, "verified", executable)
        if ws.st_size != size:
            self.differs.append(rel)
            return Stored(oid, size, None, "differs", executable)
        seen_ns = time.time_ns()
        try:
            found, _ = hash_file(self.ctx.root / rel)
        except GitmlError:
            found = ""
        if found != oid:
            self.differs.append(rel)
            return Stored(oid, size, None, "differs", executable)
        new_row = StatRow.of(rel, ws, oid, seen_ns)
        self.nbytes += size
        return Stored(oid, size, new_row, "verified", executable)

    def _workspace_stat(self, rel: str) -> os.stat_result | None:
        if not self._parents_safe(rel):
            return None
        try:
            return os.lstat(self.ctx.root / rel)
        except OSError:
            return None

    def _parents_safe(self, rel: str) -> bool:
        """Every folder above ``rel`` is a real folder (never read through a symlink)."""
        folder = rel.rpartition("/")[0]
        if not folder or folder in self._safe_dirs:
            return True
        if not self._parents_safe(folder):
            return False
        try:
            st = os.lstat(self.ctx.root / folder)
        except OSError:
            return False
        if not stat.S_ISDIR(st.st_mode):
            return False
        self._safe_dirs.add(folder)
        return True

    def _from(
        self, path: str, md5: str, legacy: bool, size: int | None, rel: str | None
    ) -> Stored | None:
        try:
            fd = os.open(path, _OPEN)
        except OSError:
            return None  # absent, a symlink (ELOOP), unreadable: not a usable source
        try:
            seen_ns = time.time_ns()  # the stat row's record time: before the stat (racy-git)
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            if size is not None and st.st_size != size:
                raise _Mismatch
            if st.st_size < SMALL:
                data = read_exact(fd, st.st_size + 1)
                if len(data) != st.st_size or not dvc_md5_bytes(data, legacy=legacy).matches(md5):
                    raise _Mismatch
                oid, nbytes = self.batch.add_bytes(data), len(data)
            else:
                hasher = DvcMd5(legacy=legacy)
                total = 0
                while chunk := read_exact(fd, CHUNK):
                    hasher.update(chunk)
                    total += len(chunk)
                if total != st.st_size or not hasher.matches(md5):
                    raise _Mismatch
                oid, nbytes = self.batch.add_file(path, link=self.link)
                if stat_key(os.lstat(path)) != stat_key(st) or nbytes != total:
                    raise _Mismatch  # changed between the two reads: the MD5 proves nothing
        finally:
            os.close(fd)
        self.pending[(legacy, md5)] = (oid, nbytes)
        self.nbytes += nbytes
        row = None
        if rel is not None:
            row = StatRow.of(rel, st, oid, seen_ns)
        return Stored(oid, nbytes, row, "verified", False)

    def flush_known(self) -> None:
        """Record this batch's MD5 → oid pairs (call after the batch has exited)."""
        rows = [(legacy, md5, oid, size) for (legacy, md5), (oid, size) in self.pending.items()]
        self.known.put_many(rows)
        self.pending.clear()
