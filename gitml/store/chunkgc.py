"""What gc and fsck need to know about chunked files.

A kept file oid keeps its index entry, its chunk list and every chunk the list
names (chunks are shared between versions, so a chunk goes only when no kept
file needs it). An index entry younger than the grace period is kept with all
its chunks too: it may be a concurrent add whose pointer is not written yet.
The unit a user can lose is the file, so gc reports (and checks remotes for)
the file oid, and removes its index entry before its chunks: an entry never
names a chunk that is gone.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitml.errors import GitmlError, RefusedError
from gitml.store import chunkread, chunks

if TYPE_CHECKING:
    from gitml.store.objects import ObjectStore


def members(store: ObjectStore, file_oid: str) -> set[str] | None:
    """The chunk list oid and chunk oids of ``file_oid``; None if its list is unreadable."""
    list_oid = chunks.read_entry(store.root, file_oid)
    if list_oid is None:
        return None
    try:
        clist = chunkread.load_list(store, file_oid)
    except GitmlError:
        return None
    if clist is None:
        return None
    return {list_oid, *(oid for oid, _n in clist.chunks)}


def labels(store: ObjectStore, needed: dict[str, str]) -> dict[str, str]:
    """chunk/list oid -> "<who needs the file> (chunk)", for the chunked files of ``needed``."""
    out: dict[str, str] = {}
    for file_oid, _list_oid in chunks.iter_entries(store.root):
        label = needed.get(file_oid)
        if label is not None:
            for oid in members(store, file_oid) or ():
                out.setdefault(oid, f"{label} (chunk)")
    return out


@dataclass
class ChunkRoots:
    """Chunk objects gc must keep, and those owned only by files it may remove."""

    keep: dict[str, str] = field(default_factory=dict)  # chunk/list oid -> who needs it
    owned: dict[str, set[str]] = field(default_factory=dict)  # unneeded file oid -> its objects


def roots(store: ObjectStore, needed: dict[str, str], grace_seconds: float) -> ChunkRoots:
    """Split the index between kept files (their objects -> ``keep``) and the rest."""
    out = ChunkRoots()
    now = time.time()
    later: list[str] = []
    for file_oid, _list_oid in chunks.iter_entries(store.root):
        label = needed.get(file_oid)
        if label is None and not _recent(store, file_oid, now, grace_seconds):
            later.append(file_oid)
            continue
        found = members(store, file_oid)
        if found is None:
            if label is None:
                continue  # a recent entry with a damaged list: keep it, fsck reports it
            raise RefusedError(
                f"gc cannot tell which chunks {label} needs: its chunk list is missing or damaged",
                "gitml fsck names the problem; gitml pull restores the file",
            )
        for oid in found:
            out.keep.setdefault(oid, f"{label or 'a recent add'} (chunk)")
    for file_oid in later:
        found = members(store, file_oid)
        out.owned[file_oid] = {o for o in found or () if o not in out.keep}
    return out


def _recent(store: ObjectStore, file_oid: str, now: float, grace_seconds: float) -> bool:
    try:
        return now - os.stat(chunks.entry_path(store.root, file_oid)).st_mtime < grace_seconds
    except FileNotFoundError:
        return False
