"""The registry baseline the API hands to guards (``stage_metrics=``).

Guards never import the registry (:mod:`gitml.guards.commit`); the API passes
this lookup instead. It imports the registry only when a no-regression guard
asks for a stage, so a hook with nothing to compare pays nothing (~30 ms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitml.context import RepoContext
    from gitml.guards.commit import StageMetrics


def registry_baseline(ctx: RepoContext) -> StageMetrics:
    """(metrics file, stage) -> metrics of the model version in that stage, or None."""

    def lookup(metrics_file: str, stage: str) -> dict[str, Any] | None:
        from gitml.registry.service import stage_metrics

        return stage_metrics(ctx, metrics_file, stage)

    return lookup
