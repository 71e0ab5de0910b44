"""post-checkout / post-merge: bring workspace data in line with the pointers
git just changed. Never destroys unsaved work and never fails the git
command: whatever cannot be done safely becomes a warning."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.git.index import changed_between
from gitml.workspace.checkout import Target, checkout
from gitml.workspace.pointer import POINTER_SUFFIX, tracked_name
from gitml.workspace.tracked import read_pointer


@dataclass
class SyncOutcome:
    updated: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def sync_changed(ctx: RepoContext, old: str, new: str) -> SyncOutcome:
    out = SyncOutcome()
    if ctx.git.try_rev_parse(old) is None or old == new:
        return out
    changed = [
        p
        for p in changed_between(ctx.git, old, new)
        if p.endswith(POINTER_SUFFIX) and not p.startswith(".gitml/")
    ]
    for name in changed:
        tracked = tracked_name(name)
        if not (ctx.root / name).is_file():
            continue  # pointer deleted: the data stays where it is
        try:
            target = Target(tracked, read_pointer(ctx, tracked), "workspace")
            result = checkout(ctx, [target])
        except GitmlError as exc:
            out.warnings.append(
                f"{tracked} not updated: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
            )
            continue
        if result.written or result.deleted:
            out.updated.append(tracked)
    return out
