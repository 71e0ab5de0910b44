"""Pointers as they are at a git revision, read in one batch."""

from __future__ import annotations

from gitml.context import RepoContext
from gitml.workspace.pointer import POINTER_SUFFIX, Pointer, parse_pointer, tracked_name


def pointers_at(ctx: RepoContext, rev: str, paths: list[str] | None = None) -> dict[str, Pointer]:
    """tracked path → Pointer for every pointer at ``rev`` (or only ``paths``).

    One ``ls-tree`` and one ``cat-file --batch`` for the whole revision.
    """
    specs = [p + POINTER_SUFFIX for p in paths] if paths else [f":(glob)**/*{POINTER_SUFFIX}"]
    listing = ctx.git.ls_tree(rev, *specs)
    listing = {
        name: sha
        for name, sha in listing.items()
        if name.endswith(POINTER_SUFFIX)
        and name != POINTER_SUFFIX
        and not name.startswith(".gitml/")
    }
    blobs = ctx.git.read_blobs(listing.values())
    out: dict[str, Pointer] = {}
    for name, sha in listing.items():
        tracked = tracked_name(name)
        pointer = parse_pointer(blobs[sha], source=f"{rev}:{name}")
        if pointer.path == tracked.rpartition("/")[2]:
            out[tracked] = pointer
    return out
