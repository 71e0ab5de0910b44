"""The post-commit hook: attach the metadata document to the new commit.

The document is built from the commit's tree (its gitml.yaml, params, metrics
and pointers), never from the workspace, and every commit gets one, with or
without tracked data. If the pre-commit hook did not run for this commit
(``--no-verify``, ``cherry-pick``), the guards run now on the commit's tree and
the note says the commit is unverified. A commit ``git rebase`` replays gets no
new note: it keeps the one of the commit it replays (``notes.rewriteRef``,
configured by ``gitml init``), which was verified when that commit was made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.git.index import changed_between, commit_tree
from gitml.git.notes import write_note
from gitml.guards.commit import StageMetrics, project_of, run_for_commit
from gitml.guards.runner import affected_guards
from gitml.hookflow.datasets import collect_datasets
from gitml.hookflow.pre_commit import PENDING
from gitml.meta.collect import collect_metrics, collect_params, pointer_summary
from gitml.meta.document import Metadata
from gitml.meta.lineage import recent_notes
from gitml.project.file import project_from
from gitml.workspace.snapshot import Snapshot


@dataclass
class PostCommitOutcome:
    recorded: bool
    verified: bool
    guards_ok: bool = True
    message: str = ""


def _read_pending(ctx: RepoContext) -> dict[str, Any] | None:
    path = ctx.gitml_dir / PENDING
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    finally:
        path.unlink(missing_ok=True)
    return doc if isinstance(doc, dict) else None


def rebase_in_progress(ctx: RepoContext) -> bool:
    """True while ``git rebase`` replays commits (the only rebase backend that
    runs post-commit is the merge one, which keeps its state in rebase-merge/)."""
    return (ctx.git.git_dir / "rebase-merge").is_dir()


def record_commit(
    ctx: RepoContext, rev: str = "HEAD", *, stage_metrics: StageMetrics | None
) -> PostCommitOutcome:
    head = ctx.git.rev_parse(rev)
    pending = _read_pending(ctx)
    verified = pending is not None and pending.get("tree") == commit_tree(ctx.git, head)
    if not verified and rebase_in_progress(ctx):
        return PostCommitOutcome(recorded=False, verified=True)
    snapshot = Snapshot.commit(ctx, head)
    message = ""
    try:
        project = project_of(snapshot)
    except GitmlError as exc:  # still record what the commit holds
        project = project_from(None)
        message = f"gitml.yaml of this commit is not valid ({exc.message}); no guards ran"
    parent = ctx.git.try_rev_parse(f"{head}~1")
    previous = recent_notes(ctx, parent) if parent else []
    stats: dict[str, Any] = {}
    if previous and isinstance(previous[0].get("stats"), dict):
        stats.update(previous[0]["stats"])
    if verified and pending is not None:
        guards = pending.get("guards")
        stats.update(pending.get("stats") or {})
    else:
        changed = changed_between(ctx.git, parent, head) if parent else list(snapshot.blobs())
        names = affected_guards(
            project.guards, changed, artifacts=project.artifacts, params=project.params
        )
        report = (
            run_for_commit(
                ctx,
                project,
                names,
                stage_metrics=stage_metrics,
                base_rev=parent or head,
                snapshot=snapshot,
            )
            if names
            else None
        )
        guards = report.to_dict() if report else None
        if report is not None:
            stats.update(report.statistics)
        failed = report is not None and not report.ok
        message = message or (
            "this commit skipped the pre-commit hook (--no-verify): guards ran now"
            + (" and FAILED" if failed else " and passed")
            + "; its metadata marks it unverified"
        )
    datasets = collect_datasets(snapshot, previous[0] if previous else None, ctx.reporter)
    doc = Metadata(
        data=pointer_summary(snapshot.pointers()),
        params=collect_params(snapshot, project),
        metrics=collect_metrics(snapshot, project),
        stats=stats,
        guards=guards,
        verified=verified,
        bypassed=not verified,
        extra={"datasets": datasets},
    )
    write_note(ctx.git, head, doc.to_json())
    ok = guards is None or bool(guards.get("ok", True))
    return PostCommitOutcome(recorded=True, verified=verified, guards_ok=ok, message=message)
