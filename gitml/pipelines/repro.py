"""``gitml repro``: run what is out of date, in dependency order.

For each stage: hash command + deps + params (+ outs) and compare with
``gitml.lock``. Out of date → if the same inputs ran before (the run cache,
``.gitml/runs/<key>.json``) restore the outputs from the object store, else run
the command. Outputs are then tracked as by ``gitml add``, the stage's guards
run, and only then is the stage written to the lock (atomically).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gitml.context import RepoContext
from gitml.errors import PipelineError
from gitml.guards.results import GuardReport
from gitml.project.file import ProjectFile

if TYPE_CHECKING:
    from gitml.guards.commit import StageMetrics

from gitml.pipelines.execute import Echo, run_command, stage_env
from gitml.pipelines.spec import Pipeline, Stage, select
from gitml.pipelines.state import (
    canonical,
    changes,
    inputs_state,
    load_params,
    read_lock,
    read_metrics,
    run_key,
    write_lock,
)
from gitml.store.durable import write_file_atomic
from gitml.workspace.add import add
from gitml.workspace.checkout import Target, checkout
from gitml.workspace.pointer import Pointer

Action = Literal[
    "up-to-date",
    "ran",
    "restored",
    "would-run",
    "would-restore",
    "guard-failed",
    "skipped",
    "frozen",
]
RUNS_DIR = "runs"


@dataclass
class StageRun:
    stage: str
    action: Action
    reasons: list[str] = field(default_factory=list)
    outs: dict[str, str] = field(default_factory=dict)  # path → oid
    metrics: dict[str, Any] = field(default_factory=dict)
    register: str | None = None
    guards: GuardReport | None = None


@dataclass
class ReproResult:
    stages: list[StageRun] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.action != "guard-failed" for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "stages": [
                {
                    "stage": s.stage,
                    "action": s.action,
                    "reasons": s.reasons,
                    "outs": s.outs,
                    "metrics": s.metrics,
                    "register": s.register,
                    "guards": s.guards.to_dict() if s.guards is not None else None,
                }
                for s in self.stages
            ],
        }


def _cached_run(folder: Path, ctx: RepoContext, key: str) -> dict[str, Any] | None:
    path = folder / f"{key}.json"
    try:
        record: Any = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    found: dict[str, Any] = record
    outs = found.get("outs")
    if not isinstance(outs, dict) or not all(
        isinstance(e, dict) and ctx.store.has(str(e.get("oid"))) for e in outs.values()
    ):
        return None  # objects garbage-collected: run again
    return found


def _restore(ctx: RepoContext, stage: Stage, record: dict[str, Any]) -> None:
    targets = []
    for out in stage.outs:
        e = record["outs"][out]
        pointer = Pointer(
            out.rpartition("/")[2], e["kind"], e["oid"], int(e["size"]), int(e["nfiles"])
        )
        targets.append(Target(out, pointer, "run-cache"))
    checkout(ctx, targets, force=True)
    texts = record.get("metrics_text") or {}
    for name in stage.metrics:  # only the stage's own files, whatever a record says
        if not isinstance(texts.get(name), str):
            continue
        text = texts[name]
        path = ctx.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomic(path, str(text).encode("utf-8"))


def _record(
    folder: Path,
    ctx: RepoContext,
    stage: Stage,
    inputs: dict[str, Any],
    key: str,
    outs: dict[str, dict[str, Any]],
) -> None:
    metrics_text = {m: (ctx.root / m).read_text("utf-8") for m in stage.metrics}
    folder.mkdir(parents=True, exist_ok=True)
    write_file_atomic(
        folder / f"{key}.json",
        canonical(
            {
                "stage": stage.name,
                "inputs": {**inputs, "outs": sorted(stage.outs)},  # hashes to `key`
                "outs": outs,
                "metrics_text": metrics_text,
            }
        ),
    )


def _stage_recorded(ctx: RepoContext, project: ProjectFile, stage: Stage) -> None:
    """Stage the metrics and params files the lock now records, as gitml.lock and
    the out pointers are: a repro followed by a commit is never half-staged."""
    files = [*stage.metrics, *(project.params if stage.params else ())]
    present = [f for f in dict.fromkeys(files) if (ctx.root / f).is_file()]
    if present:
        ctx.git.add(present)


STAGE_LOCKS = "stages"
STAGE_WAIT_S = 24 * 3600.0  # another repro's run of the same stage may take hours


class Locks:
    """Who may touch what while stages run.

    ``shared`` (``gitml repro`` itself): the repository lock is held only while
    gitml plans, restores or records a stage, never while a stage command runs,
    and each stage is run under its own lock (``.gitml/stages/<name>.lock``):
    two repro runs at once never run one stage twice at the same time, the
    second finds it up to date, and other gitml commands are not kept waiting
    by a long command. Not shared: the caller holds the repository lock for the
    whole run (experiments in their worktree, monitor) and nothing is locked here.
    """

    def __init__(self, ctx: RepoContext, *, shared: bool) -> None:
        self.ctx = ctx
        self.shared = shared
        self._recorded = False
        # Stages of one `repro -j` take turns here first: the file lock is for
        # other processes, so a thread never waits on (and reports) its own run.
        self._threads = threading.Lock()

    @contextmanager
    def repo(self) -> Iterator[None]:
        if not self.shared:
            yield
            return
        from gitml.store.lock import RepoLock

        ctx = self.ctx
        with (
            self._threads,
            RepoLock(
                ctx.gitml_dir / "lock", timeout=ctx.config.lock_timeout, reporter=ctx.reporter
            ),
        ):
            if not self._recorded:
                from gitml.cache_users import record_user

                # a shared cache's gc must keep what we use
                record_user(ctx.config.cache_dir, ctx.root, ctx.git.common_dir, ctx.reporter)
                self._recorded = True
            yield

    def _stage_lock(self, name: str, timeout: float) -> Any:
        from gitml.store.lock import RepoLock

        folder = self.ctx.gitml_dir / STAGE_LOCKS
        folder.mkdir(exist_ok=True)
        return RepoLock(folder / f"{name}.lock", timeout=timeout, reporter=self.ctx.reporter)

    def stage(self, name: str) -> AbstractContextManager[Any]:
        """The stage's lock (waits for another run of that stage to end)."""
        return self._stage_lock(name, STAGE_WAIT_S) if self.shared else nullcontext()

    def try_stage(self, name: str) -> AbstractContextManager[Any] | None:
        """The stage's lock, *entered*; None when another run holds it now.
        Leave it with ``release``."""
        if not self.shared:
            return nullcontext()
        from gitml.errors import LockError

        lock = self._stage_lock(name, 0)
        try:
            lock.__enter__()
        except LockError:
            return None
        return lock  # type: ignore[no-any-return]

    @staticmethod
    def release(lock: AbstractContextManager[Any]) -> None:
        lock.__exit__(None, None, None)


@dataclass
class ReproState:
    """What one repro run shares between its stages."""

    ctx: RepoContext
    project: ProjectFile
    lock: dict[str, Any]
    params: dict[str, Any]
    runs: Path  # the run cache folder
    locks: Locks
    stage_metrics: StageMetrics | None = None  # registry baselines for stage guards

    def fresh_lock(self) -> None:
        """Read gitml.lock again (under the repository lock): another repro
        may have recorded stages since."""
        if self.locks.shared:
            self.lock = read_lock(self.ctx.root)


def plan_stage(
    st: ReproState, stage: Stage, *, force: bool, dry_run: bool = False
) -> tuple[dict[str, Any], list[str], str, dict[str, Any] | None]:
    """(inputs, reasons to run -- empty: up to date, run-cache key, cached record)."""
    ctx = st.ctx
    st.fresh_lock()
    inputs = inputs_state(ctx, stage, st.params)
    if stage.frozen:  # as DVC's frozen: never run, its outputs are used as they are
        return inputs, [], "", None
    reasons = (
        ["forced"] if force else changes(ctx, stage, inputs, st.lock["stages"].get(stage.name))
    )
    if not reasons:
        return inputs, reasons, "", None
    missing = [d for d, oid in inputs["deps"].items() if oid is None]
    if missing and not dry_run:
        raise PipelineError(
            f"stage {stage.name!r}: dep {missing[0]} does not exist",
            "create it, or add the stage that writes it to outs:",
        )
    key = run_key(inputs, stage)
    return inputs, reasons, key, None if force else _cached_run(st.runs, ctx, key)


def restore_stage(st: ReproState, stage: Stage, cached: dict[str, Any]) -> None:
    st.ctx.reporter.info(f"stage {stage.name}: restoring outputs from the run cache")
    _restore(st.ctx, stage, cached)


def finish_stage(
    st: ReproState,
    stage: Stage,
    inputs: dict[str, Any],
    key: str,
    action: Action,
    reasons: list[str],
) -> StageRun:
    """Track the outs, run the stage's guards and, if they pass, record the
    stage in the run cache (when it ran) and in gitml.lock (atomically)."""
    from gitml.guards.commit import run_for_commit

    ctx = st.ctx
    st.fresh_lock()
    # The outputs were just produced: they are the new version, whatever the
    # pointer named before (it may have moved without its data).
    added = add(ctx, list(stage.outs), cwd=ctx.root, force=True).added if stage.outs else []
    outs = {
        a.path: {"kind": a.kind, "oid": a.oid, "size": a.size, "nfiles": a.nfiles} for a in added
    }
    run = StageRun(
        stage.name,
        action,
        reasons,
        {p: str(e["oid"]) for p, e in outs.items()},
        read_metrics(ctx, stage),
        stage.register,
    )
    if stage.guards:
        run.guards = run_for_commit(
            ctx, st.project, list(stage.guards), stage_metrics=st.stage_metrics
        )
        if not run.guards.ok:
            run.action = "guard-failed"
            return run  # the lock keeps the previous run of this stage
    if action == "ran":
        _record(st.runs, ctx, stage, inputs, key, outs)
    st.lock["stages"][stage.name] = {**inputs, "outs": outs, "metrics": run.metrics}
    st.lock["stages"] = dict(sorted(st.lock["stages"].items()))
    write_lock(ctx, st.lock)
    _stage_recorded(ctx, st.project, stage)
    return run


def repro(
    ctx: RepoContext,
    project: ProjectFile,
    pipeline: Pipeline,
    targets: list[str] | None,
    *,
    force: bool = False,
    dry_run: bool = False,
    echo: Echo | None = None,
    stage_metrics: StageMetrics | None,
    runs_dir: Path | None = None,
    jobs: int = 1,
    shared: bool = False,
) -> ReproResult:
    """``stage_metrics``: registry baselines for stage guards (see
    :mod:`gitml.guards.commit`). ``runs_dir``: the run cache (default
    ``.gitml/runs``; experiments share their repository's). ``jobs`` > 1:
    independent stages run in parallel (see :mod:`gitml.pipelines.parallel`).
    ``shared``: the caller does not hold the repository lock; it is taken per
    stage (see :class:`Locks`)."""
    st = ReproState(
        ctx,
        project,
        read_lock(ctx.root),
        load_params(ctx, project),
        runs_dir or ctx.gitml_dir / RUNS_DIR,
        Locks(ctx, shared=shared and not dry_run),
        stage_metrics,
    )
    names = select(pipeline, targets)
    if jobs > 1 and not dry_run:
        from gitml.pipelines.parallel import run_parallel

        return run_parallel(st, pipeline, names, jobs=jobs, force=force, echo=echo)
    result = ReproResult()
    pending: set[str] = set()  # stages that would run (dry run)
    for name in names:
        stage = pipeline.stages[name]
        with st.locks.stage(name):
            run = _serial_stage(st, pipeline, stage, force, dry_run, echo, pending)
        result.stages.append(run)
        if run.action == "guard-failed":
            return result
    return result


def _serial_stage(
    st: ReproState,
    pipeline: Pipeline,
    stage: Stage,
    force: bool,
    dry_run: bool,
    echo: Echo | None,
    pending: set[str],
) -> StageRun:
    name, ctx = stage.name, st.ctx
    with st.locks.repo():
        inputs, reasons, key, cached = plan_stage(st, stage, force=force, dry_run=dry_run)
        upstream_pending = dry_run and any(up in pending for up in pipeline.upstream[name])
        if upstream_pending:
            reasons.append("upstream stage will run")
            key = key or run_key(inputs, stage)
        if not reasons:
            return StageRun(name, "frozen" if stage.frozen else "up-to-date")
        if dry_run:
            pending.add(name)
            action: Action = "would-restore" if cached and not upstream_pending else "would-run"
            return StageRun(name, action, reasons, register=stage.register)
        if cached is not None:
            restore_stage(st, stage, cached)
            return finish_stage(st, stage, inputs, key, "restored", reasons)
        env = stage_env(ctx, stage, inputs["params"])
    ctx.reporter.info(f"stage {name}: running {stage.cmd}")
    run_command(ctx, stage, env, echo)  # no repository lock: other commands may go on
    with st.locks.repo():
        return finish_stage(st, stage, inputs, key, "ran", reasons)
