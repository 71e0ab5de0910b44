"""Running guards against what a commit contains, with the right baselines.

Baselines come from history (the notes of earlier commits) and, for
no-regression against a registry stage, from ``stage_metrics``, which the
caller passes in (the API passes :func:`gitml.registry.service.stage_metrics`):
guards never import the registry.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gitml.context import RepoContext
from gitml.guards.results import GuardReport
from gitml.guards.runner import run_guards
from gitml.meta.lineage import latest_metrics, latest_stats, recent_notes
from gitml.project.file import ProjectFile

# (metrics file, stage) -> metrics of the model version in that stage, or None.
StageMetrics = Callable[[str, str], dict[str, Any] | None]


def run_for_commit(
    ctx: RepoContext,
    project: ProjectFile,
    names: Iterable[str] | None,
    *,
    stage_metrics: StageMetrics | None,
    base_rev: str = "HEAD",
    root: Path | None = None,
) -> GuardReport:
    """Run guards; drift compares with the newest stats at or before ``base_rev``,
    no-regression with the model in the named stage (``stage_metrics``; None:
    no registry) else the newest metrics in history.
    ``root``: where the guarded files are (default: the workspace)."""
    notes = recent_notes(ctx, base_rev)
    spec = project.guards

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

    return run_guards(
        root or ctx.root,
        spec,
        names,
        previous_stats=previous_stats,
        baseline_metrics=baseline,
        reporter=ctx.reporter,
        env=command_env(ctx),
        collect_stats=True,
    )


def command_env(ctx: RepoContext) -> dict[str, str]:
    """Environment for user commands: git's hook variables removed, and the
    interpreter gitml runs in first on PATH, so ``python x.py`` in gitml.yaml
    means the project's environment even when a hook runs without it."""
    env = ctx.git.clean_env()
    bindir = os.path.dirname(sys.executable)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env
