"""The entry points hooks, CLI and API call: run guards, pick affected ones, profile data.

This module knows nothing about git: the caller supplies the previous
version's reference statistics and the baseline metrics through callbacks
(from commit metadata, the registry's ``prod`` stage, or the previous commit)
and stores :attr:`GuardReport.statistics` itself. pyarrow is imported only
when a data guard actually runs, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from gitml.errors import UsageError
from gitml.guards.commands import run_command
from gitml.guards.model import command_result, evaluate_model
from gitml.guards.results import GuardReport, RuleResult
from gitml.progress import Reporter
from gitml.project.file import PROJECT_FILE
from gitml.project.guardspec import Guard, GuardsSpec
from gitml.project.specartifacts import ArtifactSpec
from gitml.project.yamlnodes import did_you_mean

StatsLookup = Callable[[str], dict[str, Any] | None]
POINTER_SUFFIX = ".gitml"


def _none(_name: str) -> dict[str, Any] | None:
    return None


def select_guards(spec: GuardsSpec, names: Iterable[str] | None) -> list[Guard]:
    """The named guards in declaration order (all when ``names`` is None)."""
    if names is None:
        return list(spec.guards.values())
    wanted = list(dict.fromkeys(names))
    for name in wanted:
        if name not in spec.guards:
            hint = did_you_mean(name, spec.guards) or (
                f"guards: {', '.join(spec.guards)}" if spec.guards else "no guards are declared"
            )
            raise UsageError(f"no guard named {name!r} in {PROJECT_FILE}", hint)
    return [g for g in spec.guards.values() if g.name in wanted]


def run_guards(
    root: Path,
    spec: GuardsSpec,
    names: Iterable[str] | None = None,
    *,
    previous_stats: StatsLookup | None = None,
    baseline_metrics: StatsLookup | None = None,
    reporter: Reporter | None = None,
    env: Mapping[str, str] | None = None,
    collect_stats: bool = False,
    command_root: Path | None = None,
) -> GuardReport:
    """Run guards and return every result; a failing guard never raises.

    ``root``: where data and metrics files are read (the workspace, or a view
    of the commit being made); ``command_root``: where commands run (default
    ``root``).

    ``previous_stats(guard)``: reference statistics stored with the previous
    committed version of the guard's dataset, or None (change rules skip).
    ``baseline_metrics(guard)``: metrics of the model to compare with (the
    ``no_regression.against`` stage, or the previous commit's metrics file),
    or None (no_regression skips). ``collect_stats``: also profile each data
    guard's data into :attr:`GuardReport.statistics` (same single read).
    ``env``: environment of guard commands (None = this process's).
    Raises only UsageError for an unknown guard name.
    """
    reporter = reporter or Reporter()
    previous_stats = previous_stats or _none
    baseline_metrics = baseline_metrics or _none
    selected = select_guards(spec, names)
    report = GuardReport()
    reporter.start("guards", total=len(selected))
    for guard in selected:
        results = _run_one(
            root,
            command_root or root,
            guard,
            previous_stats,
            baseline_metrics,
            reporter,
            env,
            collect_stats,
            report,
        )
        report.results.extend(results)
        bad = sum(r.status in ("fail", "error") for r in results)
        reporter.info(f"guard {guard.name}: " + (f"{bad} problem(s)" if bad else "ok"))
        reporter.advance("guards")
    reporter.done("guards")
    return report


def _run_one(
    root: Path,
    command_root: Path,
    guard: Guard,
    previous_stats: StatsLookup,
    baseline_metrics: StatsLookup,
    reporter: Reporter,
    env: Mapping[str, str] | None,
    collect_stats: bool,
    report: GuardReport,
) -> list[RuleResult]:
    results: list[RuleResult] = []
    if guard.data is not None:
        from gitml.guards.data import evaluate_data

        needs_previous = guard.data.row_change is not None or guard.data.drift is not None
        outcome = evaluate_data(
            guard,
            root,
            previous_stats(guard.name) if needs_previous else None,
            collect_stats=collect_stats,
            reporter=reporter,
        )
        results += outcome.results
        report.rows_read[guard.name] = outcome.rows_read
        if outcome.statistics is not None:
            report.statistics[guard.name] = outcome.statistics
    if guard.model is not None:
        needs_baseline = guard.model.no_regression is not None
        baseline = baseline_metrics(guard.name) if needs_baseline else None
        results += evaluate_model(guard, guard.model, root, baseline)
    if guard.command is not None:
        outcome_cmd = run_command(guard.command, cwd=command_root, env=env, timeout=guard.timeout)
        results.append(command_result(guard, outcome_cmd))
    return results


def dataset_statistics(
    root: Path,
    spec: GuardsSpec,
    names: Iterable[str] | None = None,
    *,
    reporter: Reporter | None = None,
) -> dict[str, dict[str, Any]]:
    """Reference statistics of each data guard's current data (for commit metadata).

    Unreadable data is left out with a warning: there is nothing to store.
    """
    reporter = reporter or Reporter()
    out: dict[str, dict[str, Any]] = {}
    guards = [g for g in select_guards(spec, names) if g.data is not None]
    if not guards:
        return out
    from gitml.guards.data import evaluate_data

    for guard in guards:
        outcome = evaluate_data(
            guard, root, None, collect_stats=True, rules=False, reporter=reporter
        )
        if outcome.statistics is None:
            reason = "; ".join(r.message for r in outcome.results if r.status == "error")
            reporter.warning(f"guard {guard.name}: no statistics: {reason}")
            continue
        out[guard.name] = outcome.statistics
    return out


def _touches(changed: str, target: str) -> bool:
    """Does a change to ``changed`` (a file or a pointer) concern ``target``?"""
    if changed == target or changed.startswith(target + "/"):
        return True
    if changed.endswith(POINTER_SUFFIX):
        pointed = changed[: -len(POINTER_SUFFIX)]
        return (
            pointed == target
            or target.startswith(pointed + "/")
            or pointed.startswith(target + "/")
        )
    return False


def affected_guards(
    spec: GuardsSpec,
    changed_paths: Iterable[str],
    *,
    artifacts: Mapping[str, ArtifactSpec] | None = None,
    params: Iterable[str] = (),
) -> list[str]:
    """Guards whose inputs a change touches, in declaration order.

    A guard is affected by gitml.yaml itself, its data path (or anything inside
    it, or the ``.gitml`` pointer of it or of a folder holding it), its metrics
    file (or pointer), and any of its ``watch:`` paths. A model guard also by
    the model of every artifact declaring its metrics file (``artifacts:``) and
    by the ``params`` files. A command-only guard without ``watch:`` runs only
    when gitml.yaml changes.
    """
    changed = {p.removeprefix("./").rstrip("/") for p in changed_paths}
    if PROJECT_FILE in changed:
        return list(spec.guards)
    out = []
    for guard in spec.guards.values():
        targets = list(guard.watch)
        if guard.data is not None:
            targets.append(guard.data.path)
        if guard.model is not None:
            metrics = guard.model.metrics_path
            targets.append(metrics)
            targets += [a.path for a in (artifacts or {}).values() if metrics in a.metrics]
            targets += list(params)
        if any(_touches(c, t) for c in changed for t in targets):
            out.append(guard.name)
    return out
