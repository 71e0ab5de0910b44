"""The library API: one typed function per user operation.

Each function discovers the repository from ``cwd`` (default: the current
directory), loads its config, takes the repository lock when it writes, calls
the domain packages and returns a plain dataclass. Nothing here prints:
progress and warnings go to ``callback``. Errors are :class:`gitml.errors.GitmlError`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.errors import RemoteError, UsageError
from gitml.progress import Callback, Reporter

# Only what a signature names is imported here, and only for type checkers:
# `import gitml.api` must stay cheap because every CLI command and hook does it.
if TYPE_CHECKING:
    from gitml.context import RepoContext
    from gitml.git.hooks import HookReport, HookStatus
    from gitml.guards.results import GuardReport
    from gitml.hookflow.post_commit import PostCommitOutcome
    from gitml.hookflow.pre_commit import PreCommitOutcome
    from gitml.hookflow.sync import SyncOutcome
    from gitml.meta.history import LogRow
    from gitml.remotes.maintenance import FsckResult, GcResult
    from gitml.remotes.workflow import RemoteStatus, SyncResult
    from gitml.workspace.add import AddResult
    from gitml.workspace.checkout import CheckoutResult, Target
    from gitml.workspace.diff import DiffResult
    from gitml.workspace.init import InitResult
    from gitml.workspace.status import PathStatus

__all__ = [
    "add",
    "checkout",
    "diff",
    "init",
    "remove",
    "status",
]


@contextmanager
def session(
    cwd: Path | None, callback: Callback | None, *, write: bool, require_init: bool = True
) -> Iterator[RepoContext]:
    """Open the repository (and take its lock when ``write``) for one operation."""
    from gitml.context import open_repo

    ctx = open_repo(cwd, reporter=Reporter(callback), require_init=require_init)
    try:
        if write:
            from gitml.store.lock import RepoLock

            with RepoLock(
                ctx.gitml_dir / "lock", timeout=ctx.config.lock_timeout, reporter=ctx.reporter
            ):
                yield ctx
        else:
            yield ctx
    finally:
        ctx.close()


def init(
    path: Path | None = None, *, hooks: bool = True, callback: Callback | None = None
) -> InitResult:
    """Initialise gitml in the git repository containing ``path``."""
    from gitml.git.repo import GitRepo
    from gitml.workspace.init import init as do_init

    return do_init(GitRepo.discover(path or Path.cwd()), install_hooks=hooks)


def add(
    targets: list[str], *, cwd: Path | None = None, callback: Callback | None = None
) -> AddResult:
    """Snapshot files/folders into the cache, write and stage their pointers."""
    from gitml.workspace.add import add as do_add

    with session(cwd, callback, write=True) as ctx:
        return do_add(ctx, targets, cwd=cwd)


def status(
    targets: list[str] | None = None, *, cwd: Path | None = None, callback: Callback | None = None
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
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> DiffResult:
    """Tracked data changes between ``old`` and ``new`` (None = the workspace)."""
    from gitml.workspace.diff import diff as do_diff

    with session(cwd, callback, write=False) as ctx:
        paths = [ctx.relpath(t, cwd=cwd) for t in targets] if targets else None
        return do_diff(ctx, old, new, paths)


def _split_rev(ctx: RepoContext, text: str, cwd: Path | None) -> tuple[str, str | None]:
    """``path@rev`` → (path, rev); a plain path (even one containing '@') → (path, None)."""
    if (
        "@" not in text
        or os.path.lexists((cwd or Path.cwd()) / text)
        or os.path.lexists((cwd or Path.cwd()) / (text + ".gitml"))
    ):
        return text, None
    path, _, rev = text.rpartition("@")
    if not path or not rev:
        raise UsageError(f"cannot read {text!r} as PATH@REV")
    return path, rev


def checkout_targets(ctx: RepoContext, args: list[str], cwd: Path | None) -> list[Target]:
    """Resolve CLI arguments (paths, ``path@rev``) into checkout targets."""
    from gitml.workspace.checkout import Target
    from gitml.workspace.revisions import pointers_at
    from gitml.workspace.tracked import owning_tracked, read_pointer, resolve_targets

    if not args:
        return [Target(t, read_pointer(ctx, t), "workspace") for t in resolve_targets(ctx, [], cwd)]
    from gitml.registry.service import model_file, read_state, registry_ref

    out: list[Target] = []
    registry: list[Any] = []  # the registry state, read once (one list_tags) if needed
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
        pointers = pointers_at(ctx, rev)
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


def checkout(
    targets: list[str] | None = None,
    *,
    force: bool = False,
    dry_run: bool = False,
    output: str | Path | None = None,
    cwd: Path | None = None,
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
        from gitml.registry.api import checkout_in

        with session(cwd, callback, write=True) as ctx:
            _prefetch(ctx, checkout_targets(ctx, targets or [], cwd))
            done = checkout_in(ctx, (targets or [""])[0], output, force=force, cwd=cwd)
            return CheckoutResult(written=done.written, unchanged=done.unchanged)
    with session(cwd, callback, write=True) as ctx:
        resolved = checkout_targets(ctx, targets or [], cwd)
        if not dry_run:
            _prefetch(ctx, resolved)
        return do_checkout(ctx, resolved, force=force, dry_run=dry_run)


def remove(
    targets: list[str], *, cwd: Path | None = None, callback: Callback | None = None
) -> list[str]:
    """Stop tracking paths (their data stays on disk)."""
    from gitml.workspace.remove import remove as do_remove
    from gitml.workspace.tracked import resolve_targets

    if not targets:
        raise UsageError("name what to stop tracking", "gitml rm data")
    with session(cwd, callback, write=True) as ctx:
        return do_remove(ctx, resolve_targets(ctx, targets, cwd))


# -- guards, hooks and commit metadata ------------------------------------------------


def guard_run(
    targets: list[str] | None = None, *, cwd: Path | None = None, callback: Callback | None = None
) -> GuardReport:
    """Run guards by name, or those affected by the given paths (default: all).

    Drift compares with the newest statistics stored in HEAD's history;
    no-regression with the model in the configured stage.
    """
    from gitml.guards.projectfile import load_project
    from gitml.guards.runner import affected_guards
    from gitml.hookflow.guarding import run_for_commit

    with session(cwd, callback, write=False) as ctx:
        project = load_project(ctx.root)
        names: list[str] | None = None
        if targets:
            names = []
            for target in targets:
                if target in project.guards.guards:
                    names.append(target)
                else:
                    hits = affected_guards(project.guards, [ctx.relpath(target, cwd=cwd)])
                    if not hits:
                        raise UsageError(
                            f"{target!r} is neither a guard nor a path a guard checks",
                            f"guards: {', '.join(project.guards.guards) or 'none'}",
                        )
                    names += hits
        return run_for_commit(ctx, project, names)


def show(rev: str = "HEAD", *, cwd: Path | None = None) -> dict[str, Any]:
    """The metadata document attached to a commit."""
    from gitml.meta.history import show as do_show

    with session(cwd, None, write=False) as ctx:
        return do_show(ctx, rev)


def log(
    path: str | None = None,
    *,
    metrics: bool = False,
    rev: str = "HEAD",
    max_count: int | None = None,
    cwd: Path | None = None,
) -> list[LogRow]:
    """History of a tracked path, a metrics file, or all metrics, from notes."""
    from gitml.meta.history import log as do_log

    with session(cwd, None, write=False) as ctx:
        rel = ctx.relpath(path, cwd=cwd) if path else None
        return do_log(ctx, rel, metrics=metrics, rev=rev, max_count=max_count)


def hooks_install(*, cwd: Path | None = None) -> HookReport:
    from gitml.git.hooks import install_hooks
    from gitml.git.repo import GitRepo

    return install_hooks(GitRepo.discover(cwd or Path.cwd()), python=sys.executable)


def hooks_uninstall(*, cwd: Path | None = None) -> HookReport:
    from gitml.git.hooks import uninstall_hooks
    from gitml.git.repo import GitRepo

    return uninstall_hooks(GitRepo.discover(cwd or Path.cwd()))


def hooks_status(*, cwd: Path | None = None) -> dict[str, HookStatus]:
    from gitml.git.hooks import hook_status
    from gitml.git.repo import GitRepo

    return hook_status(GitRepo.discover(cwd or Path.cwd()))


def pre_commit(*, cwd: Path | None = None, callback: Callback | None = None) -> PreCommitOutcome:
    """What the pre-commit hook checks: staged pointers match data; affected guards pass."""
    from gitml.hookflow.pre_commit import pre_commit as do_pre_commit

    with session(cwd, callback, write=True) as ctx:
        return do_pre_commit(ctx)


def post_commit(*, cwd: Path | None = None, callback: Callback | None = None) -> PostCommitOutcome:
    """Attach the metadata note to HEAD (running guards if the commit skipped them)."""
    from gitml.hookflow.post_commit import record_commit

    with session(cwd, callback, write=True) as ctx:
        return record_commit(ctx)


def sync_after(
    old: str, new: str, *, cwd: Path | None = None, callback: Callback | None = None
) -> SyncOutcome:
    """post-checkout/post-merge: update data whose pointers changed from old to new."""
    from gitml.hookflow.sync import sync_changed

    with session(cwd, callback, write=True) as ctx:
        return sync_changed(ctx, old, new)


# -- remotes and team workflow ----------------------------------------------------------


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
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> SyncResult:
    """Upload the objects the pointers need (verified), then tags and notes with git."""
    from gitml.remotes.workflow import push as do_push
    from gitml.remotes.workflow import push_git_side

    with session(cwd, callback, write=True) as ctx:
        result = do_push(
            ctx, targets or [], remote=remote, jobs=jobs or ctx.config.jobs, all_commits=all_commits
        )
        result.git = push_git_side(ctx, result.remote)
        return result


def fetch(
    targets: list[str] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    all_commits: bool = False,
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> SyncResult:
    """Download (verified) the objects the pointers need; fetch tags and notes."""
    from gitml.remotes.workflow import fetch as do_fetch
    from gitml.remotes.workflow import fetch_git_side

    with session(cwd, callback, write=True) as ctx:
        name = remote or ctx.config.default_remote or ""
        git_side = fetch_git_side(ctx, name) if name else []
        result = do_fetch(
            ctx, targets or [], remote=remote, jobs=jobs or ctx.config.jobs, all_commits=all_commits
        )
        result.git = git_side
        return result


def pull(
    targets: list[str] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    all_commits: bool = False,
    force: bool = False,
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> tuple[SyncResult, CheckoutResult]:
    """fetch, then checkout: a fresh clone plus ``gitml pull`` has all its data."""
    result = fetch(
        targets, remote=remote, jobs=jobs, all_commits=all_commits, cwd=cwd, callback=callback
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
    dry_run: bool = False,
    remote: bool = False,
    remote_name: str | None = None,
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> GcResult:
    """Remove objects that no kept revision needs: from the cache (objects newer
    than the grace period survive), or with ``remote`` from the data remote."""
    from gitml.remotes.maintenance import gc as do_gc
    from gitml.remotes.maintenance import gc_remote

    with session(cwd, callback, write=True) as ctx:
        if remote:
            return gc_remote(ctx, remote=remote_name, all_commits=all_commits, dry_run=dry_run)
        return do_gc(ctx, all_commits=all_commits, dry_run=dry_run)


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


# -- registry, pipelines and DVC interop: typed APIs that live beside their domains --
# Re-exported lazily (PEP 562) so importing gitml.api does not import them all.

_LAZY = {
    **dict.fromkeys(
        ["demote", "deprecate", "model_checkout", "model_path", "model_show", "models",
         "promote", "register"],
        "gitml.registry.api",
    ),
    **dict.fromkeys(["dag", "monitor", "pipeline", "repro"], "gitml.pipelines.api"),
    "import_dvc": "gitml.interop.api",
    "AddResult": "gitml.workspace.add",
    "CheckoutResult": "gitml.workspace.checkout",
    "DiffResult": "gitml.workspace.diff",
    "InitResult": "gitml.workspace.init",
    "PathStatus": "gitml.workspace.status",
}  # fmt: skip
__all__ += sorted(_LAZY)

if TYPE_CHECKING:
    from gitml.interop.api import import_dvc as import_dvc
    from gitml.pipelines.api import dag as dag
    from gitml.pipelines.api import monitor as monitor
    from gitml.pipelines.api import pipeline as pipeline
    from gitml.pipelines.api import repro as repro
    from gitml.registry.api import demote as demote
    from gitml.registry.api import deprecate as deprecate
    from gitml.registry.api import model_checkout as model_checkout
    from gitml.registry.api import model_path as model_path
    from gitml.registry.api import model_show as model_show
    from gitml.registry.api import models as models
    from gitml.registry.api import promote as promote
    from gitml.registry.api import register as register
else:

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'gitml.api' has no attribute {name!r}")
        import importlib

        return getattr(importlib.import_module(module), name)
