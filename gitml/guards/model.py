"""Model guards: metric thresholds, no regression against a baseline, commands.

Metrics come from a file the training step writes (JSON, or YAML for
``.yaml``/``.yml``); nested values are addressed with dots (``eval.accuracy``),
a literal key containing dots wins over the nested reading. The baseline (the
model in the ``prod`` stage, or the previous commit's metrics until a registry
exists) is supplied by the caller: this module never looks at git.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitml.bounded import quote
from gitml.errors import ConfigError
from gitml.guards.commands import CommandOutcome
from gitml.guards.results import RuleResult, Status
from gitml.project.guardspec import Guard, ModelSpec, NoRegressionSpec, Op, Threshold
from gitml.project.values import read_values


class MetricsError(ValueError):
    """The metrics file or a metric in it cannot be used (becomes an "error" result)."""


def load_metrics(path: Path) -> dict[str, Any]:
    """Parse a metrics file into a mapping; MetricsError if missing or malformed."""
    try:
        parsed = read_values(path, source=path.name)
    except FileNotFoundError:
        raise MetricsError(f"metrics file {path.name} does not exist") from None
    except ConfigError as exc:  # unreadable, too big, bad syntax, too deep: never the content
        raise MetricsError(f"metrics file {path.name} is not valid: {exc.message}") from None
    if not isinstance(parsed, dict):
        raise MetricsError(f"metrics file {path.name} must hold a mapping of metric names")
    return parsed


def lookup(metrics: Mapping[str, Any], name: str) -> float:
    """The number at ``name`` (exact key first, then the dotted path)."""
    value = _find(metrics, name)
    if value is _MISSING:
        raise MetricsError(f"metric {name!r} is not in the metrics")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MetricsError(f"metric {quote(name)} is {quote(value)}, not a number")
    number = float(value)
    if math.isnan(number):
        raise MetricsError(f"metric {name!r} is NaN")
    return number


_MISSING = object()


def _find(node: Any, name: str) -> Any:
    if not isinstance(node, Mapping):
        return _MISSING
    if name in node:
        return node[name]
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):  # longest literal prefix first
        head = ".".join(parts[:cut])
        if head in node:
            found = _find(node[head], ".".join(parts[cut:]))
            if found is not _MISSING:
                return found
    return _MISSING


def compare(value: float, op: Op, bound: float) -> bool:
    """``value op bound``; ``==`` tolerates float rounding (rel 1e-9)."""
    if op == ">=":
        return value >= bound
    if op == ">":
        return value > bound
    if op == "<=":
        return value <= bound
    if op == "<":
        return value < bound
    return math.isclose(value, bound, rel_tol=1e-9, abs_tol=1e-12)


def evaluate_model(
    guard: Guard, model: ModelSpec, root: Path, baseline: Mapping[str, Any] | None
) -> list[RuleResult]:
    """Threshold and no-regression results for one model guard."""
    try:
        metrics = load_metrics(root / model.metrics_path)
    except MetricsError as exc:
        return [RuleResult(guard.name, "metrics", "error", message=str(exc), line=model.line)]
    results = [_threshold(guard.name, metrics, t) for t in model.thresholds]
    if model.no_regression is not None:
        results += _no_regression(guard.name, metrics, model.no_regression, baseline)
    if not results:
        results.append(
            RuleResult(
                guard.name,
                "metrics",
                "pass",
                message=f"{model.metrics_path} is readable",
                line=model.line,
            )
        )
    return results


def _threshold(guard: str, metrics: Mapping[str, Any], t: Threshold) -> RuleResult:
    try:
        value = lookup(metrics, t.metric)
    except MetricsError as exc:
        return RuleResult(
            guard,
            "threshold",
            "error",
            column=t.metric,
            expected=t.text,
            message=str(exc),
            line=t.line,
        )
    ok = compare(value, t.op, t.value)
    return RuleResult(
        guard,
        "threshold",
        "pass" if ok else "fail",
        column=t.metric,
        observed=value,
        expected=t.text,
        line=t.line,
        message=f"{t.metric} = {value:g} {'meets' if ok else 'does not meet'} {t.text}",
    )


def _no_regression(
    guard: str,
    metrics: Mapping[str, Any],
    spec: NoRegressionSpec,
    baseline: Mapping[str, Any] | None,
) -> list[RuleResult]:
    out = []
    for metric, better in spec.metrics:
        expected: dict[str, Any] = {
            "against": spec.against,
            "tolerance": spec.tolerance,
            "better": better,
        }

        def result(
            status: Status,
            message: str,
            observed: Any = None,
            m: str = metric,
            exp: dict[str, Any] = expected,
        ) -> RuleResult:
            return RuleResult(
                guard,
                "no_regression",
                status,
                column=m,
                observed=observed,
                expected=dict(exp),
                message=message,
                line=spec.line,
            )

        if baseline is None:
            out.append(result("skip", f"no {spec.against} baseline to compare {metric} with"))
            continue
        try:
            value = lookup(metrics, metric)
        except MetricsError as exc:
            out.append(result("error", str(exc)))
            continue
        try:
            base = lookup(baseline, metric)
        except MetricsError:
            out.append(result("skip", f"the {spec.against} baseline has no {metric!r}", value))
            continue
        expected["baseline"] = base
        change = value - base if better == "higher" else base - value  # > 0 = better
        ok = change >= -spec.tolerance
        verb = "improved" if change > 0 else "unchanged" if change == 0 else "regressed"
        out.append(
            result(
                "pass" if ok else "fail",
                f"{metric} {verb}: {value:g} vs {spec.against} {base:g} "
                f"(tolerance {spec.tolerance:g}, {better} is better)",
                value,
            )
        )
    return out


def command_result(guard: Guard, outcome: CommandOutcome) -> RuleResult:
    """Turn a command outcome into a result: exit 0 passes, others fail,
    no verdict (not found, not started, timed out) is an error."""
    details = {
        "exit_code": outcome.exit_code,
        "tail": list(outcome.tail),
        "seconds": round(outcome.seconds, 3),
        "command": outcome.command,
    }
    status: Status
    if outcome.start_error is not None:
        status, message = "error", f"could not start: {outcome.start_error}"
    elif outcome.timed_out:
        status, message = "error", f"timed out after {guard.timeout:g} s and was killed"
    elif outcome.exit_code == 0:
        status, message = "pass", "exited with 0"
    elif outcome.exit_code is not None and outcome.exit_code < 0:
        status, message = "fail", f"killed by signal {-outcome.exit_code}"
    elif not outcome.runnable:
        status, message = "error", f"the shell could not run it (exit {outcome.exit_code})"
    else:
        status, message = "fail", f"exited with {outcome.exit_code}"
    if status != "pass" and outcome.tail:
        message += f": {outcome.tail[-1]}"
    return RuleResult(
        guard.name,
        "command",
        status,
        observed=outcome.exit_code,
        expected=0,
        message=message,
        line=guard.line,
        details=details,
    )
