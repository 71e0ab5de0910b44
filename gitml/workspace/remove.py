"""``gitml rm``: stop tracking a path. The data stays on disk; only the
pointer and the ignore rule go (and the pointer leaves git's index)."""

from __future__ import annotations

from gitml.context import RepoContext
from gitml.workspace.ignore import remove_ignore
from gitml.workspace.pointer import pointer_name


def remove(ctx: RepoContext, tracked: list[str]) -> list[str]:
    """Untrack ``tracked`` paths; return the pointer files removed."""
    pointers = [pointer_name(t) for t in tracked]
    ctx.git.rm_cached(pointers)
    staged: list[str] = []
    for t, ptr in zip(tracked, pointers, strict=True):
        (ctx.root / ptr).unlink(missing_ok=True)
        ignore = remove_ignore(ctx.root, t)
        if ignore:
            staged.append(ignore)
        ctx.index.drop_prefix(t)
        ctx.index.set_state(t, None)
    if staged:
        ctx.git.add(staged)
    return pointers
