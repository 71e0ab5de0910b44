"""``gitml diff``: what changed in tracked data between two revisions
(or a revision and the workspace), file by file, with sizes."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitml.context import RepoContext
from gitml.workspace.compare import FileChange, Sized, compare, load_entries
from gitml.workspace.revisions import pointers_at
from gitml.workspace.scan import observe
from gitml.workspace.status import workspace_files


@dataclass(frozen=True, slots=True)
class PathDiff:
    path: str
    old_oid: str | None
    new_oid: str | None
    changes: list[FileChange] = field(default_factory=list)
    note: str = ""  # kept for the JSON shape; a missing manifest is an error now


@dataclass
class DiffResult:
    old: str
    new: str
    paths: list[PathDiff] = field(default_factory=list)


def _workspace_files(ctx: RepoContext, tracked: str) -> dict[str, Sized] | None:
    result = observe(ctx, tracked)
    if not result.exists:
        return None
    return workspace_files(result)


def diff(
    ctx: RepoContext,
    old_rev: str,
    new_rev: str | None,
    targets: list[str] | None = None,
    *,
    labels: tuple[str, str | None] | None = None,
) -> DiffResult:
    """Compare ``old_rev`` with ``new_rev`` (``None`` = the workspace data).
    ``labels``: how the user named the two revisions (``churn@v1``), for the
    result and messages; default the revisions themselves.

    A folder version whose manifest is not in the cache cannot be compared:
    ObjectMissingError names it (an empty comparison would say "0 modified")."""
    old_label, new_label = labels or (old_rev, new_rev)
    old_ptrs = pointers_at(ctx, old_rev, targets)
    if new_rev is None:
        from gitml.workspace.tracked import read_pointer, tracked_paths

        names = targets or tracked_paths(ctx)
        new_ptrs = {t: read_pointer(ctx, t) for t in names if (ctx.root / (t + ".gitml")).exists()}
    else:
        new_ptrs = pointers_at(ctx, new_rev, targets)
    out = DiffResult(old_label, new_label or "workspace")
    for tracked in sorted(set(old_ptrs) | set(new_ptrs), key=lambda t: t.encode("utf-8")):
        old_p, new_p = old_ptrs.get(tracked), new_ptrs.get(tracked)
        old_oid = old_p.oid if old_p else None
        new_oid = new_p.oid if new_p else None
        old_files = load_entries(ctx, old_p, tracked, old_label) if old_p else {}
        if new_rev is None:
            new_files = _workspace_files(ctx, tracked) or {}
        else:
            new_files = load_entries(ctx, new_p, tracked, new_label or new_rev) if new_p else {}
        changes = compare(tracked, old_files, new_files)
        if changes:
            out.paths.append(PathDiff(tracked, old_oid, new_oid, changes))
    return out
