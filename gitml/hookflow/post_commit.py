"""The post-commit hook: attach the metadata document to the new commit.

If the pre-commit hook did not run for this commit (``--no-verify``), the
guards run now, and the note says the commit is unverified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gitml.context import RepoContext
from gitml.git.index import changed_between, commit_tree
from gitml.git.notes import write_note
from gitml.guards.commit import StageMetrics, run_for_commit
from gitml.guards.runner import affected_guards
from gitml.hookflow.pre_commit import PENDING
from gitml.meta.collect import collect_metrics, collect_params, pointer_summary
from gitml.meta.document import Metadata
from gitml.meta.lineage import recent_notes
from gitml.project.file import PROJECT_FILE, load_project
from gitml.workspace.revisions import pointers_at


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


def record_commit(
    ctx: RepoContext, rev: str = "HEAD", *, stage_metrics: StageMetrics | None
) -> PostCommitOutcome:
    head = ctx.git.rev_parse(rev)
    pending = _read_pending(ctx)
    pointers = pointers_at(ctx, head)
    has_project = (ctx.root / PROJECT_FILE).exists()
    if not pointers and not has_project:
        return PostCommitOutcome(recorded=False, verified=True)
    project = load_project(ctx.root)
    parent = ctx.git.try_rev_parse(f"{head}~1")
    previous = recent_notes(ctx, parent) if parent else []
    stats: dict[str, Any] = {}
    if previous and isinstance(previous[0].get("stats"), dict):
        stats.update(previous[0]["stats"])
    verified = pending is not None and pending.get("tree") == commit_tree(ctx.git, head)
    message = ""
    if verified and pending is not None:
        guards = pending.get("guards")
        stats.update(pending.get("stats") or {})
    else:
        changed = changed_between(ctx.git, parent, head) if parent else [PROJECT_FILE]
        names = affected_guards(project.guards, changed)
        report = (
            run_for_commit(
                ctx, project, names, stage_metrics=stage_metrics, base_rev=parent or head
            )
            if names
            else None
        )
        guards = report.to_dict() if report else None
        if report is not None:
            stats.update(report.statistics)
        failed = report is not None and not report.ok
        message = (
            "this commit skipped the pre-commit hook (--no-verify): guards ran now"
            + (" and FAILED" if failed else " and passed")
            + "; its metadata marks it unverified"
        )
    doc = Metadata(
        data=pointer_summary(pointers),
        params=collect_params(ctx, project),
        metrics=collect_metrics(ctx, project),
        stats=stats,
        guards=guards,
        verified=verified,
        bypassed=not verified,
    )
    write_note(ctx.git, head, doc.to_json())
    ok = guards is None or bool(guards.get("ok", True))
    return PostCommitOutcome(recorded=True, verified=verified, guards_ok=ok, message=message)
