"""Pointers as they are at a git revision, read in one batch."""

from __future__ import annotations

import re
from pathlib import Path

from gitml.context import RepoContext
from gitml.workspace.pointer import POINTER_SUFFIX, Pointer, parse_pointer, tracked_name

CONVERTED_PREFIX = "refs/gitml/dvc/"  # + a commit id: the pointers of its DVC outputs
_SHA = re.compile(r"^[0-9a-f]{40}$")


def _has_converted(ctx: RepoContext) -> bool:
    """Whether any ``refs/gitml/dvc/`` ref exists, without running git (loose
    refs are files; packed ones are lines of ``packed-refs``)."""
    common = Path(ctx.git.common_dir)
    if (common / CONVERTED_PREFIX).is_dir():
        return True
    try:
        with open(common / "packed-refs", "rb") as fh:
            return any(CONVERTED_PREFIX.encode() in line for line in fh)
    except FileNotFoundError:
        return False


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
    lacking = any(p not in out for p in paths) if paths else not out
    if lacking and _SHA.match(rev) and _has_converted(ctx):
        # A commit made with DVC, whose outputs import-dvc converted: their
        # pointers are on a side commit (interop/versions.py); the commit's own win.
        side = ctx.git.try_rev_parse(f"{CONVERTED_PREFIX}{rev}")
        if side is not None:
            out = {**pointers_at(ctx, side, paths), **out}
    return out
