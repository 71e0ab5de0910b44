"""File-by-file comparison of two versions of a tracked path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from gitml.context import RepoContext
from gitml.errors import ObjectMissingError
from gitml.store.manifest import FileRef, decode_manifest_files
from gitml.workspace.pointer import Pointer

Change = Literal["added", "deleted", "modified"]


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str  # repo-relative
    change: Change
    old_size: int | None
    new_size: int | None


Sized = FileRef  # (oid, size, executable): one file of a version


def load_entries(ctx: RepoContext, pointer: Pointer, tracked: str, source: str) -> dict[str, Sized]:
    """Files of a pointer's version: relpath ('' for a file) → (oid, size)."""
    if pointer.kind == "file":
        return {"": Sized(pointer.oid, pointer.size)}
    if not ctx.store.has(pointer.oid):
        where = "" if source in ("workspace", "pointer", "HEAD") else "--all-commits "
        raise ObjectMissingError(
            f"the manifest of {tracked} ({source}), object {pointer.oid[:12]}, is not in the cache",
            f"gitml pull {where}{tracked}",
        )
    return decode_manifest_files(ctx.store.read_bytes(pointer.oid), source=f"{tracked} ({source})")


def compare(tracked: str, old: Mapping[str, Sized], new: Mapping[str, Sized]) -> list[FileChange]:
    """Changes from ``old`` to ``new``, sorted by path."""

    def full(rel: str) -> str:
        return f"{tracked}/{rel}" if rel else tracked

    changes: list[FileChange] = []
    for rel, entry in old.items():
        other = new.get(rel)
        if other is None:
            changes.append(FileChange(full(rel), "deleted", entry.size, None))
        elif other.oid != entry.oid or other.executable != entry.executable:
            # A chmod alone changes the manifest (and the folder's oid) too.
            changes.append(FileChange(full(rel), "modified", entry.size, other.size))
    for rel, entry in new.items():
        if rel not in old:
            changes.append(FileChange(full(rel), "added", None, entry.size))
    changes.sort(key=lambda c: c.path.encode("utf-8"))
    return changes
