"""Library API of pipelines: repro, dag, monitor. Nothing here prints."""

from __future__ import annotations

from pathlib import Path

from gitml.api.baselines import registry_baseline
from gitml.context import session
from gitml.errors import UsageError
from gitml.pipelines.execute import Echo
from gitml.pipelines.monitor import MonitorResult, RegistryAccess
from gitml.pipelines.monitor import monitor as run_monitor
from gitml.pipelines.repro import ReproResult, StageRun
from gitml.pipelines.spec import Pipeline, load_pipeline, render_dot, render_text
from gitml.pipelines.state import load_params
from gitml.progress import Callback
from gitml.safepath import UserPath

__all__ = ["Echo", "MonitorResult", "ReproResult", "StageRun", "dag", "monitor", "repro"]


def repro(
    stages: list[str] | None = None,
    *,
    force: bool = False,
    dry_run: bool = False,
    echo: Echo | None = None,
    jobs: int = 1,
    cwd: UserPath | None = None,
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


def pipeline(*, cwd: UserPath | None = None) -> Pipeline:
    from gitml.project.file import load_project

    with session(cwd, None, write=False) as ctx:
        project = load_project(ctx.root)
        return load_pipeline(project, load_params(ctx, project))


def dag(*, dot: bool = False, cwd: UserPath | None = None) -> str:
    """The stage graph as text (``stage  <- upstream``) or Graphviz DOT."""
    graph = pipeline(cwd=cwd)
    return render_dot(graph) if dot else render_text(graph)


def _registry_access(callback: Callback | None, cwd: UserPath | None) -> RegistryAccess:
    from gitml.api.registry import model_path, promote, register

    def model_file(name: str, stage: str) -> Path:
        return Path(model_path(name, stage, cwd=cwd, callback=callback))

    def register_head(name: str) -> str:
        return str(register(name, cwd=cwd, callback=callback).version)

    def promote_version(name: str, version: str, stage: str) -> None:
        promote(f"{name}@{version}", stage, cwd=cwd, callback=callback)

    return RegistryAccess(model_file, register_head, promote_version, registry_baseline)


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
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> MonitorResult:
    """Evaluate ``name`` on new labelled ``data``; below ``minimum`` (and with
    ``retrain``) add the data, rerun the pipeline, re-evaluate, and optionally
    commit + register (+ promote to ``stage``) the new model.
    ``exit_code``: 0 healthy, 1 degraded and not fixed, 10 retrained."""
    return run_monitor(
        name,
        data,
        _registry_access(callback, cwd),
        metric=metric,
        minimum=minimum,
        stage=stage,
        retrain=retrain,
        register=register,
        promote=promote,
        echo=echo,
        cwd=cwd,
        callback=callback,
    )
