"""The pre-commit hook: block a commit whose data is not what its pointers say,
or whose affected guards fail. A commit that touches nothing gitml knows
about returns after one ``git diff --cached``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.git.index import index_tree, staged_paths
from gitml.guards.commit import StageMetrics, run_for_commit
from gitml.guards.results import GuardReport
from gitml.guards.runner import affected_guards
from gitml.project.file import PROJECT_FILE, load_project
from gitml.store.durable import write_file_atomic
from gitml.workspace.pointer import POINTER_SUFFIX, parse_pointer, tracked_name
from gitml.workspace.scan import observe
from gitml.workspace.status import workspace_oid

PENDING = "pending-commit.json"


@dataclass
class PreCommitOutcome:
    ok: bool
    problems: list[str] = field(default_factory=list)  # data not matching pointers
    report: GuardReport | None = None
    ran: list[str] = field(default_factory=list)


def _is_pointer(path: str) -> bool:
    return (
        path.endswith(POINTER_SUFFIX) and path != POINTER_SUFFIX and not path.startswith(".gitml/")
    )


def check_staged_pointers(ctx: RepoContext, pointer_paths: list[str]) -> list[str]:
    """Staged pointers whose object is missing or whose workspace data differs."""
    problems: list[str] = []
    blobs = ctx.git.staged_blobs(pointer_paths)
    for name, blob in sorted(blobs.items()):
        if blob is None:
            continue  # the pointer is being deleted
        tracked = tracked_name(name)
        try:
            pointer = parse_pointer(blob, source=f"staged {name}")
        except GitmlError as exc:
            problems.append(exc.message)
            continue
        if not ctx.store.has(pointer.oid):
            problems.append(f"{tracked}: its data is not in the cache (run: gitml add {tracked})")
            continue
        result = observe(ctx, tracked)
        if not result.exists:
            continue  # data removed from the workspace: the pointer still names cached data
        if workspace_oid(result) != pointer.oid:
            problems.append(f"{tracked} changed since it was added (run: gitml add {tracked})")
    return problems


def pre_commit(ctx: RepoContext, *, stage_metrics: StageMetrics | None) -> PreCommitOutcome:
    """Staged pointers match their data; the guards the staged change affects pass
    (``stage_metrics``: the registry baseline, see :mod:`gitml.guards.commit`)."""
    changed = staged_paths(ctx.git)
    pointers = [p for p in changed if _is_pointer(p)]
    project = load_project(ctx.root) if (ctx.root / PROJECT_FILE).exists() else None
    names = affected_guards(project.guards, changed) if project else []
    if not pointers and not names:
        _write_pending(ctx, None, [])
        return PreCommitOutcome(ok=True)
    problems = check_staged_pointers(ctx, pointers)
    if problems:
        return PreCommitOutcome(ok=False, problems=problems)
    report = (
        run_for_commit(ctx, project, names, stage_metrics=stage_metrics)
        if project and names
        else None
    )
    _write_pending(ctx, report, names)
    return PreCommitOutcome(ok=report is None or report.ok, report=report, ran=names)


def _write_pending(ctx: RepoContext, report: GuardReport | None, ran: list[str]) -> None:
    """What post-commit attaches to the commit, keyed by the tree being committed,
    so a later commit made with --no-verify cannot pick it up by mistake."""
    doc = {
        "tree": index_tree(ctx.git),
        "ran": ran,
        "guards": report.to_dict() if report else None,
        "stats": report.statistics if report else {},
    }
    write_file_atomic(
        ctx.gitml_dir / PENDING, json.dumps(doc, default=str).encode("utf-8"), sync=False
    )
