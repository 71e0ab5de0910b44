"""Pack files: many small objects in one remote file (one PUT instead of thousands).

Layout beside ``objects/``::

    packs/<pack-id>.pack   the objects' bytes, concatenated
    packs/<pack-id>.idx    b"gitml-pack-index 1\\n" then "<oid> <offset> <size>\\n" per object

``pack-id`` is the BLAKE3 of the ``.pack`` bytes. The ``.pack`` is written first and
the ``.idx`` second, so an index names only a complete pack; a pack without an index
(a killed push) is never read. Every object read from a pack is hashed before it is
stored, like a loose object. Packs are immutable: deleting a packed object rewrites
its pack without it (``repack``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from gitml.store.hashing import is_oid

PACKS = "packs"
MAGIC = b"gitml-pack-index 1\n"
MAX_ENTRY = 64 * 1024 * 1024  # a packed object is small; a bigger entry means a bad index
_LINE_RE = re.compile(rb"^([0-9a-f]{64}) (\d{1,15}) (\d{1,15})$")


def pack_key(pack_id: str) -> str:
    return f"{PACKS}/{pack_id}.pack"


def index_key(pack_id: str) -> str:
    return f"{PACKS}/{pack_id}.idx"


def encode_index(entries: Iterable[tuple[str, int]]) -> bytes:
    """Index bytes for objects ``(oid, size)`` stored back to back in pack order."""
    lines = [MAGIC]
    offset = 0
    for oid, size in entries:
        lines.append(f"{oid} {offset} {size}\n".encode())
        offset += size
    return b"".join(lines)


def decode_index(data: bytes) -> dict[str, tuple[int, int]]:
    """``oid -> (offset, size)``; ValueError for anything malformed (strict)."""
    if not data.startswith(MAGIC) or not data.endswith(b"\n"):
        raise ValueError("not a gitml pack index")
    out: dict[str, tuple[int, int]] = {}
    expected = 0
    for line in data[len(MAGIC) : -1].split(b"\n") if len(data) > len(MAGIC) else []:
        match = _LINE_RE.match(line)
        if match is None:
            raise ValueError(f"bad index line {line[:80]!r}")
        oid, offset, size = match.group(1).decode(), int(match.group(2)), int(match.group(3))
        if offset != expected or oid in out:
            raise ValueError("index entries overlap or repeat")
        if size > MAX_ENTRY:
            raise ValueError(f"index entry of {size} bytes is too big for a pack")
        out[oid] = (offset, size)
        expected = offset + size
    return out


def pack_length(index: dict[str, tuple[int, int]]) -> int:
    """The size a pack must have for its index: where its last object ends."""
    return max((offset + size for offset, size in index.values()), default=0)


@dataclass(frozen=True, slots=True)
class DamagedPack:
    """A pack whose size is not what its index says (truncated, overwritten)."""

    pack_id: str
    expected: int
    actual: int | None  # None: the .pack is gone, only its index is left
    index: dict[str, tuple[int, int]] = field(repr=False)

    def describe(self) -> str:
        found = "missing" if self.actual is None else f"{self.actual} bytes"
        return f"pack {self.pack_id[:12]}: {found}, its index says {self.expected} bytes"


def pack_ids(keys: Iterable[str]) -> set[str]:
    """Ids of the packs that have an index, from a listing of ``packs/``."""
    out: set[str] = set()
    for key in keys:
        name = key.rsplit("/", 1)[-1]
        if name.endswith(".idx") and is_oid(name[:-4]):
            out.add(name[:-4])
    return out


@dataclass
class PackSet:
    """What the packs on a remote hold: ``oid -> (pack id, offset, size)``."""

    indexes: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    where: dict[str, tuple[str, int, int]] = field(default_factory=dict)

    def add(self, pack_id: str, index: dict[str, tuple[int, int]]) -> None:
        self.indexes[pack_id] = index
        for oid, (offset, size) in index.items():
            self.where.setdefault(oid, (pack_id, offset, size))

    def drop(self, pack_id: str) -> None:
        if self.indexes.pop(pack_id, None) is None:
            return
        self.where = {}
        for other, index in self.indexes.items():
            for oid, (offset, size) in index.items():
                self.where.setdefault(oid, (other, offset, size))


def group(
    oids: list[str], sizes: dict[str, int], max_bytes: int, max_objects: int
) -> list[list[str]]:
    """Split ``oids`` into packs of at most ``max_bytes`` / ``max_objects``."""
    groups: list[list[str]] = []
    current: list[str] = []
    total = 0
    for oid in oids:
        size = sizes.get(oid, 0)
        if current and (total + size > max_bytes or len(current) >= max_objects):
            groups.append(current)
            current, total = [], 0
        current.append(oid)
        total += size
    if current:
        groups.append(current)
    return groups


@dataclass(frozen=True, slots=True)
class Span:
    """One ranged read of a pack covering several objects."""

    pack_id: str
    start: int
    length: int
    entries: tuple[tuple[str, int, int], ...]  # (oid, offset, size)


def spans(wanted: Iterable[tuple[str, str, int, int]], max_gap: int, max_len: int) -> list[Span]:
    """Coalesce ``(pack id, oid, offset, size)`` into ranged reads: neighbours closer
    than ``max_gap`` bytes share a read of at most ``max_len`` bytes."""
    by_pack: dict[str, list[tuple[str, int, int]]] = {}
    for pack_id, oid, offset, size in wanted:
        by_pack.setdefault(pack_id, []).append((oid, offset, size))
    out: list[Span] = []
    for pack_id, entries in by_pack.items():
        entries.sort(key=lambda e: e[1])
        run: list[tuple[str, int, int]] = []
        start = end = 0
        for oid, offset, size in entries:
            if run and (offset - end > max_gap or offset + size - start > max_len):
                out.append(Span(pack_id, start, end - start, tuple(run)))
                run = []
            if not run:
                start = offset
            run.append((oid, offset, size))
            end = max(end, offset + size) if len(run) > 1 else offset + size
        if run:
            out.append(Span(pack_id, start, end - start, tuple(run)))
    return out
