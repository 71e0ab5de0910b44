"""Library API of pipelines: repro, dag, monitor. Nothing here prints."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from gitml.api.baselines import registry_baseline
from gitml.context import session
from gitml.errors import GitmlError, PipelineError, UsageError
from gitml.pipelines.execute import Echo
from gitml.pipelines.monitor import (
    EXIT_DEGRADED,
    EXIT_RETRAINED,
    MonitorResult,
    data_dir,
    eval_spec,
    evaluate,
    merge_incoming,
    monitor_env,
    record,
)
from gitml.pipelines.repro import ReproResult, StageRun
from gitml.pipelines.spec import Pipeline, load_pipeline, render_dot, render_text
from gitml.pipelines.state import load_params
from gitml.progress import Callback

__all__ = ["Echo", "MonitorResult", "ReproResult", "StageRun", "dag", "monitor", "repro"]


def repro(
    stages: list[str] | None = None,
    *,
    force: bool = False,
    dry_run: bool = False,
    echo: Echo | None = None,
    jobs: int = 1,
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> ReproResult:
    """Run out-of-date stages (and those upstream of ``stages``) in dependency order.

    ``jobs`` > 1 runs independent stages at the same time (each command's output
    then comes as one block when it ends; a failure stops only its downstream).
    ``echo`` receives the commands' output as it comes. A failed command raises
    :class:`PipelineError`; a failed guard returns a result with ``ok`` False.
    """
    from gitml.pipelines.repro import repro as do_repro
    from gitml.project.file import load_project

    if jobs < 1:
        raise UsageError(f"-j must be at least 1, not {jobs}")
    # No repository lock for the whole run: repro takes it per stage, and never
    # while a stage command runs (see gitml.pipelines.repro.Locks).
    with session(cwd, callback, write=False) as ctx:
        project = load_project(ctx.root)
        return do_repro(
            ctx,
            project,
            load_pipeline(project, load_params(ctx, project)),
            stages or None,
            force=force,
            dry_run=dry_run,
            echo=echo,
            stage_metrics=registry_baseline(ctx),
            jobs=jobs,
            shared=True,
        )


def pipeline(*, cwd: Path | None = None) -> Pipeline:
    from gitml.project.file import load_project

    with session(cwd, None, write=False) as ctx:
        project = load_project(ctx.root)
        return load_pipeline(project, load_params(ctx, project))


def dag(*, dot: bool = False, cwd: Path | None = None) -> str:
    """The stage graph as text (``stage  <- upstream``) or Graphviz DOT."""
    graph = pipeline(cwd=cwd)
    return render_dot(graph) if dot else render_text(graph)


def _model_file(
    name: str, stage: str, fallback: Path, cwd: Path | None, callback: Callback | None
) -> Path:
    from gitml.api.registry import model_path

    try:
        return Path(model_path(name, stage, cwd=cwd, callback=callback))
    except GitmlError:
        pass  # no registered version in that stage yet: the workspace model
    return fallback


def monitor(
    name: str,
    data: str,
    *,
    metric: str,
    minimum: float,
    stage: str = "prod",
    retrain: bool = False,
    register: bool = False,
    promote: bool = False,
    echo: Echo | None = None,
    cwd: Path | None = None,
    callback: Callback | None = None,
) -> MonitorResult:
    """Evaluate ``name`` on new labelled ``data``; below ``minimum`` (and with
    ``retrain``) add the data, rerun the pipeline, re-evaluate, and optionally
    commit + register (+ promote to ``stage``) the new model.
    ``exit_code``: 0 healthy, 1 degraded and not fixed, 10 retrained."""
    from gitml.pipelines.repro import repro as do_repro
    from gitml.project.file import load_project
    from gitml.workspace.add import add

    with session(cwd, callback, write=False) as ctx:
        root = ctx.root
        spec = eval_spec(load_project(root), name)
        env = monitor_env(ctx)
    incoming = Path(data) if Path(data).is_absolute() else (cwd or Path.cwd()) / data
    if not incoming.exists():
        raise PipelineError(f"{data} does not exist")
    model = _model_file(name, stage, root / spec.model_path, cwd, callback)
    before = evaluate(root, env, spec, str(model), str(incoming), metric, minimum)
    result = MonitorResult(name, before)
    if before.healthy:
        result.message = f"{name} healthy: {metric} {before.value:.4g} >= {minimum:g}"
    elif not retrain:
        result.exit_code = EXIT_DEGRADED
        result.message = f"{name} degraded: {metric} {before.value:.4g} < {minimum:g}"
    else:
        with session(cwd, callback, write=True) as ctx:
            project = load_project(ctx.root)
            graph = load_pipeline(project, load_params(ctx, project))
            dest = data_dir(ctx, graph)
            tag = dt.datetime.now(dt.UTC).strftime("incoming-%Y%m%dT%H%M%S")
            result.copied = merge_incoming(ctx, incoming, dest, tag)
            add(ctx, [dest])
            run = do_repro(
                ctx, project, graph, None, echo=echo, stage_metrics=registry_baseline(ctx)
            )
            result.repro = run.to_dict()
            if not run.ok:
                result.exit_code = EXIT_DEGRADED
                failed = [
                    f"{r.guard}.{r.rule}{'(' + r.column + ')' if r.column else ''}: {r.message}"
                    for stage in run.stages
                    if stage.guards is not None
                    for r in stage.guards.problems
                ]
                result.message = (
                    "retrained, but a guard failed, so the new model was not accepted: "
                    + "; ".join(failed[:3])
                )
            else:
                result.retrained = True
                result.after = evaluate(
                    root, env, spec, str(root / spec.model_path), str(incoming), metric, minimum
                )
                if not result.after.healthy:
                    result.exit_code = EXIT_DEGRADED
                    result.message = (
                        f"retrained, still degraded: {metric} "
                        f"{result.after.value:.4g} < {minimum:g}"
                    )
            paths = [
                dest + ".gitml",
                "gitml.lock",
                *[o + ".gitml" for s in graph.stages.values() for o in s.outs],
                *[m for s in graph.stages.values() for m in s.metrics],
            ]
            result.record = record(ctx, result)
        if result.retrained and result.exit_code == 0:
            result.exit_code = EXIT_RETRAINED
            result.message = (
                f"retrained {name}: {metric} {before.value:.4g} -> "
                f"{result.after.value if result.after else 0:.4g}"
            )
            if register:
                _register(result, root, paths, stage if promote else None, cwd, callback)
        return result
    with session(cwd, callback, write=False) as ctx:
        result.record = record(ctx, result)
    return result


def _register(
    result: MonitorResult,
    root: Path,
    paths: list[str],
    stage: str | None,
    cwd: Path | None,
    callback: Callback | None,
) -> None:
    """Commit the retrained model (only its own files) and register it."""
    from gitml.api.registry import promote, register

    existing = [p for p in paths if (root / p).exists()]
    subprocess.run(["git", "add", "--", *existing], cwd=root, check=False, capture_output=True)
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", f"gitml monitor: retrain {result.artifact}", "--", *existing],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        result.exit_code = EXIT_DEGRADED
        result.message += (
            f"; could not commit the new model: {proc.stderr.strip() or proc.stdout.strip()}"
        )
        return
    try:
        done = register(result.artifact, cwd=cwd, callback=callback)
        result.registered = str(done.version)
        if stage is not None:
            promote(f"{result.artifact}@{done.version}", stage, cwd=cwd, callback=callback)
            result.promoted = stage
    except GitmlError as exc:
        result.exit_code = EXIT_DEGRADED
        result.message += f"; registration failed: {exc.message}"
