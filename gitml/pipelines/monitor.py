"""``gitml monitor``: score a model on new labelled data; retrain when it degrades.

The evaluation command comes from ``evaluate: {NAME: {cmd, metrics}}`` in
gitml.yaml with ``{model}``, ``{data}`` and ``{out}`` replaced (shell-quoted).
Each evaluation is recorded as JSON under ``.gitml/monitor/``.

:func:`monitor` is the whole workflow: evaluate, and when degraded (with
``retrain``) add the new data, repro, evaluate again, then commit only the
files the retrain changed and register (and promote) the new version. The
registry is a sibling layer, so the API passes in what monitor needs of it
(:class:`RegistryAccess`).
"""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.bounded import quote
from gitml.context import RepoContext, session
from gitml.errors import ConfigError, GitmlError, PipelineError, UsageError
from gitml.guards.commit import StageMetrics, command_env
from gitml.pipelines.execute import Echo
from gitml.pipelines.spec import Pipeline, load_pipeline
from gitml.pipelines.state import load_params
from gitml.progress import Callback
from gitml.project.file import ProjectFile
from gitml.project.values import read_values
from gitml.project.yamlnodes import YamlMap, check_keys, expect_str, node_error
from gitml.safepath import UserPath, as_path, check_relpath
from gitml.store.durable import write_file_atomic
from gitml.workspace.materialize import Folders

EXIT_HEALTHY = 0
EXIT_DEGRADED = 1
EXIT_RETRAINED = 10
MONITOR_DIR = "monitor"


@dataclass(frozen=True, slots=True)
class EvalSpec:
    artifact: str
    model_path: str  # the artifact's workspace path
    cmd: str
    out: str  # where the command writes its metrics JSON


@dataclass
class Evaluation:
    model: str
    data: str
    metric: str
    value: float
    minimum: float
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return self.value >= self.minimum


@dataclass
class MonitorResult:
    artifact: str
    before: Evaluation
    after: Evaluation | None = None
    retrained: bool = False
    copied: list[str] = field(default_factory=list)
    registered: str | None = None  # version
    promoted: str | None = None  # stage
    record: str = ""  # the JSON written under .gitml/monitor/
    exit_code: int = EXIT_HEALTHY
    message: str = ""
    repro: dict[str, Any] | None = None


def eval_spec(project: ProjectFile, name: str) -> EvalSpec:
    artifact = project.artifacts.get(name)
    if artifact is None:
        raise UsageError(
            f"unknown artifact {name!r}", f"artifacts: {', '.join(project.artifacts) or 'none'}"
        )
    path = artifact.path
    body = project.evaluate.get(name)
    if not isinstance(body, YamlMap):
        raise node_error(
            project.evaluate,
            None,
            f"no evaluate: entry for {name!r}",
            "add evaluate: {NAME: {cmd: '... {model} {data} {out}', metrics: FILE}}",
        )
    where = f"evaluate {name!r}"
    check_keys(body, ("cmd", "metrics", "thresholds", "description"), where)
    cmd = expect_str(body, "cmd", where, required=True) or ""
    out = expect_str(body, "metrics", where)
    if out is not None:  # from the tracked gitml.yaml: a path inside the repository
        check_relpath(out, what=f"{where} metrics")
    return EvalSpec(name, path, cmd, out or f".gitml/{MONITOR_DIR}/{name}-eval.json")


def evaluate(
    root: Path,
    env: dict[str, str],
    spec: EvalSpec,
    model: str,
    data: str,
    metric: str,
    minimum: float,
) -> Evaluation:
    out = root / spec.out
    folders = Folders(root)  # the old metrics file goes without following a symlink
    try:
        folders.fd(spec.out.rpartition("/")[0])
        folders.unlink(spec.out)
    finally:
        folders.close()
    cmd = spec.cmd.format(
        model=shlex.quote(model), data=shlex.quote(data), out=shlex.quote(str(out))
    )
    proc = subprocess.run(
        cmd,
        shell=True,
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.decode("utf-8", "replace").splitlines()[-20:])
        raise PipelineError(
            f"evaluation of {spec.artifact!r} failed: `{cmd}` exited with code "
            f"{proc.returncode}" + (f"; last lines:\n{tail}" if tail else "")
        )
    try:
        metrics = read_values(out, source=spec.out)
        value = float(metrics[metric])
    except ConfigError as exc:  # malformed, too big or deep: names the file and the limit
        raise PipelineError(f"evaluation of {quote(spec.artifact)}: {exc.message}") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PipelineError(
            f"evaluation of {quote(spec.artifact)} wrote no numeric {quote(metric)} in "
            f"{spec.out}: {type(exc).__name__}"
        ) from None
    return Evaluation(
        model, data, metric, value, minimum, metrics if isinstance(metrics, dict) else {}
    )


def record(ctx: RepoContext, result: MonitorResult) -> str:
    from dataclasses import asdict

    now = dt.datetime.now(dt.UTC)
    folder = ctx.gitml_dir / MONITOR_DIR
    folder.mkdir(exist_ok=True)
    name = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{result.artifact}.json"
    doc = {k: v for k, v in asdict(result).items() if k != "record"}
    doc["time"] = now.isoformat()
    write_file_atomic(
        folder / name, (json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n").encode()
    )
    return f".gitml/{MONITOR_DIR}/{name}"


def data_dir(ctx: RepoContext, pipeline: Pipeline) -> str:
    """The first stage's first dep that is a folder: where new data goes."""
    if not pipeline.order:
        raise PipelineError("no stages: to retrain with", "declare stages: in gitml.yaml")
    first = pipeline.stages[pipeline.order[0]]
    for dep in first.deps:
        if (ctx.root / dep).is_dir():
            return dep
    raise PipelineError(
        f"stage {first.name!r} has no data folder among its deps to add new data to"
    )


def merge_incoming(ctx: RepoContext, source: Path, dest: str, tag: str) -> list[str]:
    """Copy the files of ``source`` (file or folder) into ``dest``; a different file
    with the same name is kept under ``<tag>-<name>``. Returns the paths written."""
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    if not files:
        raise UsageError(f"{source} holds no files")
    written = []
    for path in files:
        rel = Path(path.name) if source.is_file() else path.relative_to(source)
        target = ctx.root / dest / rel
        if target.exists() and filecmp.cmp(path, target, shallow=False):
            continue
        if target.exists():
            target = target.with_name(f"{tag}-{target.name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        written.append(str(target.relative_to(ctx.root)))
    return written


def monitor_env(ctx: RepoContext) -> dict[str, str]:
    return command_env(ctx)


@dataclass(frozen=True, slots=True)
class RegistryAccess:
    """What monitor needs of the model registry, given by the API layer
    (pipelines and the registry are siblings: neither imports the other).
    Each callable opens its own session; a GitmlError from one is reported
    in the result, never raised."""

    model_file: Callable[[str, str], Path]  # (artifact, stage) -> a file of that version
    register: Callable[[str], str]  # artifact -> the version registered for HEAD
    promote: Callable[[str, str, str], None]  # (artifact, version, stage)
    baseline: Callable[[RepoContext], StageMetrics]  # no-regression guards' registry lookup


def monitor(
    name: str,
    data: str,
    registry: RegistryAccess,
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
    ``exit_code``: 0 healthy, 1 degraded and not fixed, 10 retrained.

    No lock is held while the evaluation command or ``git commit`` (and so
    the repository's hooks) run; the retrain itself runs in one write session."""
    from gitml.project.file import load_project

    with session(cwd, callback, write=False) as ctx:
        root = ctx.root
        spec = eval_spec(load_project(root), name)
        env = monitor_env(ctx)
    incoming = Path(data) if Path(data).is_absolute() else as_path(cwd) / data
    if not incoming.exists():
        raise PipelineError(f"{data} does not exist")
    try:
        model = registry.model_file(name, stage)
    except GitmlError:
        model = root / spec.model_path  # no registered version in that stage yet
    before = evaluate(root, env, spec, str(model), str(incoming), metric, minimum)
    result = MonitorResult(name, before)
    if before.healthy:
        result.message = f"{name} healthy: {metric} {before.value:.4g} >= {minimum:g}"
    elif not retrain:
        result.exit_code = EXIT_DEGRADED
        result.message = f"{name} degraded: {metric} {before.value:.4g} < {minimum:g}"
    else:
        paths = _retrain(result, registry, incoming, spec, env, echo, cwd, callback)
        if result.retrained and result.exit_code == EXIT_HEALTHY:
            result.exit_code = EXIT_RETRAINED
            after = result.after.value if result.after else 0
            result.message = f"retrained {name}: {metric} {before.value:.4g} -> {after:.4g}"
            if register:
                _commit_and_register(result, registry, paths, stage if promote else None, cwd)
        return result
    with session(cwd, callback, write=False) as ctx:
        result.record = record(ctx, result)
    return result


def _retrain(
    result: MonitorResult,
    registry: RegistryAccess,
    incoming: Path,
    spec: EvalSpec,
    env: dict[str, str],
    echo: Echo | None,
    cwd: UserPath | None,
    callback: Callback | None,
) -> list[str]:
    """Add the new data, repro, evaluate the new model; the files a commit of
    the retrained model takes (the data's pointer, gitml.lock, the outputs'
    pointers and the metrics files)."""
    from gitml.pipelines.repro import repro
    from gitml.project.file import load_project
    from gitml.workspace.add import add

    before = result.before
    with session(cwd, callback, write=True) as ctx:
        project = load_project(ctx.root)
        graph = load_pipeline(project, load_params(ctx, project))
        dest = data_dir(ctx, graph)
        tag = dt.datetime.now(dt.UTC).strftime("incoming-%Y%m%dT%H%M%S")
        result.copied = merge_incoming(ctx, incoming, dest, tag)
        add(ctx, [dest])
        run = repro(ctx, project, graph, None, echo=echo, stage_metrics=registry.baseline(ctx))
        result.repro = run.to_dict()
        if not run.ok:
            result.exit_code = EXIT_DEGRADED
            failed = [
                f"{r.guard}.{r.rule}{'(' + r.column + ')' if r.column else ''}: {r.message}"
                for st in run.stages
                if st.guards is not None
                for r in st.guards.problems
            ]
            result.message = (
                "retrained, but a guard failed, so the new model was not accepted: "
                + "; ".join(failed[:3])
            )
        else:
            result.retrained = True
            model = str(ctx.root / spec.model_path)
            after = evaluate(
                ctx.root, env, spec, model, str(incoming), before.metric, before.minimum
            )
            result.after = after
            if not after.healthy:
                result.exit_code = EXIT_DEGRADED
                result.message = (
                    f"retrained, still degraded: {before.metric} "
                    f"{after.value:.4g} < {before.minimum:g}"
                )
        result.record = record(ctx, result)
        return [
            dest + ".gitml",
            "gitml.lock",
            *[o + ".gitml" for s in graph.stages.values() for o in s.outs],
            *[m for s in graph.stages.values() for m in s.metrics],
        ]


def _commit_and_register(
    result: MonitorResult,
    registry: RegistryAccess,
    paths: list[str],
    stage: str | None,
    cwd: UserPath | None,
) -> None:
    """Commit the retrained model (only its own files) and register it; a
    failure of either is the result's message (exit 1), with git's words."""
    try:
        with session(cwd, None, write=False) as ctx:  # no lock: the commit runs hooks
            existing = [p for p in paths if (ctx.root / p).exists()]
            ctx.git.add(existing)
            ctx.git.commit_only(existing, f"gitml monitor: retrain {result.artifact}")
    except GitmlError as exc:
        result.exit_code = EXIT_DEGRADED
        result.message += f"; could not commit the new model: {exc.message}"
        return
    try:
        result.registered = registry.register(result.artifact)
        if stage is not None:
            registry.promote(result.artifact, result.registered, stage)
            result.promoted = stage
    except GitmlError as exc:
        result.exit_code = EXIT_DEGRADED
        result.message += f"; registration failed: {exc.message}"
