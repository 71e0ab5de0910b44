"""Data operations of the library API: init, add, status, diff, checkout, rm.

Each function discovers the repository from ``cwd`` (default: the current
directory), loads its config, takes the repository lock when it writes, calls
the domain packages and returns a plain dataclass. Nothing here prints:
progress and warnings go to ``callback``. Errors are :class:`gitml.errors.GitmlError`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.context import session
from gitml.errors import UsageError
from gitml.progress import Callback
from gitml.safepath import UserPath, as_path

# Only what a signature names is imported here, and only for type checkers:
# this module loads when a data command runs, not when the CLI starts.
if TYPE_CHECKING:
    from gitml.context import RepoContext
    from gitml.store.usage import CacheUsage
    from gitml.workspace.add import AddResult
    from gitml.workspace.checkout import CheckoutResult, Target
    from gitml.workspace.diff import DiffResult
    from gitml.workspace.init import InitResult
    from gitml.workspace.status import PathStatus

__all__ = [
    "add",
    "checkout",
    "diff",
    "du",
    "init",
    "remove",
    "status",
]


def init(
    path: Path | None = None, *, hooks: bool = True, callback: Callback | None = None
) -> InitResult:
    """Initialise gitml in the git repository containing ``path``."""
    from gitml.git.repo import GitRepo
    from gitml.workspace.init import init as do_init

    return do_init(GitRepo.discover(path or Path.cwd()), install_hooks=hooks)


def add(
    targets: list[str],
    *,
    force: bool = False,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> AddResult:
    """Snapshot files/folders into the cache, write and stage their pointers.
    ``force``: also over a pointer the workspace data does not follow (it moved
    without its data, or is in merge conflict), which otherwise is refused."""
    from gitml.workspace.add import add as do_add

    with session(cwd, callback, write=True) as ctx:
        return do_add(ctx, targets, cwd=cwd, force=force)


def status(
    targets: list[str] | None = None,
    *,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> list[PathStatus]:
    """The workspace data against its pointers, file by file."""
    from gitml.workspace.status import status as do_status
    from gitml.workspace.tracked import resolve_targets

    with session(cwd, callback, write=False) as ctx:
        return do_status(ctx, resolve_targets(ctx, targets or [], cwd))


def diff(
    old: str = "HEAD",
    new: str | None = None,
    targets: list[str] | None = None,
    *,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> DiffResult:
    """Tracked data changes between ``old`` and ``new`` (None = the workspace)."""
    from gitml.registry.revision import Resolver
    from gitml.workspace.diff import diff as do_diff

    with session(cwd, callback, write=False) as ctx:
        paths = [ctx.relpath(t, cwd=cwd) for t in targets] if targets else None
        resolver = Resolver(ctx)
        old_commit = resolver.resolve(old).commit
        new_commit = resolver.resolve(new).commit if new is not None else None
        return do_diff(ctx, old_commit, new_commit, paths, labels=(old, new))


def resolve_commit(ctx: RepoContext, rev: str) -> str:
    """The commit ``rev`` names: a git revision or a registry reference
    (``churn@v1``, ``churn@latest``, ``churn#prod``); see gitml.registry.revision."""
    from gitml.registry.revision import resolve_revision

    return resolve_revision(ctx, rev).commit


def _split_rev(ctx: RepoContext, text: str, cwd: UserPath | None) -> tuple[str, str | None]:
    """``path@rev`` → (path, rev); a plain path (even one containing '@') → (path, None)."""
    if (
        "@" not in text
        or os.path.lexists(as_path(cwd) / text)
        or os.path.lexists(as_path(cwd) / (text + ".gitml"))
    ):
        return text, None
    path, _, rev = text.rpartition("@")
    if not path or not rev:
        raise UsageError(f"cannot read {text!r} as PATH@REV")
    return path, rev


def checkout_targets(
    ctx: RepoContext, args: list[str], cwd: UserPath | None, *, state: Any = None
) -> list[Target]:
    """Resolve CLI arguments (paths, ``path@rev``) into checkout targets.
    ``state``: the registry state if the caller already read it."""
    from gitml.workspace.checkout import Target
    from gitml.workspace.revisions import pointers_at
    from gitml.workspace.tracked import owning_tracked, read_pointer, resolve_targets

    if not args:
        return [Target(t, read_pointer(ctx, t), "workspace") for t in resolve_targets(ctx, [], cwd)]
    from gitml.registry.service import model_file, read_state, registry_ref

    out: list[Target] = []
    registry: list[Any] = [] if state is None else [state]  # read once (one list_tags)
    for arg in args:
        if "@" in arg or "#" in arg:  # NAME@VERSION / NAME#STAGE when such tags exist
            if not registry:
                registry.append(read_state(ctx))
            ref = registry_ref(ctx, registry[0], arg)
            if ref is not None:
                from gitml.registry.resolve import resolve

                version = resolve(registry[0], ref)
                tracked, pointer = model_file(ctx, version)
                out.append(Target(tracked, pointer, version.commit))
                continue
        path, rev = _split_rev(ctx, arg, cwd)
        if rev is None:
            rel = ctx.relpath(path, cwd=cwd)
            for tracked in resolve_targets(ctx, [path], cwd):
                sub = rel[len(tracked) + 1 :] if rel.startswith(tracked + "/") else ""
                out.append(Target(tracked, read_pointer(ctx, tracked), "workspace", sub))
            continue
        rel = ctx.relpath(path, cwd=cwd)
        pointers = pointers_at(ctx, resolve_commit(ctx, rev))
        owner = owning_tracked(rel, sorted(pointers))
        if owner is None:
            inside = [t for t in pointers if t.startswith(rel + "/")]
            if not inside:
                raise UsageError(f"{rel} is not tracked by gitml at {rev}")
            out += [Target(t, pointers[t], rev) for t in inside]
            continue
        sub = rel[len(owner) + 1 :] if rel != owner else ""
        out.append(Target(owner, pointers[owner], rev, sub))
    return out


def _prefetch(ctx: RepoContext, targets: list[Target]) -> None:
    """Objects a checkout needs that the cache lacks come from the default data
    remote, if one is configured (a clone needs nothing but `gitml checkout`)."""
    from gitml.remotes.workflow import fetch_missing

    fetch_missing(ctx, {f"{t.tracked}.gitml@{t.source}": t.pointer for t in targets})
    imports = {t.tracked: t.pointer for t in targets if t.pointer.source is not None}
    if imports:  # what the data remote lacks of imports comes from their sources
        from gitml.api.imports import restore_from_sources

        for path, why in restore_from_sources(ctx, imports).failed.items():
            ctx.reporter.warning(f"cannot restore the import {path} {why}")


def checkout(
    targets: list[str] | None = None,
    *,
    force: bool = False,
    dry_run: bool = False,
    output: str | Path | None = None,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> CheckoutResult:
    """Make workspace data match pointers (or ``path@rev``, ``name@version``,
    ``name#stage``), keeping unsaved work. ``output``: write one model version there."""
    from gitml.workspace.checkout import CheckoutResult
    from gitml.workspace.checkout import checkout as do_checkout

    if output is not None:
        if len(targets or []) != 1 or dry_run:
            raise UsageError(
                "-o/--output takes exactly one NAME@VERSION or NAME#STAGE",
                "gitml checkout churn@v3 -o /tmp/churn.pkl",
            )
        from gitml.api.registry import checkout_in
        from gitml.registry.service import read_state, registry_ref

        with session(cwd, callback, write=True) as ctx:
            state = read_state(ctx)  # the tags, read once for resolving and writing
            if registry_ref(ctx, state, (targets or [""])[0]) is None:
                return _copy_version(ctx, (targets or [""])[0], output, force=force, cwd=cwd)
            _prefetch(ctx, checkout_targets(ctx, targets or [], cwd, state=state))
            done = checkout_in(ctx, (targets or [""])[0], output, force=force, cwd=cwd, state=state)
            return CheckoutResult(written=done.written, unchanged=done.unchanged)
    with session(cwd, callback, write=True) as ctx:
        if not dry_run:  # what a killed checkout left, before anything can fail
            from gitml.workspace.materialize import recover

            recover(ctx.root, ctx.gitml_dir, ctx.store)
        resolved = checkout_targets(ctx, targets or [], cwd)
        if not dry_run:
            _prefetch(ctx, resolved)
        return do_checkout(ctx, resolved, force=force, dry_run=dry_run)


def _copy_version(
    ctx: RepoContext, arg: str, output: str | Path, *, force: bool, cwd: UserPath | None
) -> CheckoutResult:
    """``checkout PATH[@REV] -o OUT``: a copy of that version (default: HEAD's) of
    a tracked file or folder, or of a file inside one; the workspace is untouched."""
    from gitml.access.copying import copy_out
    from gitml.access.place import place_in
    from gitml.workspace.checkout import CheckoutResult

    path, rev = _split_rev(ctx, arg, cwd)
    base = as_path(cwd)
    with place_in(ctx, None, rev, base=base, reporter=ctx.reporter) as place:
        located = place.locate(ctx.relpath(path, cwd=base))
        if located.pointer is not None and located.pointer.source is not None:
            from gitml.api.imports import restore_from_sources

            restore_from_sources(ctx, {located.tracked: located.pointer})
        if located.kind == "git":
            raise UsageError(f"{located.path} is in git, not tracked by gitml",
                             f"git show {place.revision.text}:{located.path} > FILE")  # fmt: skip
        done = copy_out(place, located, base / output, force=force)
    return CheckoutResult(written=done.written)


def remove(
    targets: list[str], *, cwd: UserPath | None = None, callback: Callback | None = None
) -> list[str]:
    """Stop tracking paths (their data stays on disk)."""
    from gitml.workspace.remove import remove as do_remove
    from gitml.workspace.tracked import resolve_targets

    if not targets:
        raise UsageError("name what to stop tracking", "gitml rm data")
    with session(cwd, callback, write=True) as ctx:
        return do_remove(ctx, resolve_targets(ctx, targets, cwd))


def du(
    *,
    remote: bool = False,
    remote_name: str | None = None,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> CacheUsage:
    """The cache's logical size (every version as whole files), its stored size
    (chunks shared between versions counted once) and their ratio; with
    ``remote`` (or ``remote_name``), the same for everything on the data remote."""
    from gitml.store.usage import cache_usage

    with session(cwd, callback, write=False) as ctx:
        if remote or remote_name is not None:
            from gitml.remotes.chunked import remote_usage
            from gitml.remotes.workflow import check_folder_exists, remote_for

            rem = remote_for(ctx, remote_name)
            try:
                check_folder_exists(rem, create=False, reading=True)
                return remote_usage(rem, ctx.config.jobs)
            finally:
                rem.close()
        return cache_usage(ctx.store)
