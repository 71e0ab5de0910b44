"""Running guards against what a commit contains, with the right baselines.

Data and metrics are read from a :class:`~gitml.workspace.snapshot.Snapshot`:
in pre-commit the index (what is being committed), in post-commit and
``register --rev`` the commit's tree. Commands run in the work tree (they may
read anything); their ``watch:`` paths decide when they run.

Baselines come from history (the notes of earlier commits) and, for
no-regression against a registry stage, from ``stage_metrics``, which the
caller passes in (the API passes :func:`gitml.registry.service.stage_metrics`):
guards never import the registry.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from gitml.context import RepoContext
from gitml.guards.results import GuardReport, RuleResult
from gitml.guards.runner import run_guards, select_guards
from gitml.meta.lineage import latest_metrics, latest_stats, recent_notes
from gitml.project.file import PROJECT_FILE, ProjectFile, project_from
from gitml.project.guardspec import Guard
from gitml.workspace.snapshot import Snapshot

# (metrics file, stage) -> metrics of the model version in that stage, or None.
StageMetrics = Callable[[str, str], dict[str, Any] | None]


def project_of(snapshot: Snapshot) -> ProjectFile:
    """gitml.yaml as this snapshot holds it (an empty project when it has none)."""
    if snapshot.where == "workspace":
        from gitml.project.file import load_project

        return load_project(snapshot.ctx.root)
    return project_from(
        snapshot.read_bytes(PROJECT_FILE), source=f"{snapshot.label} {PROJECT_FILE}"
    )


def guard_inputs(guard: Guard) -> list[str]:
    """The files and folders a guard's data and model checks read."""
    out = []
    if guard.data is not None:
        out.append(guard.data.path)
    if guard.model is not None:
        out.append(guard.model.metrics_path)
    return out


def run_for_commit(
    ctx: RepoContext,
    project: ProjectFile,
    names: Iterable[str] | None,
    *,
    stage_metrics: StageMetrics | None,
    base_rev: str = "HEAD",
    snapshot: Snapshot | None = None,
) -> GuardReport:
    """Run guards on ``snapshot`` (default: the workspace); drift compares with the
    newest stats at or before ``base_rev``, no-regression with the model in the
    named stage (``stage_metrics``; None: no registry) else the newest metrics."""
    snapshot = snapshot or Snapshot.workspace(ctx)
    notes = recent_notes(ctx, base_rev)
    spec = project.guards
    selected = select_guards(spec, names)

    def previous_stats(guard: str) -> dict[str, Any] | None:
        return latest_stats(notes, guard)

    def baseline(guard: str) -> dict[str, Any] | None:
        model = spec.guards[guard].model
        if model is None:
            return None
        against = model.no_regression.against if model.no_regression else "prod"
        if against not in ("previous", "HEAD") and stage_metrics is not None:
            found = stage_metrics(model.metrics_path, against)
            if found is not None:
                return found
        return latest_metrics(notes, model.metrics_path)

    inputs = sorted({p for g in selected for p in guard_inputs(g)})
    with snapshot.view(inputs) as view:
        report = run_guards(
            view.root,
            spec,
            [g.name for g in selected],
            previous_stats=previous_stats,
            baseline_metrics=baseline,
            reporter=ctx.reporter,
            env=command_env(ctx),
            collect_stats=True,
            command_root=ctx.root,
        )
    why = dict(view.missing)
    for path in snapshot.only_in_workspace(inputs):
        why[path] = f"exists only in the workspace, not in what is judged (git add {path})"
    if why:
        _explain(report, spec.guards, why)
    return report


def _explain(report: GuardReport, guards: dict[str, Guard], why: dict[str, str]) -> None:
    """Say why an input could not be read: an error result gets the reason appended."""

    def reason(guard: str) -> str | None:
        for path in guard_inputs(guards[guard]):
            for missing, text in why.items():
                if (
                    path == missing
                    or path.startswith(missing + "/")
                    or missing.startswith(path + "/")
                ):
                    return f"{missing} {text}"
        return None

    out: list[RuleResult] = []
    for result in report.results:
        extra = reason(result.guard) if result.status == "error" else None
        if extra:
            result = dataclasses.replace(result, message=f"{result.message} ({extra})")
        out.append(result)
    report.results[:] = out


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def command_env(ctx: RepoContext) -> dict[str, str]:
    """Environment for user commands: git's hook variables removed, and the
    interpreter gitml runs in first on PATH, so ``python x.py`` in gitml.yaml
    means the project's environment even when a hook runs without it."""
    env = ctx.git.clean_env()
    bindir = os.path.dirname(sys.executable)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env
