"""Registry lookups other features need (guards' no-regression baseline)."""

from __future__ import annotations

from gitml.context import RepoContext
from gitml.errors import GitmlError


def commit_in_stage(ctx: RepoContext, metrics_file: str, stage: str) -> str | None:
    """The commit of the version in ``stage`` of the artifact whose metrics
    file is ``metrics_file``, or None when there is none.

    Never raises a gitml error: an unreadable gitml.yaml or registry means
    "no baseline in the registry" and the caller falls back to history.
    """
    from gitml.registry.service import artifact_for_metrics, stage_commit

    try:
        name = artifact_for_metrics(ctx, metrics_file)
        return stage_commit(ctx, name, stage) if name else None
    except GitmlError:
        return None
