"""Git hooks in the library API: install/uninstall/status and what each hook runs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from gitml.api.baselines import registry_baseline
from gitml.context import session
from gitml.progress import Callback
from gitml.safepath import UserPath, as_path

if TYPE_CHECKING:
    from gitml.git.hooks import HookReport, HookStatus
    from gitml.hookflow.post_commit import PostCommitOutcome
    from gitml.hookflow.pre_commit import PreCommitOutcome
    from gitml.hookflow.sync import SyncOutcome

__all__ = [
    "hooks_install",
    "hooks_status",
    "hooks_uninstall",
    "post_commit",
    "pre_commit",
    "push_for_hook",
    "sync_after",
]


def hooks_install(*, cwd: UserPath | None = None) -> HookReport:
    """Install the hooks; also records the pointer merge driver in .git/config
    (a fresh clone has ``.gitattributes`` naming it, not the config)."""
    from gitml.git.hooks import install_hooks
    from gitml.git.mergedriver import configure_merge_driver
    from gitml.git.repo import GitRepo

    repo = GitRepo.discover(as_path(cwd))
    configure_merge_driver(repo, sys.executable)
    return install_hooks(repo, python=sys.executable)


def hooks_uninstall(*, cwd: UserPath | None = None) -> HookReport:
    from gitml.git.hooks import uninstall_hooks
    from gitml.git.repo import GitRepo

    return uninstall_hooks(GitRepo.discover(as_path(cwd)))


def hooks_status(*, cwd: UserPath | None = None) -> dict[str, HookStatus]:
    from gitml.git.hooks import hook_status
    from gitml.git.repo import GitRepo

    return hook_status(GitRepo.discover(as_path(cwd)))


def pre_commit(
    *, cwd: UserPath | None = None, callback: Callback | None = None
) -> PreCommitOutcome:
    """What the pre-commit hook checks: staged pointers match data; affected guards pass."""
    from gitml.hookflow.pre_commit import pre_commit as do_pre_commit

    with session(cwd, callback, write=True) as ctx:
        return do_pre_commit(ctx, stage_metrics=registry_baseline(ctx))


def post_commit(
    *, cwd: UserPath | None = None, callback: Callback | None = None
) -> PostCommitOutcome:
    """Attach the metadata note to HEAD (running guards if the commit skipped them)."""
    from gitml.hookflow.post_commit import record_commit

    with session(cwd, callback, write=True) as ctx:
        return record_commit(ctx, stage_metrics=registry_baseline(ctx))


def sync_after(
    old: str, new: str, *, cwd: UserPath | None = None, callback: Callback | None = None
) -> SyncOutcome:
    """post-checkout/post-merge: update data whose pointers changed from old to new."""
    from gitml.hookflow.sync import sync_changed

    with session(cwd, callback, write=True) as ctx:
        return sync_changed(ctx, old, new)


def push_for_hook(
    git_remote: str,
    lines: list[str],
    *,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> str:
    """pre-push: upload the objects the pushed commits' pointers need. Returns a
    message; raises (blocking the push) when a configured remote cannot take them."""
    from gitml.hookflow.pre_push import pre_push

    with session(cwd, callback, write=True) as ctx:
        return pre_push(ctx, git_remote, lines)
