"""The pre-commit hook: judge exactly what is being committed.

Everything comes from the index (the index git gives the hook): gitml.yaml,
params, metrics and every file a guard reads are the staged blobs, tracked data
is the object the *staged* pointer names (read from the cache). Before that,
every tracked path whose workspace data differs from the pointer being
committed blocks the commit (the forgotten ``gitml add``): one stat-index scan,
the same as ``gitml status``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.git.index import index_tree, staged_paths
from gitml.guards.commit import StageMetrics, project_of, run_for_commit
from gitml.guards.results import GuardReport
from gitml.guards.runner import affected_guards
from gitml.project.file import ProjectFile
from gitml.store.durable import write_file_atomic
from gitml.workspace.compare import FileChange
from gitml.workspace.pointer import POINTER_SUFFIX, Pointer, parse_pointer, tracked_name
from gitml.workspace.snapshot import Snapshot
from gitml.workspace.status import PathStatus, status_of

PENDING = "pending-commit.json"


@dataclass
class PreCommitOutcome:
    ok: bool
    problems: list[str] = field(default_factory=list)  # what blocks before any guard runs
    report: GuardReport | None = None
    ran: list[str] = field(default_factory=list)


def _is_pointer(path: str) -> bool:
    return (
        path.endswith(POINTER_SUFFIX) and path != POINTER_SUFFIX and not path.startswith(".gitml/")
    )


def check_staged_pointers(ctx: RepoContext, pointer_paths: list[str]) -> list[str]:
    """Staged pointers that do not parse or whose object is not in the cache."""
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
    return problems


def _counts(changes: list[FileChange]) -> str:
    """`` (3 files modified, 1 added)`` for a folder's changes ("" for none)."""
    parts: list[str] = []
    for kind in ("modified", "added", "deleted"):
        n = sum(c.change == kind for c in changes)
        if n:
            parts.append(f"{n} {kind}" if parts else f"{n} file{'s' if n != 1 else ''} {kind}")
    return f" ({', '.join(parts)})" if parts else ""


def _forgotten_add(tracked: str, pointer: Pointer, st: PathStatus) -> str | None:
    shown = f"{tracked}/" if pointer.kind == "dir" else tracked
    detail = _counts(st.changes) if pointer.kind == "dir" else ""
    if st.state == "modified":
        if not st.changes and st.message and st.message != "gitml add":
            detail = f" ({st.message})"
        return f"{shown} changed since gitml add{detail}: run gitml add {tracked}"
    if st.state == "stale":
        return (
            f"{shown} in the workspace is another version than the pointer being committed"
            f"{detail}: run gitml checkout {tracked} (or gitml add {tracked})"
        )
    return None


def forgotten_adds(ctx: RepoContext, index: Snapshot) -> list[str]:
    """One line per tracked path whose workspace data differs from its staged pointer.

    Absent data is fine (the pointer still names cached data); the cost is one
    stat-index scan per tracked path, as ``gitml status``.
    """
    problems = []
    for tracked, pointer in index.pointers().items():
        line = _forgotten_add(tracked, pointer, status_of(ctx, tracked, pointer))
        if line is not None:
            problems.append(line)
    return problems


def _recorded_with(project: ProjectFile, tracked: str) -> list[str]:
    """The metrics and params files a model at ``tracked`` is described by:
    its artifact's metrics, and the metrics of the stage writing it."""
    files: list[str] = []
    for artifact in project.artifacts.values():
        if artifact.path == tracked:
            files += [*artifact.metrics, *project.params]
    if project.stages:
        from gitml.pipelines.spec import load_pipeline

        for stage in load_pipeline(project).stages.values():
            if tracked in stage.outs:
                files += [*stage.metrics, *(project.params if stage.params else ())]
    return list(dict.fromkeys(files))


def half_staged(
    ctx: RepoContext, index: Snapshot, project: ProjectFile, changed: list[str]
) -> list[str]:
    """A model whose pointer is staged while its metrics or params have unstaged changes."""
    problems = []
    workspace = Snapshot.workspace(ctx)
    for name in changed:
        tracked = tracked_name(name)
        files = _recorded_with(project, tracked)
        if not files:
            continue
        staged, current = index.read_many(files), workspace.read_many(files)
        for path in files:
            if current[path] is not None and current[path] != staged[path]:
                problems.append(f"{tracked} changed but {path} is not staged: run git add {path}")
    return problems


def pre_commit(ctx: RepoContext, *, stage_metrics: StageMetrics | None) -> PreCommitOutcome:
    """Staged pointers match their data; the guards the staged change affects pass
    (``stage_metrics``: the registry baseline, see :mod:`gitml.guards.commit`)."""
    index = Snapshot.index(ctx)
    changed = staged_paths(ctx.git)
    project = project_of(index)
    pointers = [p for p in changed if _is_pointer(p)]
    problems = check_staged_pointers(ctx, pointers)
    problems += forgotten_adds(ctx, index)
    problems += half_staged(ctx, index, project, pointers)
    if problems:
        return PreCommitOutcome(ok=False, problems=problems)
    names = affected_guards(
        project.guards, changed, artifacts=project.artifacts, params=project.params
    )
    report = (
        run_for_commit(ctx, project, names, stage_metrics=stage_metrics, snapshot=index)
        if names
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
