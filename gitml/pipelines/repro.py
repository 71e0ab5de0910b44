"""``gitml repro``: run what is out of date, in dependency order.

For each stage: hash command + deps + params (+ outs) and compare with
``gitml.lock``. Out of date → if the same inputs ran before (the run cache,
``.gitml/runs/<key>.json``) restore the outputs from the object store, else run
the command. Outputs are then tracked as by ``gitml add``, the stage's guards
run, and only then is the stage written to the lock (atomically).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gitml.context import RepoContext
from gitml.errors import PipelineError
from gitml.guards.projectfile import ProjectFile
from gitml.guards.results import GuardReport
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
    "up-to-date", "ran", "restored", "would-run", "would-restore", "guard-failed", "skipped"
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


@dataclass
class ReproState:
    """What one repro run shares between its stages."""

    ctx: RepoContext
    project: ProjectFile
    lock: dict[str, Any]
    params: dict[str, Any]
    runs: Path  # the run cache folder


def plan_stage(
    st: ReproState, stage: Stage, *, force: bool, dry_run: bool = False
) -> tuple[dict[str, Any], list[str], str, dict[str, Any] | None]:
    """(inputs, reasons to run -- empty: up to date, run-cache key, cached record)."""
    ctx = st.ctx
    inputs = inputs_state(ctx, stage, st.params)
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
    from gitml.hookflow.guarding import run_for_commit

    ctx = st.ctx
    added = add(ctx, list(stage.outs), cwd=ctx.root).added if stage.outs else []
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
        run.guards = run_for_commit(ctx, st.project, list(stage.guards))
        if not run.guards.ok:
            run.action = "guard-failed"
            return run  # the lock keeps the previous run of this stage
    if action == "ran":
        _record(st.runs, ctx, stage, inputs, key, outs)
    st.lock["stages"][stage.name] = {**inputs, "outs": outs, "metrics": run.metrics}
    st.lock["stages"] = dict(sorted(st.lock["stages"].items()))
    write_lock(ctx, st.lock)
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
    runs_dir: Path | None = None,
    jobs: int = 1,
) -> ReproResult:
    """``runs_dir``: the run cache (default ``.gitml/runs``; experiments share
    their repository's). ``jobs`` > 1: independent stages run in parallel
    (see :mod:`gitml.pipelines.parallel`)."""
    st = ReproState(
        ctx,
        project,
        read_lock(ctx.root),
        load_params(ctx, project),
        runs_dir or ctx.gitml_dir / RUNS_DIR,
    )
    names = select(pipeline, targets)
    if jobs > 1 and not dry_run:
        from gitml.pipelines.parallel import run_parallel

        return run_parallel(st, pipeline, names, jobs=jobs, force=force, echo=echo)
    result = ReproResult()
    pending: set[str] = set()  # stages that would run (dry run)
    for name in names:
        stage = pipeline.stages[name]
        inputs, reasons, key, cached = plan_stage(st, stage, force=force, dry_run=dry_run)
        upstream_pending = dry_run and any(up in pending for up in pipeline.upstream[name])
        if upstream_pending:
            reasons.append("upstream stage will run")
            key = key or run_key(inputs, stage)
        if not reasons:
            result.stages.append(StageRun(name, "up-to-date"))
            continue
        if dry_run:
            pending.add(name)
            action: Action = "would-restore" if cached and not upstream_pending else "would-run"
            result.stages.append(StageRun(name, action, reasons, register=stage.register))
            continue
        if cached is not None:
            restore_stage(st, stage, cached)
            action = "restored"
        else:
            ctx.reporter.info(f"stage {name}: running {stage.cmd}")
            run_command(ctx, stage, stage_env(ctx, stage, inputs["params"]), echo)
            action = "ran"
        run = finish_stage(st, stage, inputs, key, action, reasons)
        result.stages.append(run)
        if run.action == "guard-failed":
            return result
    return result
