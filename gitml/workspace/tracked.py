"""Which paths gitml tracks, and reading their pointers from the workspace."""

from __future__ import annotations

import os

from gitml.context import RepoContext
from gitml.errors import PointerError, UsageError
from gitml.safepath import UserPath
from gitml.workspace.pointer import (
    POINTER_SUFFIX,
    Pointer,
    parse_pointer,
    pointer_name,
    tracked_name,
)


def tracked_paths(ctx: RepoContext) -> list[str]:
    """Tracked data paths: every ``*.gitml`` pointer in the index or the work tree root set."""
    names = ctx.git.ls_files(f":(glob)**/*{POINTER_SUFFIX}")
    out = []
    for name in names:
        if name == POINTER_SUFFIX or name.startswith(".gitml/"):
            continue
        if (ctx.root / name).is_file():
            out.append(tracked_name(name))
    return sorted(set(out))


def read_pointer(ctx: RepoContext, tracked: str) -> Pointer:
    """Parse the workspace pointer of ``tracked``; PointerError names the file."""
    name = pointer_name(tracked)
    try:
        with open(ctx.root / name, "rb") as fh:
            data = fh.read(8192)
    except FileNotFoundError:
        raise UsageError(
            f"{tracked} is not tracked by gitml (no {name})", f"gitml add {tracked}"
        ) from None
    except IsADirectoryError:
        raise PointerError(f"{name} is a folder, not a pointer") from None
    pointer = parse_pointer(data, source=name)
    if pointer.path != tracked.rpartition("/")[2]:
        raise PointerError(f"{name}: path {pointer.path!r} does not match the pointer's name")
    return pointer


def owning_tracked(path: str, tracked: list[str]) -> str | None:
    """The tracked path equal to ``path`` or containing it, if any."""
    for candidate in tracked:
        if path == candidate or path.startswith(candidate + "/"):
            return candidate
    return None


def resolve_targets(ctx: RepoContext, targets: list[str], cwd: UserPath | None = None) -> list[str]:
    """User targets (relative to cwd, possibly naming the pointer) → tracked paths.

    No targets means every tracked path.
    """
    tracked = tracked_paths(ctx)
    if not targets:
        return tracked
    out: list[str] = []
    for target in targets:
        rel = ctx.relpath(target, cwd=cwd)
        if rel.endswith(POINTER_SUFFIX) and os.path.isfile(ctx.root / rel):
            rel = tracked_name(rel)
        owner = owning_tracked(rel, tracked)
        if owner is None:
            inside = [t for t in tracked if t.startswith(rel + "/")]
            if not inside:
                raise UsageError(f"{target} is not tracked by gitml", f"gitml add {target}")
            out.extend(inside)
        else:
            out.append(owner)
    return sorted(set(out))
