"""``gitml rm``: stop tracking a path. The data stays on disk; only the
pointer and the ignore rule go (and the pointer leaves git's index)."""

from __future__ import annotations

from gitml.context import RepoContext
from gitml.workspace.ignore import remove_ignore
from gitml.workspace.materialize import Folders
from gitml.workspace.pointer import pointer_name


def remove(ctx: RepoContext, tracked: list[str]) -> list[str]:
    """Untrack ``tracked`` paths; return the pointer files removed.

    Pointers are deleted through O_NOFOLLOW folder descriptors (``Folders``),
    and every pointer's folder is opened before anything changes: a symlinked
    folder is refused with nothing done, and a folder swapped for a symlink
    afterwards is still the folder that was opened."""
    pointers = [pointer_name(t) for t in tracked]
    folders = Folders(ctx.root)
    try:
        for ptr in pointers:
            folders.existing_fd(ptr.rpartition("/")[0])
        ctx.git.rm_cached(pointers)
        staged: list[str] = []
        for t, ptr in zip(tracked, pointers, strict=True):
            folders.unlink(ptr)
            ignore = remove_ignore(ctx.root, t)
            if ignore:
                staged.append(ignore)
            ctx.index.drop_prefix(t)
            ctx.index.set_state(t, None)
    finally:
        folders.close()
    if staged:
        ctx.git.add(staged)
    return pointers
