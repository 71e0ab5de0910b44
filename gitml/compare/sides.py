"""The two (or more) sides of a comparison: a resolved revision or the workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.registry.revision import Resolver
from gitml.workspace.snapshot import Snapshot

WORKSPACE = "workspace"


@dataclass(frozen=True)
class Side:
    """One version being compared. ``commit`` is None for the workspace."""

    label: str
    commit: str | None
    snapshot: Snapshot

    def to_dict(self) -> dict[str, Any]:
        return {"rev": self.label, "commit": self.commit}


def open_side(ctx: RepoContext, resolver: Resolver, rev: str | None) -> Side:
    """``rev`` resolved (any revision or registry reference); None = the workspace."""
    if rev is None or rev == WORKSPACE:
        return Side(WORKSPACE, None, Snapshot.workspace(ctx))
    commit = resolver.resolve(rev).commit
    return Side(rev, commit, Snapshot(ctx, "commit", commit))


def note_of(ctx: RepoContext, commit: str | None) -> dict[str, Any]:
    """The commit's gitml note as a mapping ({} when it has none or it is unreadable)."""
    if commit is None:
        return {}
    from gitml.git.notes import read_note
    from gitml.meta.document import parse_note

    try:
        doc = parse_note(read_note(ctx.git, commit), on_bad=lambda _m: None)
    except GitmlError:
        return {}
    return doc if isinstance(doc, dict) else {}
