"""Library API of the team workflow: data remotes, push/fetch/pull, gc, fsck.

Re-exported by :mod:`gitml.api` (lazily), which is where callers import it from.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.api import checkout, session
from gitml.errors import RemoteError, UsageError
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
    cwd: Path | None = None,
) -> None:
    """Record a data remote in the tracked config (secrets belong in config.local.toml)."""
    from gitml.config import read_raw, write_raw
    from gitml.remotes.url import parse_url

    with session(cwd, None, write=True) as ctx:
        parse_url(url, base=ctx.root)  # refuse bad URLs before recording them
        data = read_raw(ctx.root)
        body: dict[str, str] = {"url": url}
        if endpoint_url:
            body["endpoint_url"] = endpoint_url
        data.setdefault("remote", {})[name] = body
        if default or not ctx.config.default_remote:
            data.setdefault("core", {})["remote"] = name
        write_raw(ctx.root, data)
        ctx.git.add([".gitml/config.toml"])


def remote_remove(name: str, *, cwd: Path | None = None) -> None:
    from gitml.config import read_raw, write_raw

    with session(cwd, None, write=True) as ctx:
        data = read_raw(ctx.root)
        if name not in data.get("remote", {}):
            raise UsageError(f"no data remote named {name!r}", "gitml remote list")
        del data["remote"][name]
        if data.get("core", {}).get("remote") == name:
            del data["core"]["remote"]
        write_raw(ctx.root, data)
        ctx.git.add([".gitml/config.toml"])


def remote_list(*, cwd: Path | None = None) -> list[dict[str, Any]]:
    from gitml.remotes.url import parse_url

    with session(cwd, None, write=False) as ctx:
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


def push_for_hook(
    git_remote: str, lines: list[str], *, cwd: Path | None = None, callback: Callback | None = None
) -> str:
    """pre-push: upload the objects the pushed commits' pointers need. Returns a
    message; raises (blocking the push) when a configured remote cannot take them."""
    from gitml.git.index import blobs_in_history
    from gitml.remotes.workflow import expand, remote_for
    from gitml.workspace.pointer import POINTER_SUFFIX, parse_pointer

    with session(cwd, callback, write=True) as ctx:
        if not ctx.config.remotes:
            return "no gitml data remote configured: data stays local (gitml remote add NAME URL)"
        shas = [
            ln.split()[1] for ln in lines if len(ln.split()) == 4 and set(ln.split()[1]) != {"0"}
        ]
        if not shas:
            return ""
        blobs = blobs_in_history(
            ctx.git, POINTER_SUFFIX, [*shas, "--not", f"--remotes={git_remote}"]
        )
        data = ctx.git.read_blobs(blobs)
        pointers = {f"{n}@{s[:8]}": parse_pointer(data[s], source=n) for s, n in blobs.items()}
        needed, _missing = expand(ctx, pointers)
        rem = remote_for(ctx, None)
        try:
            result = rem.upload(
                ctx.store, sorted(needed), jobs=ctx.config.jobs, reporter=ctx.reporter
            )
        finally:
            rem.close()
        if result.failed:
            raise RemoteError(
                f"{len(result.failed)} data objects could not be pushed",
                "gitml fsck; or push with --no-verify to skip data",
            )
        return f"pushed {len(result.transferred)} data objects" if result.transferred else ""
