"""Library API of the team workflow: data remotes, push/fetch/pull, gc, fsck.

Re-exported by :mod:`gitml.api` (lazily), which is where callers import it from.
The pre-push hook's upload is :func:`gitml.api.hooks.push_for_hook`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.api.data import checkout
from gitml.context import session
from gitml.errors import UsageError
from gitml.progress import Callback

if TYPE_CHECKING:
    from collections.abc import Collection

    from gitml.remotes.maintenance import FsckResult, GcResult
    from gitml.remotes.workflow import RemoteStatus, SyncResult
    from gitml.workspace.checkout import CheckoutResult


def remote_add(
    name: str,
    url: str,
    *,
    endpoint_url: str | None = None,
    default: bool = False,
    local: bool = False,
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> None:
    """Record a data remote in the tracked config (``local``: in config.local.toml).

    Everything is checked before anything is written: the name (git-ref-like), the
    URL and the endpoint URL, neither of which may carry a credential (userinfo, a
    token or signature query parameter): the tracked file is shared with everyone
    who clones, so a secret must never reach it (put it in config.local.toml or
    the environment)."""
    from gitml.config import check_remote_name
    from gitml.configfile import ConfigFile, Key
    from gitml.remotes.url import check_endpoint_url, parse_url

    check_remote_name(name)
    with session(cwd, callback, write=True) as ctx:
        parse_url(url, base=ctx.root)  # refuse bad URLs before recording them
        if endpoint_url:
            check_endpoint_url(endpoint_url)
        config = ConfigFile(ctx.root, local=local)
        config.remove_remote(name)  # replace, do not merge with an older entry
        config.set(Key("remote", "url", name), url)
        if endpoint_url:
            config.set(Key("remote", "endpoint_url", name), endpoint_url)
        if default or not ctx.config.default_remote:
            config.set(Key("core", "remote"), name)
        config.save()
        if not local:
            ctx.git.add([".gitml/config.toml"])


def remote_remove(
    name: str, *, local: bool = False, cwd: Path | None = None, callback: Callback | None = None
) -> None:
    """Remove a data remote from the tracked config (``local``: from config.local.toml,
    e.g. a stale section whose remote a teammate renamed)."""
    from gitml.config import LOCAL_CONFIG_NAME
    from gitml.configfile import ConfigFile, Key

    with session(cwd, callback, write=True) as ctx:
        config = ConfigFile(ctx.root, local=local)
        if not config.remove_remote(name):
            other = ConfigFile(ctx.root, local=not local)
            where = LOCAL_CONFIG_NAME if local else "the tracked config"
            hint = "gitml remote list"
            if name in other.remotes():
                hint = f"gitml remote remove {name}{'' if local else ' --local'}"
            raise UsageError(f"no data remote named {name!r} in {where}", hint)
        if config.get(Key("core", "remote")) == name:
            config.unset(Key("core", "remote"))
        config.save()
        if not local:
            ctx.git.add([".gitml/config.toml"])


def remote_list(
    *, cwd: Path | None = None, callback: Callback | None = None
) -> list[dict[str, Any]]:
    from gitml.remotes.url import parse_url

    with session(cwd, callback, write=False) as ctx:
        return [
            {
                "name": r.name,
                "url": parse_url(r.url, base=ctx.root).display(),
                "default": r.name == ctx.config.default_remote,
            }
            for r in ctx.config.remotes.values()
        ]


def push(
    targets: list[str] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    all_commits: bool = False,
    run_cache: bool = False,
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> SyncResult:
    """Upload the objects the pointers need (verified), then tags and notes with
    git; ``run_cache``: also the run-cache entries and their objects."""
    from gitml.remotes.workflow import push as do_push
    from gitml.remotes.workflow import push_git_side

    with session(cwd, callback, write=True) as ctx:
        result = do_push(
            ctx, targets or [], remote=remote, jobs=jobs or ctx.config.jobs, all_commits=all_commits
        )
        if run_cache:
            from gitml.pipelines.runcache import push_run_cache

            result.run_cache = push_run_cache(ctx, remote)
            for key, why in result.run_cache.refused.items():
                ctx.reporter.warning(f"run-cache entry {key[:12]} not pushed: {why}")
        result.git = push_git_side(ctx, result.remote)
        return result


def fetch(
    targets: list[str] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    all_commits: bool = False,
    run_cache: bool = False,
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> SyncResult:
    """Download (verified) the objects the pointers need; fetch tags and notes;
    ``run_cache``: also the run-cache entries (each checked, see
    :mod:`gitml.pipelines.runcache`; a refused one is a RemoteError at the end)."""
    from gitml.remotes.workflow import fetch as do_fetch
    from gitml.remotes.workflow import fetch_git_side

    with session(cwd, callback, write=True) as ctx:
        name = remote or ctx.config.default_remote or ""
        git_side = fetch_git_side(ctx, name) if name else []
        result = do_fetch(
            ctx, targets or [], remote=remote, jobs=jobs or ctx.config.jobs, all_commits=all_commits
        )
        result.git = git_side
        if run_cache:
            from gitml.pipelines.runcache import pull_run_cache, refused_error

            result.run_cache = pull_run_cache(ctx, remote)
            if result.run_cache.refused:
                raise refused_error(result.run_cache, result.remote)
        return result


def pull(
    targets: list[str] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    all_commits: bool = False,
    force: bool = False,
    run_cache: bool = False,
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> tuple[SyncResult, CheckoutResult]:
    """fetch, then checkout: a fresh clone plus ``gitml pull`` has all its data."""
    result = fetch(
        targets,
        remote=remote,
        jobs=jobs,
        all_commits=all_commits,
        run_cache=run_cache,
        cwd=cwd,
        callback=callback,
    )
    return result, checkout(targets, force=force, cwd=cwd, callback=callback)


def remote_status(
    targets: list[str] | None = None,
    *,
    remote: str | None = None,
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> RemoteStatus:
    """What is not yet pushed, and what is on the remote but not yet fetched."""
    from gitml.remotes.workflow import remote_status as do_remote_status

    with session(cwd, callback, write=False) as ctx:
        return do_remote_status(ctx, targets or [], remote=remote, jobs=ctx.config.jobs)


def fsck(
    *,
    remote: bool = False,
    remote_name: str | None = None,
    verify: bool = False,
    all_commits: bool = False,
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> FsckResult:
    """Re-hash every cache object (corrupt ones are quarantined and named); with
    ``remote``, check the remote has every needed object (``verify``: its bytes)."""
    from gitml.remotes.maintenance import fsck as do_fsck
    from gitml.remotes.maintenance import fsck_remote

    with session(cwd, callback, write=True) as ctx:
        if remote:
            return fsck_remote(ctx, remote=remote_name, verify=verify, all_commits=all_commits)
        return do_fsck(ctx)


def gc(
    *,
    all_commits: bool = False,
    workspace_only: bool = False,
    dry_run: bool = False,
    remote: bool = False,
    remote_name: str | None = None,
    allow_unbacked: bool = False,
    only: Collection[str] | None = None,
    forget_missing: bool = False,
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> GcResult:
    """Remove objects that no root needs (every ref, stash, recent reflog entry,
    index and worktree: see gitml.remotes.roots), from the cache or with
    ``remote`` from the data remote (with the roots of the refs on its git
    remote); objects newer than the grace period (1 h) survive either way.

    A local gc refuses (:class:`~gitml.errors.RefusedError`) to delete objects
    no data remote holds unless ``allow_unbacked``; ``only`` limits the deletes
    to the oids a dry run showed. A shared cache is collected with the roots of
    every repository recorded as using it; ``forget_missing`` drops the records
    of repositories that no longer exist instead of refusing."""
    from gitml.remotes.maintenance import gc as do_gc
    from gitml.remotes.maintenance import gc_remote

    with session(cwd, callback, write=True) as ctx:
        if remote:
            return gc_remote(
                ctx,
                remote=remote_name,
                all_commits=all_commits,
                workspace_only=workspace_only,
                dry_run=dry_run,
                only=only,
            )
        return do_gc(
            ctx,
            all_commits=all_commits,
            workspace_only=workspace_only,
            dry_run=dry_run,
            allow_unbacked=allow_unbacked,
            only=only,
            forget_missing=forget_missing,
        )
