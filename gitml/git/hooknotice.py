"""Say once that a repository runs without gitml's hooks.

A fresh ``git clone`` has the tracked ``.gitml/config.toml`` but no hooks
(``.git/hooks`` is never cloned), so a collaborator's commits are not verified
and get no metadata note, silently. The first gitml command in such a clone
says so; a marker in the git directory (shared by every worktree, never
tracked) remembers that it was said. ``gitml init --no-hooks`` writes the
marker itself: the user chose.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gitml.git.repo import GitRepo

MARKER = "gitml-hooks-notice"
NOTICE = (
    "this repository has no gitml hooks: commits are not checked against their data "
    "and get no metadata. Run gitml hooks install to guard your commits "
    "(said once; see gitml hooks status)"
)


def mark_noticed(repo: GitRepo) -> None:
    """Never show the notice in this repository (a read-only one: nothing to do)."""
    from gitml.store.durable import write_file_atomic

    with contextlib.suppress(OSError):
        write_file_atomic(repo.common_dir / MARKER, b"the no-hooks notice was shown\n")


def hooks_notice(repo: GitRepo) -> str | None:
    """The notice, the first time it applies; None afterwards or when any of
    gitml's hooks (or the pre-commit framework's) is installed. One stat per
    command once the marker exists."""
    if (repo.common_dir / MARKER).exists():
        return None
    from gitml.git.hooks import hook_status

    states = {s.state for s in hook_status(repo).values()}
    mark_noticed(repo)
    if states & {"installed", "chained", "framework"}:
        return None
    return NOTICE
