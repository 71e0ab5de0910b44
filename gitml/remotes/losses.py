"""What a gc would lose, in words a user can check: paths and the commits that named them.

An object gc collects is by definition named by no root (see
:mod:`gitml.remotes.roots`), but it may be named by history the roots no longer
reach: reflog entries older than the window, the history ``--workspace`` drops,
or commits of a deleted branch whose reflog survives. One ``git log --raw`` over
every ref and every reflog entry finds the pointer versions that named each
object; anything else was added and never committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.git.log import blob_introductions
from gitml.git.refs import reflog_entries
from gitml.git.worktrees import others
from gitml.store.manifest import decode_manifest
from gitml.workspace.pointer import POINTER_SUFFIX, parse_pointer, tracked_name

NEVER_COMMITTED = "named by no commit gitml can see (added, never committed)"
_MAX_NAMES = 3


@dataclass
class Loss:
    """One object a gc removes (or would): its size and who named it."""

    oid: str
    size: int
    names: list[str] = field(default_factory=list)  # "data/a.csv at 1a2b3c4d, 5e6f7a8b"
    on_remote: bool | None = None  # local gc: a data remote holds it (None: not asked)


def name_losses(ctx: RepoContext, sizes: dict[str, int]) -> list[Loss]:
    """A :class:`Loss` per oid of ``sizes``, named by every revision git still has."""
    losses = {oid: Loss(oid, size) for oid, size in sorted(sizes.items())}
    if not losses:
        return []
    tips = [e.sha for e in reflog_entries(ctx.git)]
    tips += [tree.head for tree in others(ctx.git) if tree.head]
    introduced = blob_introductions(ctx.git, POINTER_SUFFIX, tips=tips)
    blobs = ctx.git.read_blobs(introduced)
    for blob, commits in introduced.items():
        path = commits[0][1]
        try:
            pointer = parse_pointer(blobs[blob], source=path)
        except GitmlError:
            continue
        at = " at " + ", ".join(sha[:8] for sha, _path in commits)
        name = tracked_name(path)
        _name(
            losses, pointer.oid, name + (" (folder manifest)" if pointer.kind == "dir" else "") + at
        )
        if pointer.kind != "dir" or not ctx.store.has(pointer.oid):
            continue
        try:
            entries = decode_manifest(ctx.store.read_bytes(pointer.oid), source=path)
        except GitmlError:
            continue
        for entry in entries:
            if entry.oid in losses:
                _name(losses, entry.oid, f"{name}/{entry.path}{at}")
    for loss in losses.values():
        if not loss.names:
            loss.names.append(NEVER_COMMITTED)
    return list(losses.values())


def _name(losses: dict[str, Loss], oid: str, text: str) -> None:
    loss = losses.get(oid)
    if loss is not None and len(loss.names) < _MAX_NAMES and text not in loss.names:
        loss.names.append(text)
