"""The ``stages:`` section of ``gitml.yaml``: validated stages and their DAG.

Every complaint names the file and line (``gitml.yaml:LINE: ...``) with the
shared helpers of :mod:`gitml.project.yamlnodes`. The graph is derived from
paths: a stage depends on every stage whose output is (or contains, or lies
inside) one of its deps. Cycles and two stages writing one output are errors
naming the stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitml.errors import GitmlError, PipelineError
from gitml.project.file import ProjectFile
from gitml.project.yamlnodes import (
    YamlMap,
    check_keys,
    check_name,
    expect_bool,
    expect_str,
    expect_str_list,
    node_error,
)
from gitml.safepath import check_relpath

STAGE_KEYS = (
    "cmd", "deps", "params", "outs", "metrics", "guards", "register", "description", "frozen",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    cmd: str
    deps: tuple[str, ...] = ()
    params: tuple[str, ...] = ()  # "section" or "section.key" of the params files
    outs: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()
    register: str | None = None
    line: int = 0
    frozen: bool = False  # never run by repro (DVC's frozen: true)


@dataclass(frozen=True, slots=True)
class Pipeline:
    stages: dict[str, Stage]
    order: tuple[str, ...]  # topological, ties in file order
    upstream: dict[str, tuple[str, ...]]  # stage → stages it depends on directly


def _paths(body: YamlMap, key: str, where: str) -> tuple[str, ...]:
    items = expect_str_list(body, key, where) or ()
    out = []
    for i, item in enumerate(items):
        try:
            out.append(check_relpath(item.rstrip("/"), what=f"{key} path"))
        except GitmlError as exc:
            node = body[key] if not isinstance(body[key], str) else body
            raise node_error(
                node, i if node is not body else key, f"{where}: {exc.message}"
            ) from None
    return tuple(out)


def parse_stage(name: str, body: object, stages: YamlMap, project: ProjectFile) -> Stage:
    where = f"stage {name!r}"
    if not isinstance(body, YamlMap):
        raise node_error(stages, name, f"{where} must be a mapping with cmd:, deps:, outs:")
    check_keys(body, STAGE_KEYS, where)
    cmd = expect_str(body, "cmd", where, required=True) or ""
    guards = expect_str_list(body, "guards", where) or ()
    for guard in guards:
        if guard not in project.guards.guards:
            raise node_error(
                body,
                "guards",
                f"{where}: unknown guard {guard!r}",
                f"guards: {', '.join(project.guards.guards) or 'none declared'}",
            )
    return Stage(
        name=name,
        cmd=cmd,
        deps=_paths(body, "deps", where),
        params=expect_str_list(body, "params", where) or (),
        outs=_paths(body, "outs", where),
        metrics=_paths(body, "metrics", where),
        guards=guards,
        register=expect_str(body, "register", where),
        frozen=bool(expect_bool(body, "frozen", where)),
        line=stages.line_of(name) if name in stages else getattr(body, "line", stages.line),
    )


def overlaps(a: str, b: str) -> bool:
    """True if one path is the other or lies inside it."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def load_pipeline(project: ProjectFile, params: dict[str, Any] | None = None) -> Pipeline:
    """Validate ``stages:`` and order them; raise PipelineError on cycles/duplicates.

    ``params`` (the params files merged) fill ``${...}`` templates; foreach and
    matrix stages become one stage each (``name@key``, see :mod:`templating`)."""
    from gitml.pipelines.templating import expand

    raw = project.stages
    for name in raw:
        check_name(raw, name, "stage")
    bodies = expand(raw, params or {})
    stages = {name: parse_stage(name, body, raw, project) for name, body in bodies.items()}
    writer: dict[str, str] = {}
    for stage in stages.values():
        for out in (*stage.outs, *stage.metrics):
            for other_out, other in writer.items():
                if (other != stage.name and overlaps(out, other_out)) or (
                    other == stage.name and out == other_out
                ):
                    raise PipelineError(
                        f"{raw.source}:{stage.line}: stages {other!r} and {stage.name!r} "
                        f"both write {out}",
                        "each output must belong to one stage",
                    )
            writer[out] = stage.name
    upstream: dict[str, tuple[str, ...]] = {}
    for stage in stages.values():
        ups = {w for dep in stage.deps for out, w in writer.items() if overlaps(dep, out)}
        upstream[stage.name] = tuple(sorted(ups, key=list(stages).index))
    return Pipeline(stages, _toposort(stages, upstream, raw.source), upstream)


def _toposort(
    stages: dict[str, Stage], upstream: dict[str, tuple[str, ...]], source: str
) -> tuple[str, ...]:
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*path[path.index(name) :], name]
            raise PipelineError(
                f"{source}:{stages[name].line}: the stages form a cycle: {' -> '.join(cycle)}",
                "a stage cannot depend on its own outputs",
            )
        state[name] = 1
        for up in upstream[name]:
            visit(up, [*path, name])
        state[name] = 2
        order.append(name)

    for name in stages:
        visit(name, [])
    return tuple(order)


def select(pipeline: Pipeline, targets: list[str] | None) -> list[str]:
    """The named stages and everything upstream of them, in run order."""
    if not targets:
        return list(pipeline.order)
    wanted: set[str] = set()
    todo: list[str] = []
    for target in targets:  # a foreach/matrix stage's name selects all it generated
        group = [n for n in pipeline.order if n.startswith(target + "@")]
        todo += group if target not in pipeline.stages and group else [target]
    for name in todo:
        if name not in pipeline.stages:
            raise PipelineError(
                f"unknown stage {name!r}", f"stages: {', '.join(pipeline.order) or 'none declared'}"
            )
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo += pipeline.upstream[name]
    return [n for n in pipeline.order if n in wanted]


def render_text(pipeline: Pipeline) -> str:
    lines = []
    for name in pipeline.order:
        ups = pipeline.upstream[name]
        lines.append(f"{name}" + (f"  <- {', '.join(ups)}" if ups else ""))
    return "\n".join(lines)


def render_dot(pipeline: Pipeline) -> str:
    lines = ["digraph pipeline {", "  rankdir=LR;"]
    lines += [f'  "{name}";' for name in pipeline.order]
    lines += [f'  "{up}" -> "{name}";' for name in pipeline.order for up in pipeline.upstream[name]]
    lines.append("}")
    return "\n".join(lines)
