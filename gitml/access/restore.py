"""Restoring imported data from its source, when this repository's remote lacks it.

A clone of a consumer repository may have no data remote at all (its data is
all imported), or one that nobody pushed the imports to. ``gitml pull`` then
asks each import's source, at the locked commit, for the objects. A sub-folder
import names a manifest made at import time: it is made again, byte for byte,
from the source's folder manifest, and checked against the pointer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gitml.access.imports import bring
from gitml.access.place import Place, place_in
from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.store.manifest import decode_manifest
from gitml.workspace.pointer import Pointer
from gitml.workspace.tracked import read_pointer, resolve_targets, tracked_paths


@dataclass
class Restored:
    restored: list[str] = field(default_factory=list)  # tracked paths completed
    failed: dict[str, str] = field(default_factory=dict)  # tracked path -> why


def import_pointers(ctx: RepoContext, targets: list[str]) -> dict[str, Pointer]:
    """tracked path -> pointer, for the imports among ``targets`` (default all)."""
    paths = resolve_targets(ctx, targets) if targets else tracked_paths(ctx)
    out: dict[str, Pointer] = {}
    for tracked in paths:
        try:
            pointer = read_pointer(ctx, tracked)
        except GitmlError:
            continue  # a bad pointer is reported by the fetch itself
        if pointer.source is not None:
            out[tracked] = pointer
    return out


def complete(ctx: RepoContext, pointer: Pointer) -> bool:
    """Whether the cache holds every object ``pointer`` needs."""
    if not ctx.store.has(pointer.oid):
        return False
    if pointer.kind != "dir":
        return True
    entries = decode_manifest(ctx.store.read_bytes(pointer.oid), source=pointer.path)
    return not ctx.store.missing(e.oid for e in entries)


# (place, path in the source, tracked path here) -> the pointer of the data brought
Bring = Callable[[Place, str, str], Pointer]


def bring_tracked(place: Place, path: str, _tracked: str) -> Pointer:
    """The default :data:`Bring`: data gitml tracks in the source."""
    return bring(place, place.locate(path))


def restore_imports(
    ctx: RepoContext, imports: dict[str, Pointer], *, bring_from: Bring = bring_tracked
) -> Restored:
    """Fetch from each import's source what the cache still lacks. ``bring_from``
    reads a source (the API passes one that also reads DVC sources)."""
    done = Restored()
    for tracked, pointer in sorted(imports.items()):
        source = pointer.source
        if source is None or complete(ctx, pointer):
            continue
        try:
            with place_in(ctx, source.url, source.commit, base=ctx.root,
                          reporter=ctx.reporter) as place:  # fmt: skip
                again = bring_from(place, source.path, tracked)
            if again.oid != pointer.oid:
                done.failed[tracked] = (
                    f"{source.url} at {source.commit[:12]} no longer has the data this pointer "
                    "names (its history was rewritten?)"
                )
                continue
            done.restored.append(tracked)
        except GitmlError as exc:
            done.failed[tracked] = f"from {source.url}: {exc.message}"
    return done
