"""Running one experiment: a temporary worktree, the pipeline, a commit on a hidden ref.

1. ``git worktree add --detach`` of the base commit under
   ``.gitml/exps/run/`` (hooks off), configured to use this repository's
   cache, its data checked out of that cache: the user's workspace, index and
   HEAD are never touched, and two experiments never see each other's files.
2. The ``-S`` overrides are written into the worktree's params files, and
   ``repro`` runs there with this repository's run cache (so an identical
   experiment restores its outputs instead of running).
3. Every guard of gitml.yaml runs on the result.
4. The worktree's params, lock, pointers and metrics are committed with
   ``commit-tree`` (parent: the base; no hooks, no ref moved), the metadata
   note is attached, and only then is ``refs/gitml/exps/<base>/<name>``
   created (compare-and-swap: never replacing another experiment).
5. The worktree is removed, whatever happened.

A failing stage command is a result too: the experiment is recorded with
status ``failed`` and the error, so ``exp show`` lists it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.context import RepoContext, open_repo
from gitml.errors import PipelineError, UsageError
from gitml.git.commits import commit_index, create_ref
from gitml.git.notes import write_note
from gitml.git.worktrees import add_worktree, remove_worktree
from gitml.pipelines.execute import Echo
from gitml.pipelines.experiments.params import Override, apply_overrides, describe_overrides
from gitml.pipelines.experiments.refs import exp_ref
from gitml.pipelines.repro import RUNS_DIR, ReproResult
from gitml.project.file import load_project
from gitml.store.lock import RepoLock

if TYPE_CHECKING:
    from gitml.guards.commit import StageMetrics

RUN_DIR = "exps/run"


@dataclass
class ExpOutcome:
    name: str
    ref: str
    commit: str
    base: str
    status: str  # ok | failed
    guards_ok: bool | None
    error: str | None
    repro: ReproResult | None


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_name() -> str:
    return f"exp-{secrets.token_hex(3)}"


def resolve_base(ctx: RepoContext, rev: str = "HEAD") -> str:
    base = ctx.git.try_rev_parse(rev)
    if base is None:
        raise UsageError(
            "an experiment needs a commit to start from", "commit your pipeline first (git commit)"
        )
    return base


def warn_uncommitted(ctx: RepoContext) -> None:
    """An experiment runs the base commit: say so when the workspace differs from it."""
    from gitml.git.commits import uncommitted_paths

    changed = uncommitted_paths(ctx.git)
    if changed:
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        ctx.reporter.warning(
            f"uncommitted changes to {', '.join(changed[:3])}{more} are not part of the "
            "experiment: it runs the last commit (commit them first to include them)"
        )


def run_experiment(
    ctx: RepoContext,
    name: str,
    base: str,
    overrides: list[Override],
    *,
    echo: Echo | None = None,
    jobs: int = 1,
    stage_metrics: StageMetrics | None = None,
) -> ExpOutcome:
    """Run the pipeline of ``base`` with ``overrides`` in a temporary worktree
    and record it as an experiment (see the module docstring); ``jobs``: its
    independent stages at once; ``stage_metrics``: registry baselines for the
    guards (see :mod:`gitml.guards.commit`)."""
    ref = exp_ref(base, name)
    if ctx.git.try_rev_parse(ref, kind="object") is not None:
        raise UsageError(
            f"experiment {name!r} already exists on {base[:7]}", "choose another --name"
        )
    folder = ctx.gitml_dir / RUN_DIR / f"{name}-{secrets.token_hex(4)}"
    folder.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(ctx)
    # Held for the whole run: a worktree whose lock nobody holds was left by a
    # killed run, and the next experiment removes it (clean_leftovers).
    # (A few seconds of patience: another run's clean_leftovers may be probing it.)
    with RepoLock(_owner_lock(folder), timeout=10, reporter=ctx.reporter):
        add_worktree(ctx.git, folder, base)
        try:
            _share_cache(ctx, folder)
            wctx = open_repo(folder, reporter=ctx.reporter)
            try:
                with RepoLock(
                    wctx.gitml_dir / "lock", timeout=ctx.config.lock_timeout, reporter=ctx.reporter
                ):
                    return _run_in(ctx, wctx, name, ref, base, overrides, echo, jobs, stage_metrics)
            finally:
                wctx.close()
                wctx.git.close()
        finally:
            _remove(ctx, folder)
            _owner_lock(folder).unlink(missing_ok=True)


def _share_cache(ctx: RepoContext, folder: Path) -> None:
    """The run's worktree uses this repository's cache and link mode (its local
    config: the cache is outside the worktree)."""
    from gitml.configfile import ConfigFile, parse_key

    local = ConfigFile(folder, local=True)
    local.set(parse_key("cache.dir")[0], str(ctx.config.cache_dir))
    local.set(parse_key("cache.link")[0], ctx.config.link)
    local.save()


def _owner_lock(folder: Path) -> Path:
    return folder.with_name(folder.name + ".lock")


def _remove(ctx: RepoContext, folder: Path) -> None:
    remove_worktree(ctx.git, folder)
    shutil.rmtree(folder, ignore_errors=True)


def clean_leftovers(ctx: RepoContext) -> list[str]:
    """Remove the worktrees of experiment runs that were killed (their owner
    lock is free); running ones are left alone. Returns the folders removed."""
    from gitml.errors import LockError

    top = ctx.gitml_dir / RUN_DIR
    removed: list[str] = []
    for lock in sorted(top.glob("*.lock")) if top.is_dir() else []:
        folder = lock.with_name(lock.name[: -len(".lock")])
        try:
            with RepoLock(lock, timeout=0, reporter=ctx.reporter):
                if folder.exists():
                    _remove(ctx, folder)
                    removed.append(folder.name)
                lock.unlink(missing_ok=True)
        except LockError:
            continue  # a run in progress
    return removed


def _fill_data(ctx: RepoContext, wctx: RepoContext, base: str) -> None:
    """Check the base commit's data out of the shared cache into the worktree
    (missing objects come from the default data remote, if there is one)."""
    from gitml.remotes.workflow import fetch_missing
    from gitml.workspace.checkout import Target, checkout
    from gitml.workspace.revisions import pointers_at

    pointers = pointers_at(wctx, base)
    if not pointers:
        return
    fetch_missing(ctx, {f"{t}.gitml@{base[:8]}": p for t, p in pointers.items()})
    checkout(wctx, [Target(t, p, base) for t, p in sorted(pointers.items())], force=True)


def _run_in(
    ctx: RepoContext,
    wctx: RepoContext,
    name: str,
    ref: str,
    base: str,
    overrides: list[Override],
    echo: Echo | None,
    jobs: int,
    stage_metrics: StageMetrics | None,
) -> ExpOutcome:
    from gitml.guards.commit import run_for_commit
    from gitml.meta.collect import collect_metrics, collect_params, metrics_files, pointer_summary
    from gitml.meta.document import Metadata
    from gitml.pipelines.repro import repro
    from gitml.pipelines.spec import load_pipeline
    from gitml.pipelines.state import load_params
    from gitml.workspace.revisions import pointers_at
    from gitml.workspace.snapshot import Snapshot

    started = _now()
    _fill_data(ctx, wctx, base)
    project = load_project(wctx.root)
    apply_overrides(wctx.root, project.params, overrides)
    status, error, result = "ok", None, None
    try:
        result = repro(
            wctx,
            project,
            load_pipeline(project, load_params(wctx, project)),
            None,
            echo=echo,
            runs_dir=ctx.gitml_dir / RUNS_DIR,
            jobs=jobs,
            stage_metrics=stage_metrics,
        )
    except PipelineError as exc:
        status, error = "failed", exc.message
    guards: dict[str, Any] | None = None
    stats: dict[str, Any] = {}
    if status == "ok":
        report = run_for_commit(wctx, project, None, stage_metrics=stage_metrics, base_rev=base)
        if report.results:
            guards = report.to_dict()
            stats = report.statistics
    staged = [p for p in (*project.params, *metrics_files(project), "gitml.lock")]
    wctx.git.add([p for p in staged if (wctx.root / p).is_file()])
    described = describe_overrides(overrides)
    message = f"gitml exp {name}" + (
        ": " + " ".join(f"{k}={v}" for k, v in described.items()) if described else ""
    )
    commit = commit_index(wctx.git, base, message + "\n")
    recorded = Snapshot.commit(wctx, commit)  # the note describes the commit, as for any commit
    doc = Metadata(
        data=pointer_summary(pointers_at(wctx, commit)),
        params=collect_params(recorded, project),
        metrics=collect_metrics(recorded, project),
        stats=stats,
        guards=guards,
        verified=True,
        bypassed=False,
        extra={
            "experiment": {
                "name": name,
                "base": base,
                "status": status,
                "overrides": described,
                "error": error,
                "created": started,
                "finished": _now(),
                "stages": [
                    {"stage": s.stage, "action": s.action}
                    for s in (result.stages if result else [])
                ],
            }
        },
    )
    write_note(ctx.git, commit, doc.to_json())
    create_ref(ctx.git, ref, commit, message=f"gitml: experiment {name}")
    guards_ok = None if guards is None else bool(guards.get("ok", True))
    if result is not None and not result.ok:
        guards_ok = False
    return ExpOutcome(name, ref, commit, base, status, guards_ok, error, result)
