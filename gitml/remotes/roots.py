"""What gc must keep: every object a kept revision or a live checkout needs.

Always kept, in every mode: the pointers in the workspace and the index of
every worktree of the repository (not only this one: a linked worktree's
checkout is as live as ours) and the commits every tag points at (registry
versions included). On top of that, by default, the history of HEAD (every
worktree's) and of every tag; with ``all_commits``, the history of every ref.
``workspace_only`` (``gitml gc --workspace``, DVC's ``gc -w``) keeps just the
first group.
"""

from __future__ import annotations

import os
from pathlib import Path

from gitml.context import RepoContext
from gitml.errors import GitmlError, UnsafePathError, UsageError
from gitml.git.repo import GitRepo
from gitml.git.worktrees import others
from gitml.remotes.workflow import expand, pointers_for, pointers_in_history
from gitml.safepath import check_relpath
from gitml.workspace.pointer import POINTER_SUFFIX, Pointer, parse_pointer


def gc_roots(
    ctx: RepoContext, *, all_commits: bool, workspace_only: bool = False
) -> dict[str, str]:
    """oid → a label naming who needs it, for every object gc must keep."""
    if all_commits and workspace_only:
        raise UsageError("--workspace and --all-commits exclude each other")
    pointers = pointers_for(ctx, [], all_commits=False)
    pointers.update(_staged(ctx.git, ""))
    heads: list[str] = []
    for tree in others(ctx.git):
        if tree.head and not workspace_only:
            heads.append(tree.head)
        if not tree.prunable:
            pointers.update(_checkout_of(tree.path))
    if workspace_only:
        revs = ["--no-walk", "--tags"]
    elif all_commits:
        revs = ["--all", *heads]
    else:
        revs = ["--tags", *(["HEAD"] if ctx.git.head() else []), *heads]
    pointers.update(pointers_in_history(ctx, revs, warn=False))
    needed, missing = expand(ctx, pointers)
    if missing:
        raise UsageError(
            f"cannot tell what {missing[0]} needs: its manifest is not local",
            "gitml fetch --all-commits first, so gc keeps what it lists",
        )
    return needed


def _staged(git: GitRepo, where: str) -> dict[str, Pointer]:
    names = [p for p in git.ls_files() if p.endswith(POINTER_SUFFIX)]
    out: dict[str, Pointer] = {}
    for name, blob in git.staged_blobs(names).items():
        if blob is not None:
            try:
                out[f"{where}{name}@index"] = parse_pointer(blob, source=name)
            except GitmlError:
                continue
    return out


def _checkout_of(root: Path) -> dict[str, Pointer]:
    """Pointers in another worktree's index and workspace (one git process)."""
    try:
        git = GitRepo.discover(root)
    except GitmlError:
        return {}
    with git:
        out = _staged(git, f"{root}:")
        for name in git.ls_files():
            if not name.endswith(POINTER_SUFFIX):
                continue
            try:
                check_relpath(name)
                fd = os.open(root / name, os.O_RDONLY | os.O_NOFOLLOW)
            except (UnsafePathError, OSError):
                continue
            try:
                with os.fdopen(fd, "rb") as fh:
                    out[f"{root}:{name}"] = parse_pointer(fh.read(1 << 16), source=name)
            except GitmlError:
                continue
    return out
