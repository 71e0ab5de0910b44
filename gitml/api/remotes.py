"""Library API of the team workflow: data remotes, push/fetch/pull, gc, fsck.

Re-exported by :mod:`gitml.api` (lazily), which is where callers import it from.
The pre-push hook's upload is :func:`gitml.api.hooks.push_for_hook`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.api.data import checkout
from gitml.context import session
from gitml.errors import GitmlError, RemoteError, UsageError
from gitml.progress import Callback
from gitml.safepath import UserPath

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from gitml.context import RepoContext
    from gitml.remotes.maintenance import FsckResult, GcResult
    from gitml.remotes.workflow import RemoteStatus, SyncResult
    from gitml.workspace.checkout import CheckoutResult
    from gitml.workspace.merge import MergeOutcome, ResolveResult
    from gitml.workspace.pointer import Pointer


def remote_add(
    name: str,
    url: str,
    *,
    endpoint_url: str | None = None,
    default: bool = False,
    local: bool = False,
    cwd: UserPath | None = None,
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
        parsed = parse_url(url, base=ctx.root)  # refuse bad URLs before recording them
        if parsed.is_local:
            _prepare_folder(ctx, parsed.path)
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


def _prepare_folder(ctx: RepoContext, path: str) -> None:
    """A new folder remote is created here, where its parent exists (the user
    just named it); a missing parent is likely a typo: warned, not created, and
    ``gitml push`` refuses until it exists (``--create``)."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(path.rstrip("/")) or "/"
    if not os.path.isdir(parent):
        ctx.reporter.warning(
            f"{parent} does not exist (a typo?): gitml push will refuse this remote until "
            "it does (gitml push --create makes it)"
        )
        return
    try:
        os.mkdir(path)
    except OSError as exc:
        ctx.reporter.warning(f"could not create {path}: {exc.strerror}")
        return
    ctx.reporter.info(f"created the folder {path}")


def remote_remove(
    name: str, *, local: bool = False, cwd: UserPath | None = None, callback: Callback | None = None
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
    *, cwd: UserPath | None = None, callback: Callback | None = None
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
    create: bool = False,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> SyncResult:
    """Upload the objects the pointers need (verified), then tags and notes with
    git; ``run_cache``: also the run-cache entries and their objects. A folder
    remote that does not exist is an error unless ``create``."""
    from gitml.remotes.workflow import push as do_push
    from gitml.remotes.workflow import push_git_side

    with session(cwd, callback, write=True) as ctx:
        result = do_push(
            ctx,
            targets or [],
            remote=remote,
            jobs=jobs or ctx.config.jobs,
            all_commits=all_commits,
            create=create,
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
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> SyncResult:
    """Download (verified) the objects the pointers need; fetch tags and notes;
    ``run_cache``: also the run-cache entries (each checked, see
    :mod:`gitml.pipelines.runcache`; a refused one is a RemoteError at the end)."""
    from gitml.access.restore import import_pointers
    from gitml.remotes.workflow import fetch as do_fetch
    from gitml.remotes.workflow import fetch_git_side

    with session(cwd, callback, write=True) as ctx:
        name = remote or ctx.config.default_remote or ""
        git_side = fetch_git_side(ctx, name) if name else []
        imports = import_pointers(ctx, targets or [])
        if ctx.config.remotes or remote is not None or not imports:
            result = do_fetch(ctx, targets or [], remote=remote, jobs=jobs or ctx.config.jobs,
                              all_commits=all_commits, check=not imports)  # fmt: skip
        else:  # every tracked path is an import: its source has the data
            from gitml.remotes.transfer import TransferResult
            from gitml.remotes.workflow import SyncResult

            result = SyncResult("", TransferResult())
        if imports:
            _from_sources(ctx, imports, result, targets or [], all_commits)
        result.git = git_side
        if run_cache:
            from gitml.pipelines.runcache import pull_run_cache, refused_error

            result.run_cache = pull_run_cache(ctx, remote)
            if result.run_cache.refused:
                raise refused_error(result.run_cache, result.remote)
        return result


def _from_sources(
    ctx: RepoContext,
    imports: dict[str, Pointer],
    result: SyncResult,
    targets: list[str],
    all_commits: bool,
) -> None:
    """What the data remote did not have, for imports, from their sources; then
    the fetch's own verdict on whatever is still missing."""
    from gitml.api.imports import restore_from_sources
    from gitml.remotes.workflow import expand, pointers_for, raise_unfetched

    restored = restore_from_sources(ctx, imports)
    result.imports = restored.restored
    if restored.failed:
        path, why = next(iter(restored.failed.items()))
        raise RemoteError(f"cannot restore the import {path} {why}",
                          "gitml update moves it to a revision the source still has")  # fmt: skip
    failed = result.objects.failed
    for oid in [o for o in failed if ctx.store.has(o)]:
        del failed[oid]
    if failed:
        raise_unfetched(
            result.objects, expand(ctx, pointers_for(ctx, targets, all_commits=all_commits))[0]
        )


def pull(
    targets: list[str] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    all_commits: bool = False,
    force: bool = False,
    run_cache: bool = False,
    cwd: UserPath | None = None,
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
    cwd: UserPath | None = None,
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
    cwd: UserPath | None = None,
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
    cwd: UserPath | None = None,
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


# -- merging pointers --------------------------------------------------------------------


def _manifest_fetcher(ctx: RepoContext) -> Callable[[list[str]], None]:
    """Download oids from the default data remote, if one is configured (verified
    on entering the cache); a remote that cannot be reached is a warning: the
    caller then says which manifest it lacks."""

    def fetch(oids: list[str]) -> None:
        from gitml.remotes.workflow import remote_for

        missing = ctx.store.missing(oids)
        if not missing or not ctx.config.remotes:
            return
        try:
            rem = remote_for(ctx, None)
        except GitmlError as exc:
            ctx.reporter.warning(f"cannot fetch from the data remote: {exc.message}")
            return
        try:
            rem.download(ctx.store, sorted(missing), jobs=ctx.config.jobs, reporter=ctx.reporter)
        except GitmlError as exc:
            ctx.reporter.warning(f"fetching from the data remote failed: {exc.message}")
        finally:
            rem.close()

    return fetch


def merge_driver(
    base: Path,
    ours: Path,
    theirs: Path,
    path: str,
    *,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> MergeOutcome:
    """git's merge driver for one pointer (``%O %A %B %P``): the result replaces
    the ``ours`` file (crash-safely), as git expects. Manifests missing locally
    come from the data remote. A conflict is in the outcome (``clean`` False);
    an error (a manifest nowhere to be found) raises, after writing both pointers
    unchanged between conflict markers (never a merged pointer it could not check)."""
    from gitml.store.durable import write_file_atomic
    from gitml.workspace.merge import merge_pointers
    from gitml.workspace.pointer import MAX_POINTER_BYTES

    def read(p: Path) -> bytes:
        with open(p, "rb") as fh:
            return fh.read(4 * MAX_POINTER_BYTES)

    from gitml.workspace.merge import conflict_text

    base_b, ours_b, theirs_b = read(base), read(ours), read(theirs)
    with session(cwd, callback, write=True) as ctx:
        try:
            outcome = merge_pointers(ctx, base_b, ours_b, theirs_b, path, _manifest_fetcher(ctx))
        except GitmlError:
            # Not merged: both pointers as they were, between markers, so the
            # conflict shows and `gitml checkout PATH --conflict` can resolve it.
            write_file_atomic(ours, conflict_text(ours_b, theirs_b, "not merged by gitml"))
            raise
        write_file_atomic(ours, outcome.text)
        return outcome


def resolve_conflict(
    target: str,
    side: str,
    *,
    force: bool = False,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> ResolveResult:
    """``gitml checkout TARGET --conflict ours|theirs``: check out one side of a
    conflicted pointer and write ``NAME.ours``/``NAME.theirs`` beside each file
    the sides disagree on."""
    from gitml.workspace.merge import resolve
    from gitml.workspace.tracked import resolve_targets

    with session(cwd, callback, write=True) as ctx:
        (tracked,) = _one_target(resolve_targets(ctx, [target], cwd), target)
        return resolve(ctx, tracked, side, _manifest_fetcher(ctx), force=force)


def _one_target(tracked: list[str], target: str) -> list[str]:
    if len(tracked) != 1:
        raise UsageError(f"{target!r} names {len(tracked)} tracked paths; give exactly one")
    return tracked


# -- remote management: rename, modify, default --------------------------------------------


def remote_rename(
    old: str, new: str, *, cwd: UserPath | None = None, callback: Callback | None = None
) -> list[str]:
    """Rename a data remote in both files (its tracked section, its local section
    with credentials, and ``core.remote`` wherever it names it). Returns the files
    changed. Refused, with nothing written, if ``new`` exists or ``old`` does not."""
    from gitml.config import LOCAL_CONFIG_NAME, check_remote_name
    from gitml.configfile import ConfigFile, Key

    check_remote_name(new)
    with session(cwd, callback, write=True, require_init=True) as ctx:
        files = [ConfigFile(ctx.root, local=False), ConfigFile(ctx.root, local=True)]
        if not any(old in f.remotes() for f in files):
            raise UsageError(f"no data remote named {old!r}", "gitml remote list")
        if any(new in f.remotes() for f in files):
            raise UsageError(
                f"a data remote named {new!r} exists already", f"gitml remote remove {new}"
            )
        changed: list[ConfigFile] = []
        for config in files:
            moved = config.rename_remote(old, new)
            if config.get(Key("core", "remote")) == old:
                config.set(Key("core", "remote"), new)
                moved = True
            if moved:
                changed.append(config)
        for config in changed:
            config.save()
        names = [LOCAL_CONFIG_NAME if c.local else ".gitml/config.toml" for c in changed]
        if any(not c.local for c in changed):
            ctx.git.add([".gitml/config.toml"])
        return names


def _check_remote_exists(cwd: UserPath | None, name: str) -> None:
    from gitml.configfile import ConfigFile

    with session(cwd, None, write=False) as ctx:
        if not any(name in ConfigFile(ctx.root, local=lo).remotes() for lo in (False, True)):
            raise UsageError(f"no data remote named {name!r}", "gitml remote list")


def remote_modify(
    name: str,
    key: str,
    value: str | None = None,
    *,
    local: bool = False,
    unset: bool = False,
    cwd: UserPath | None = None,
) -> bool:
    """Set (or with ``unset``, remove) one option of an existing data remote:
    ``url``, ``endpoint_url``, ``region``, ``profile``, ``git_remote``,
    ``timeout``, ``chunks`` (``on``/``off``), or a credential (``local`` only). The same checks as
    ``gitml config set remote.NAME.KEY``. Returns False when unsetting a key
    that was not set."""
    from gitml.api.config import config_set, config_unset

    _check_remote_exists(cwd, name)
    full = f"remote.{name}.{key}"
    if unset:
        if key == "url" and not local:
            raise UsageError(
                "a data remote needs its url", f"gitml remote remove {name} to drop it"
            )
        return config_unset(full, local=local, cwd=cwd)
    if value is None:
        raise UsageError(f"give a value for {key}, or --unset")
    config_set(full, value, local=local, cwd=cwd)
    return True


def remote_default(
    name: str | None = None,
    *,
    unset: bool = False,
    local: bool = False,
    cwd: UserPath | None = None,
) -> str | None:
    """Set ``core.remote`` to ``name`` (it must exist), remove it (``unset``), or,
    with neither, return the default remote in use (None if there is none)."""
    from gitml.api.config import config_get, config_set, config_unset

    if unset:
        config_unset("core.remote", local=local, cwd=cwd)
        return None
    if name is None:
        entry = config_get("core.remote", cwd=cwd)
        return None if entry is None else str(entry.value)
    _check_remote_exists(cwd, name)
    config_set("core.remote", name, local=local, cwd=cwd)
    return name
