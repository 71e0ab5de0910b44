"""``gitml monitor``: score a model on new labelled data; retrain when it degrades.

The evaluation command comes from ``evaluate: {NAME: {cmd, metrics}}`` in
gitml.yaml with ``{model}``, ``{data}`` and ``{out}`` replaced (shell-quoted).
Each evaluation is recorded as JSON under ``.gitml/monitor/``.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.bounded import quote
from gitml.context import RepoContext
from gitml.errors import ConfigError, PipelineError, UsageError
from gitml.guards.commit import command_env
from gitml.pipelines.spec import Pipeline
from gitml.project.file import ProjectFile
from gitml.project.values import read_values
from gitml.project.yamlnodes import YamlMap, check_keys, expect_str, node_error
from gitml.safepath import check_relpath
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
