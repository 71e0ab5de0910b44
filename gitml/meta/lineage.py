"""Looking back through history (commit notes) for what guards compare against."""

from __future__ import annotations

from typing import Any

from gitml.context import RepoContext
from gitml.meta.document import parse_note

HISTORY_DEPTH = 200


def recent_notes(ctx: RepoContext, rev: str = "HEAD") -> list[dict[str, Any]]:
    """Parsed gitml notes of ``rev`` and its ancestors, newest first (one git log)."""
    if ctx.git.try_rev_parse(rev) is None:
        return []
    records = ctx.git.log_records(rev, max_count=HISTORY_DEPTH, notes=True)
    docs = [parse_note(r.note) for r in records]
    return [d for d in docs if d is not None]


def latest_stats(notes: list[dict[str, Any]], guard: str) -> dict[str, Any] | None:
    """The newest stored reference statistics for ``guard``'s dataset."""
    for doc in notes:
        stats = doc.get("stats")
        found = stats.get(guard) if isinstance(stats, dict) else None
        if isinstance(found, dict):
            return found
    return None


def latest_metrics(notes: list[dict[str, Any]], metrics_file: str) -> dict[str, Any] | None:
    for doc in notes:
        metrics = doc.get("metrics")
        found = metrics.get(metrics_file) if isinstance(metrics, dict) else None
        if isinstance(found, dict):
            return found
    return None
