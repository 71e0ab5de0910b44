"""The ``guards:`` section of ``gitml.yaml``, validated strictly into dataclasses.

Strict because a guard that silently ignores a typo (``nul_fraction``) checks
nothing while looking green. Every error names the file and line. The engine
(:mod:`gitml.guards.runner`) only ever sees the dataclasses of
:mod:`gitml.project.guardspec_types` (re-exported here). Importing this module is
cheap (no pyarrow); the schema itself is documented in docs/GUARDS.md.
"""

from __future__ import annotations

from typing import Literal

from gitml.bounded import quote
from gitml.errors import GitmlError
from gitml.project.guardspec_data import parse_data
from gitml.project.guardspec_types import (
    COMMON_KEYS,
    DATA_KEYS,
    DEFAULT_PSI_MAX,
    DEFAULT_TIMEOUT,
    FORMATS,
    MODEL_KEYS,
    RULE_CHECKS,
    THRESHOLD_RE,
    AllowedRule,
    DataSpec,
    DriftSpec,
    Guard,
    GuardsSpec,
    ModelSpec,
    NoRegressionSpec,
    NullFractionRule,
    Op,
    RangeRule,
    RegexRule,
    RowChangeSpec,
    RowsSpec,
    Rule,
    SchemaSpec,
    Threshold,
    UniqueRule,
)
from gitml.project.yamlnodes import (
    YamlList,
    YamlMap,
    check_keys,
    check_name,
    expect_map,
    expect_number,
    expect_relpath,
    expect_str,
    expect_str_list,
    node_error,
)
from gitml.safepath import check_relpath

__all__ = [
    "DEFAULT_PSI_MAX", "DEFAULT_TIMEOUT", "FORMATS", "RULE_CHECKS", "AllowedRule", "DataSpec",
    "DriftSpec", "Guard", "GuardsSpec", "ModelSpec", "NoRegressionSpec", "NullFractionRule", "Op",
    "RangeRule", "RegexRule", "RowChangeSpec", "RowsSpec", "Rule", "SchemaSpec", "Threshold",
    "UniqueRule", "parse_guards", "parse_threshold",
]  # fmt: skip


def parse_threshold(text: str) -> tuple[Op, float]:
    """``">= 0.85"`` → ``(">=", 0.85)``; anything else is a ValueError."""
    match = THRESHOLD_RE.match(text)
    if not match:
        raise ValueError(f"{quote(text)} is not '<op> <number>' with op one of >= > <= < ==")
    op: Op = match.group(1)  # type: ignore[assignment]
    return op, float(match.group(2))


def parse_guards(root: YamlMap) -> GuardsSpec:
    """Validate the ``guards:`` section of a parsed gitml.yaml (absent/empty = none)."""
    node = root.get("guards")
    if node is None:
        return GuardsSpec({}, root.source)
    if not isinstance(node, YamlMap):
        raise node_error(root, "guards", "'guards' must be a mapping of guard name to checks")
    guards: dict[str, Guard] = {}
    for name, body in node.items():
        check_name(node, name, "guard")
        if not isinstance(body, YamlMap):
            raise node_error(node, name, f"guard {name!r} must be a mapping of checks")
        guards[name] = _parse_guard(name, body)
    return GuardsSpec(guards, root.source)


def _parse_guard(name: str, body: YamlMap) -> Guard:
    where = f"guard {name!r}"
    check_keys(body, (*COMMON_KEYS, *DATA_KEYS, *MODEL_KEYS), where)
    has_data = any(k in body for k in DATA_KEYS)
    has_model = any(k in body for k in MODEL_KEYS)
    if has_data and has_model:
        key = next(k for k in body if k in MODEL_KEYS)
        raise node_error(
            body, key, f"{where} mixes data and model checks", "split it in two guards"
        )
    if has_data and "data" not in body:
        raise node_error(body, None, f"{where}: data checks need a 'data:' path")
    if has_model and "metrics" not in body:
        raise node_error(body, None, f"{where}: model checks need a 'metrics:' file")
    command = expect_str(body, "command", where)
    if not (has_data or has_model or command):
        raise node_error(body, None, f"{where} checks nothing", "add data:, metrics: or command:")
    watch = tuple(_watch_paths(body, where))
    return Guard(
        name=name,
        line=body.line,
        description=expect_str(body, "description", where),
        data=parse_data(body, where) if has_data else None,
        model=_parse_model(body, where) if has_model else None,
        command=command,
        timeout=expect_number(body, "timeout", where, minimum=0.001) or DEFAULT_TIMEOUT,
        watch=watch,
    )


def _watch_paths(body: YamlMap, where: str) -> list[str]:
    paths = expect_str_list(body, "watch", where) or ()
    out = []
    for path in paths:
        try:
            out.append(check_relpath(path.strip().rstrip("/"), what="watch path"))
        except GitmlError as exc:
            raise node_error(body, "watch", f"{where}: {exc.message}") from None
    return out


def _parse_model(body: YamlMap, where: str) -> ModelSpec:
    metrics_path = expect_relpath(body, "metrics", where, required=True)
    assert metrics_path is not None
    thresholds: list[Threshold] = []
    node = expect_map(body, "thresholds", where) or YamlMap(body.source, body.line)
    for metric, value in node.items():
        texts = value if isinstance(value, YamlList) else [value]
        for text in texts:
            if not isinstance(text, str):
                raise node_error(
                    node,
                    metric,
                    f"{where} thresholds: {metric!r} must be text "
                    f'like ">= 0.85" (quote it), not {quote(text)}',
                )
            try:
                op, bound = parse_threshold(text)
            except ValueError as exc:
                raise node_error(node, metric, f"{where} thresholds: {exc}") from None
            thresholds.append(Threshold(metric, op, bound, node.line_of(metric)))
    return ModelSpec(metrics_path, tuple(thresholds), _parse_no_regression(body, where), body.line)


def _parse_no_regression(body: YamlMap, where: str) -> NoRegressionSpec | None:
    node = expect_map(body, "no_regression", where)
    if node is None:
        return None
    w = f"{where} no_regression"
    check_keys(node, ("against", "metrics", "tolerance"), w)
    against = expect_str(node, "against", w) or "prod"
    tolerance = expect_number(node, "tolerance", w, minimum=0.0) or 0.0
    raw = node.get("metrics")
    metrics: list[tuple[str, Literal["higher", "lower"]]] = []
    if isinstance(raw, YamlMap):
        for metric, direction in raw.items():
            if direction not in ("higher", "lower"):
                raise node_error(
                    raw,
                    metric,
                    f"{w}: {metric!r} must be 'higher' or 'lower' (which direction is better)",
                )
            metrics.append((metric, direction))
    else:
        names = expect_str_list(node, "metrics", w)
        metrics = [(m, "higher") for m in names or ()]
    if not metrics:
        raise node_error(node, None, f"{w}: list the metrics to compare (metrics: [accuracy])")
    return NoRegressionSpec(against, tuple(metrics), tolerance, node.line)
