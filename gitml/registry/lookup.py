"""Registry lookups other features need (guards' no-regression baseline)."""

from __future__ import annotations

from gitml.context import RepoContext


def commit_in_stage(ctx: RepoContext, metrics_file: str, stage: str) -> str | None:
    """The commit of the version in ``stage`` of the artifact whose metrics
    file is ``metrics_file``, or None when there is none."""
    from gitml.registry.service import artifact_for_metrics, stage_commit

    name = artifact_for_metrics(ctx, metrics_file)
    return stage_commit(ctx, name, stage) if name else None
