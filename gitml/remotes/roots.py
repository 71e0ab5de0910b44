"""What gc must keep: every object a revision the repository still names needs.

The roots, by default (``gitml gc``):

- every ref: local branches, remote-tracking branches, tags (registry versions
  included), ``refs/stash`` and anything else under ``refs/`` (``rev-list
  --all``), with their whole history;
- every stash entry (``stash@{n}``, with the index and untracked-files commits
  it holds as parents), and what a merge, rebase, cherry-pick or revert in
  progress names (``MERGE_HEAD``, ``CHERRY_PICK_HEAD``...);
- every reflog entry younger than ``gc.reflog_days`` (default 10: git-lfs's
  ``fetchrecentrefsdays`` 7 plus ``pruneoffsetdays`` 3), so a commit dropped by
  ``reset --hard`` or ``commit --amend`` keeps its data for a while;
- the workspace pointers and the index of every worktree of the repository;
  a worktree that exists but cannot be opened makes gc refuse (its checkout
  could need anything).

``all_commits`` adds every reflog entry whatever its age. ``workspace_only``
(``gitml gc --workspace``, DVC's ``gc -w``) keeps just the checkouts and
indexes of every worktree and the commits tags point at, no history.

Roots are pointers; a directory pointer needs its manifest to tell what it
needs. A manifest that is not in the cache is fetched from the data remote when
one is given; if it still cannot be read gc refuses.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from gitml.context import RepoContext
from gitml.errors import GitmlError, RefusedError, UnsafePathError, UsageError
from gitml.git.refs import STASH_REF, in_progress_commits, reflog_entries
from gitml.git.repo import GitRepo
from gitml.git.worktrees import others
from gitml.remotes.workflow import expand, pointers_for, pointers_in_history
from gitml.safepath import check_relpath
from gitml.workspace.pointer import POINTER_SUFFIX, Pointer, parse_pointer

if TYPE_CHECKING:
    from gitml.remotes.remote import Remote

DAY = 86400.0


def root_tips(ctx: RepoContext, *, all_commits: bool) -> list[str]:
    """Commit ids to walk besides ``--all``: every stash entry, the reflog
    entries inside the window (all of them with ``all_commits``), the HEAD of
    every other worktree and what a merge, rebase or cherry-pick in progress names."""
    cutoff = 0.0 if all_commits else time.time() - ctx.config.reflog_days * DAY
    tips = [e.sha for e in reflog_entries(ctx.git) if e.ref == STASH_REF or e.time >= cutoff]
    tips += [tree.head for tree in others(ctx.git) if tree.head]
    tips += in_progress_commits(ctx.git)
    return list(dict.fromkeys(tips))


def root_pointers(
    ctx: RepoContext, *, all_commits: bool, workspace_only: bool = False
) -> dict[str, Pointer]:
    """Every pointer a root names (see the module doc), keyed by a label."""
    if all_commits and workspace_only:
        raise UsageError("--workspace and --all-commits exclude each other")
    pointers = pointers_for(ctx, [], all_commits=False)
    pointers.update(_staged(ctx.git, ""))
    for tree in others(ctx.git):
        if not tree.prunable:
            pointers.update(_checkout_of(tree.path))
    if workspace_only:
        pointers.update(pointers_in_history(ctx, ["--no-walk", "--tags"], warn=False))
    else:
        tips = root_tips(ctx, all_commits=all_commits)
        pointers.update(pointers_in_history(ctx, ["--all"], tips=tips, warn=False))
    return pointers


def gc_roots(
    ctx: RepoContext,
    *,
    all_commits: bool,
    workspace_only: bool = False,
    manifests_from: Callable[[], Remote | None] | None = None,
) -> dict[str, str]:
    """oid → a label naming who needs it, for every object gc must keep.
    ``manifests_from`` opens the remote to fetch missing manifests from."""
    pointers = root_pointers(ctx, all_commits=all_commits, workspace_only=workspace_only)
    needed, missing = expand(ctx, pointers)
    rem = manifests_from() if missing and manifests_from is not None else None
    if missing and rem is not None:
        _fetch_manifests(ctx, rem, (pointers[label].oid for label in missing))
        needed, missing = expand(ctx, pointers)
    if missing:
        raise RefusedError(
            f"gc cannot tell what {missing[0]} needs: its manifest is neither in the cache "
            "nor on the data remote",
            "gitml fetch --all-commits, or gitml fsck --cloud to find what is lost",
        )
    return needed


def _fetch_manifests(ctx: RepoContext, rem: Remote, oids: Iterable[str]) -> None:
    """Bring missing directory manifests into the cache (verified, small)."""
    rem.download(ctx.store, sorted(set(oids)), jobs=ctx.config.jobs, reporter=ctx.reporter)


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
    """Pointers in another worktree's index and workspace (one git process).

    A worktree git lists but gitml cannot open is not skipped: its checkout
    could need any object, so gc refuses until it is repaired or pruned."""
    try:
        git = GitRepo.discover(root)
    except GitmlError as exc:
        raise RefusedError(
            f"gc cannot read the worktree {root}: {exc.message}",
            "mount or repair it (git worktree repair), or remove it (git worktree remove "
            "/ prune), then gc again",
        ) from None
    with git:
        out = _staged(git, f"{root}:")
        for name in git.ls_files():
            if not name.endswith(POINTER_SUFFIX):
                continue
            try:
                check_relpath(name)
                fd = os.open(root / name, os.O_RDONLY | os.O_NOFOLLOW)
            except (UnsafePathError, OSError):
                continue  # not checked out there: its index entry was read above
            try:
                with os.fdopen(fd, "rb") as fh:
                    out[f"{root}:{name}"] = parse_pointer(fh.read(1 << 16), source=name)
            except GitmlError:
                continue
    return out
