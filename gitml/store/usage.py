"""How much the cache holds, and how much chunking saves (``gitml du``).

*logical*: the bytes of every file and manifest in the cache as if each were
stored whole (a chunked file counts its full size); *stored*: the bytes its
objects take (chunks and chunk lists counted once, however many files share
them). The dedup ratio is logical / stored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.errors import GitmlError
from gitml.store import chunkread, chunks

if TYPE_CHECKING:
    from gitml.store.objects import ObjectStore


@dataclass
class CacheUsage:
    logical: int = 0
    stored: int = 0
    objects: int = 0  # files on disk in the fan-out folders
    whole_files: int = 0  # objects that are files or manifests, stored whole
    chunked_files: int = 0
    chunks: int = 0  # chunk objects (shared ones once)
    damaged_lists: int = 0  # chunked files whose list could not be read (gitml fsck)

    @property
    def ratio(self) -> float:
        return self.logical / self.stored if self.stored else 1.0


def cache_usage(store: ObjectStore) -> CacheUsage:
    """Sizes only (one stat per object, one read per chunk list): no hashing."""
    out = CacheUsage()
    parts: set[str] = set()  # chunk lists and chunks
    lists: set[str] = set()
    for file_oid, list_oid in chunks.iter_entries(store.root):
        try:
            clist = chunkread.load_list(store, file_oid)
        except GitmlError:
            clist = None
        if clist is None or list_oid is None:
            out.damaged_lists += 1
            continue
        lists.add(list_oid)
        parts.add(list_oid)
        parts.update(oid for oid, _n in clist.chunks)
        if not os.path.lexists(store.path_of(file_oid)):  # else counted as a whole object
            out.chunked_files += 1
            out.logical += clist.size
    for oid in store.iter_oids():
        try:
            size = os.lstat(store.path_of(oid)).st_size
        except FileNotFoundError:
            continue
        out.objects += 1
        out.stored += size
        if oid in parts:
            out.chunks += oid not in lists
        else:
            out.whole_files += 1
            out.logical += size
    return out
