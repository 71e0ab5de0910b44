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

from gitml.errors import UsageError
from gitml.progress import Callback, Reporter

# Only what a signature names is imported here, and only for type checkers:
# `import gitml.api` must stay cheap because every CLI command and hook does it.
if TYPE_CHECKING:
    from gitml.configfile import ConfigEntry, ConfigListing
    from gitml.context import RepoContext
    from gitml.git.hooks import HookReport, HookStatus
    from gitml.guards.results import GuardReport
    from gitml.hookflow.post_commit import PostCommitOutcome
    from gitml.hookflow.pre_commit import PreCommitOutcome
    from gitml.hookflow.sync import SyncOutcome
    from gitml.meta.history import LogRow
    from gitml.workspace.add import AddResult
    from gitml.workspace.checkout import CheckoutResult, Target
    from gitml.workspace.diff import DiffResult
    from gitml.workspace.init import InitResult
    from gitml.workspace.status import PathStatus

__all__ = [
    "add",
    "checkout",
    "config_get",
    "config_list",
    "config_set",
    "config_unset",
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
        if require_init:
            from gitml.git.hooknotice import hooks_notice

            notice = hooks_notice(ctx.git)  # a fresh clone has none: say it once
            if notice:
                ctx.reporter.warning(notice)
        if write:
            from gitml.store.lock import RepoLock

            with RepoLock(
                ctx.gitml_dir / "lock", timeout=ctx.config.lock_timeout, reporter=ctx.reporter
            ):
                if require_init:
                    # A cache outside the repository may be shared: say we use it,
                    # so gc run from another repository keeps what we need.
                    from gitml.cache_users import record_user

                    record_user(ctx)
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
    callback: Callback | None = None,
) -> list[LogRow]:
    """History of a tracked path, a metrics file, or all metrics, from notes.

    A commit whose note cannot be decoded is listed without metadata and
    reported as a ``warning`` event.
    """
    from gitml.meta.history import log as do_log

    with session(cwd, callback, write=False) as ctx:
        rel = ctx.relpath(path, cwd=cwd) if path else None
        return do_log(ctx, rel, metrics=metrics, rev=rev, max_count=max_count, callback=callback)


def hooks_install(*, cwd: Path | None = None) -> HookReport:
    """Install the hooks; also records the pointer merge driver in .git/config
    (a fresh clone has ``.gitattributes`` naming it, not the config)."""
    from gitml.git.hooks import install_hooks
    from gitml.git.mergedriver import configure_merge_driver
    from gitml.git.repo import GitRepo

    repo = GitRepo.discover(cwd or Path.cwd())
    configure_merge_driver(repo, sys.executable)
    return install_hooks(repo, python=sys.executable)


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


# -- gitml config: works on the two files directly, so a config that does not load
# (a bad value, a stale remote) can still be read and repaired with it.


@contextmanager
def _config_files(cwd: Path | None, *, write: bool) -> Iterator[Path]:
    from gitml.config import GITML_DIR
    from gitml.errors import NotARepoError
    from gitml.git.repo import GitRepo

    root = GitRepo.discover(cwd or Path.cwd()).root
    if not (root / GITML_DIR).is_dir():
        raise NotARepoError(f"gitml is not initialised in {root}", "run `gitml init` first")
    if not write:
        yield root
        return
    from gitml.store.lock import RepoLock

    with RepoLock(root / GITML_DIR / "lock", timeout=60.0, reporter=Reporter()):
        yield root


def config_get(key: str, *, local: bool = False, cwd: Path | None = None) -> ConfigEntry | None:
    """The value gitml uses for ``key`` and where it comes from (``local``: only
    what config.local.toml says); None when it is set nowhere and has no default."""
    from gitml.configfile import effective, parse_key

    parsed, _spec = parse_key(key)
    with _config_files(cwd, write=False) as root:
        return effective(root, parsed, local_only=local)


def config_list(*, local: bool = False, cwd: Path | None = None) -> ConfigListing:
    """Every key set in the tracked and local files, where it comes from, and
    whether gitml uses it (``refused``: an untrusted tracked setting)."""
    from gitml.configfile import ConfigListing, list_entries

    with _config_files(cwd, write=False) as root:
        entries, error = list_entries(root, local_only=local)
        return ConfigListing(entries=entries, error=error)


def config_set(key: str, value: str, *, local: bool = False, cwd: Path | None = None) -> None:
    """Set ``key`` in the tracked config (staged) or, with ``local``, in
    config.local.toml; comments in the file are kept. Secrets, a cache outside the
    repository and the hardlink/symlink modes are refused in the tracked file."""
    from gitml.config import check_remote_name
    from gitml.configfile import ConfigFile, coerce, parse_key

    parsed, spec = parse_key(key)
    typed = coerce(parsed, spec, value)
    if str(parsed) == "core.remote":
        check_remote_name(typed)
    if parsed.remote is not None and parsed.name in ("url", "endpoint_url"):
        from gitml.remotes.url import check_endpoint_url, parse_url

        with _config_files(cwd, write=False) as root:
            if parsed.name == "url":
                parse_url(str(typed), base=root)
            else:
                check_endpoint_url(str(typed))
    with _config_files(cwd, write=True) as root:
        config = ConfigFile(root, local=local)
        config.set(parsed, typed)
        config.save()
        _stage_tracked(root, local)


def config_unset(key: str, *, local: bool = False, cwd: Path | None = None) -> bool:
    """Remove ``key`` from one file; False if it was not set there."""
    from gitml.configfile import ConfigFile, parse_key

    parsed, _spec = parse_key(key)
    with _config_files(cwd, write=True) as root:
        config = ConfigFile(root, local=local)
        if not config.unset(parsed):
            return False
        config.save()
        _stage_tracked(root, local)
        return True


def _stage_tracked(root: Path, local: bool) -> None:
    if not local:
        from gitml.git.repo import GitRepo

        GitRepo.discover(root).add([".gitml/config.toml"])


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
    **dict.fromkeys(
        ["remote_add", "remote_remove", "remote_list", "push", "fetch", "pull",
         "remote_status", "fsck", "gc", "push_for_hook", "merge_driver", "resolve_conflict",
         "remote_rename", "remote_modify", "remote_default"],
        "gitml.remotes.api",
    ),
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
    from gitml.remotes.api import fetch as fetch
    from gitml.remotes.api import fsck as fsck
    from gitml.remotes.api import gc as gc
    from gitml.remotes.api import merge_driver as merge_driver
    from gitml.remotes.api import pull as pull
    from gitml.remotes.api import push as push
    from gitml.remotes.api import push_for_hook as push_for_hook
    from gitml.remotes.api import remote_add as remote_add
    from gitml.remotes.api import remote_default as remote_default
    from gitml.remotes.api import remote_list as remote_list
    from gitml.remotes.api import remote_modify as remote_modify
    from gitml.remotes.api import remote_remove as remote_remove
    from gitml.remotes.api import remote_rename as remote_rename
    from gitml.remotes.api import remote_status as remote_status
    from gitml.remotes.api import resolve_conflict as resolve_conflict
else:

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'gitml.api' has no attribute {name!r}")
        import importlib

        return getattr(importlib.import_module(module), name)
