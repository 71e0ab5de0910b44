"""The linked worktrees of a repository (``git worktree list --porcelain -z``).

gc must keep what every worktree's checkout needs, not only the current one's:
another worktree's pointers, index and HEAD are as live as ours.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gitml.git.repo import GitRepo


@dataclass(frozen=True, slots=True)
class Worktree:
    path: Path
    head: str | None  # None for a worktree on an unborn branch
    prunable: bool  # its folder is gone; git would prune it


def worktrees(repo: GitRepo) -> list[Worktree]:
    """Every worktree of the repository, the main one and the current one included."""
    _status, out, _err = repo.run("worktree", "list", "--porcelain", "-z")
    found: list[Worktree] = []
    fields: dict[str, str] = {}
    for record in out.split(b"\0"):
        if record:
            key, _, value = os.fsdecode(record).partition(" ")
            fields[key] = value
            continue
        if "worktree" in fields:
            head = fields.get("HEAD", "")
            found.append(
                Worktree(
                    Path(fields["worktree"]),
                    head if head and head.strip("0") else None,
                    "prunable" in fields,
                )
            )
        fields = {}
    return found


def others(repo: GitRepo) -> list[Worktree]:
    """The worktrees other than ``repo``'s own."""
    here = os.path.realpath(repo.root)
    return [w for w in worktrees(repo) if os.path.realpath(w.path) != here]


def add_worktree(repo: GitRepo, path: Path, rev: str) -> None:
    """A new linked worktree at ``path`` with ``rev`` checked out, HEAD detached.

    Hooks are off for this checkout: gitml's post-checkout would try to fill
    the new worktree's data from a cache it is not configured with yet.
    """
    from gitml.git.refname import check_rev

    repo.run(
        "-c", "core.hooksPath=/dev/null", "worktree", "add", "--quiet", "--detach",
        "--", str(path), check_rev(rev),
    )  # fmt: skip


def remove_worktree(repo: GitRepo, path: Path) -> None:
    """Remove a linked worktree made by :func:`add_worktree` (its files included)."""
    repo.run("worktree", "remove", "--force", "--force", "--", str(path), ok=(0, 128))
    repo.run("worktree", "prune", ok=(0, 128))
