"""Evaluate a data guard: schema, rows, column rules, change vs. the previous version.

Plan first, read second. Every check is either answered from what is already
known — the dataset schema, Parquet footers (row count, null counts, integer
min/max; only when *every* row group carries the statistic) — or registered as
an accumulator. If any accumulator exists, the data is read exactly once,
projected to the needed columns, in batches of :data:`BATCH_ROWS` rows with
little read-ahead, so memory is bounded by a few batches plus each check's own
bounded state (see :mod:`gitml.guards.checks` and :mod:`gitml.guards.stats`).
``DataOutcome.rows_read`` says how many rows were actually read (0 = footers
answered everything), which tests and ``--verbose`` output rely on.

Unreadable data is an ``error`` result, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from gitml.guards.checks import (
    AllowedCheck,
    Check,
    NullCheck,
    RangeCheck,
    RegexCheck,
    UniqueCheck,
    null_result,
    range_text,
)
from gitml.guards.readers import (
    DataUnreadable,
    OpenedData,
    ParquetSummary,
    open_dataset,
    parquet_summary,
)
from gitml.guards.results import RuleResult, Status
from gitml.guards.stats import (
    MAX_PROFILED_COLUMNS,
    DriftCounter,
    NoDistribution,
    Profile,
    assemble,
    column_kind,
    new_profile,
)
from gitml.progress import Reporter
from gitml.project.guardspec import (
    AllowedRule,
    DataSpec,
    DriftSpec,
    Guard,
    NullFractionRule,
    RangeRule,
    RegexRule,
    RowChangeSpec,
    RowsSpec,
    Rule,
    SchemaSpec,
)
from gitml.project.typenames import type_matches

BATCH_ROWS = 65_536
Deferred = Callable[[int], list[RuleResult]]


@dataclass(slots=True)
class DataOutcome:
    results: list[RuleResult]
    rows_read: int = 0
    statistics: dict[str, Any] | None = None


class DriftCheck(Check):
    rule_name = "drift"

    def __init__(self, guard: str, column: str, counter: DriftCounter, spec: DriftSpec) -> None:
        super().__init__(guard, column, spec.line)
        self.counter = counter
        self.spec = spec

    def update(self, arr: Any) -> None:
        self.counter.update(arr)

    def verdict(self, rows: int) -> RuleResult:
        expected = {"psi_max": self.spec.psi_max}
        try:
            value, actual = self.counter.result()
        except ValueError as exc:
            return RuleResult(
                self.guard,
                "drift",
                "fail",
                column=self.column,
                expected=expected,
                message=f"{self.column}: {exc}",
                line=self.line,
            )
        status: Status = "pass" if value <= self.spec.psi_max else "fail"
        word = "within" if status == "pass" else "above"
        return RuleResult(
            self.guard,
            "drift",
            status,
            column=self.column,
            observed=round(value, 6),
            expected=expected,
            line=self.line,
            message=f"{self.column}: PSI {value:.4f} vs. previous version, {word} "
            f"{self.spec.psi_max:g}",
            details={
                "bins": self.counter.cuts
                if self.counter.kind == "numeric"
                else [*self.counter.keys, "(other)"],
                "previous": self.counter.expected,
                "current": [round(a, 6) for a in actual],
            },
        )


class _Plan:
    """Results in spec order; some known now, some after the single scan."""

    def __init__(self, guard: Guard, schema: Any, summary: ParquetSummary | None) -> None:
        self.guard = guard
        self.name = guard.name
        self.schema = schema
        self.summary = summary
        self.slots: list[RuleResult | Deferred] = []
        self.checks: dict[str, list[Check]] = {}
        self.profiles: dict[str, Profile] = {}
        self.needs_rows = False

    def now(self, rule: str, status: Status, message: str, **kw: Any) -> None:
        self.slots.append(RuleResult(self.name, rule, status, message=message, **kw))

    def later(self, check: Check) -> None:
        self.checks.setdefault(check.column, []).append(check)
        self.slots.append(lambda rows: [check.finish(rows)])

    def later_rows(self, fn: Deferred) -> None:
        """A result that needs the row count: from footers now, or counted by the scan."""
        if self.summary is not None:
            self.slots.extend(fn(self.summary.rows))
        else:
            self.needs_rows = True
            self.slots.append(fn)

    def column_type(self, column: str) -> Any:
        t = self.schema.field(column).type
        return t.value_type if pa.types.is_dictionary(t) else t

    # -- schema and rows -------------------------------------------------------
    def add_schema(self, spec: SchemaSpec) -> None:
        names = self.schema.names
        for column, type_name in spec.columns:
            kw: dict[str, Any] = {"column": column, "expected": type_name, "line": spec.line}
            if column not in names:
                self.now("schema", "fail", f"column {column!r} is missing", **kw)
                continue
            actual = self.schema.field(column).type
            diverge = self.summary.divergent.get(column) if self.summary else None
            if not type_matches(type_name, actual):
                self.now(
                    "schema",
                    "fail",
                    f"{column}: type is {actual}, not {type_name}",
                    observed=str(actual),
                    **kw,
                )
            elif diverge is not None:
                self.now(
                    "schema",
                    "fail",
                    f"{column}: file {diverge[0]} has type {diverge[1]}",
                    observed=diverge[1],
                    **kw,
                )
            else:
                self.now("schema", "pass", f"{column}: {actual}", observed=str(actual), **kw)
        if spec.strict:
            declared = {c for c, _ in spec.columns}
            extra = [n for n in names if n not in declared]
            self.now(
                "schema",
                "fail" if extra else "pass",
                f"unexpected columns: {', '.join(extra)}" if extra else "no extra columns",
                observed=extra,
                expected=[],
                line=spec.line,
            )

    def add_rows(self, spec: RowsSpec) -> None:
        def result(rows: int) -> list[RuleResult]:
            ok = (spec.min is None or rows >= spec.min) and (spec.max is None or rows <= spec.max)
            lo = "" if spec.min is None else spec.min
            bounds = f"{lo}..{'' if spec.max is None else spec.max}"
            return [
                RuleResult(
                    self.name,
                    "rows",
                    "pass" if ok else "fail",
                    observed=rows,
                    expected={"min": spec.min, "max": spec.max},
                    line=spec.line,
                    message=f"{rows} rows (expected {bounds})",
                )
            ]

        self.later_rows(result)

    # -- column rules ----------------------------------------------------------
    def add_rule(self, rule: Rule) -> None:
        col = rule.column
        if col not in self.schema.names:
            self.now(rule.kind, "fail", f"column {col!r} is missing", column=col, line=rule.line)
            return
        t = self.column_type(col)
        s = self.summary
        if isinstance(rule, NullFractionRule):
            if s is not None and col in s.nulls:
                self.slots.append(
                    null_result(self.name, rule, s.nulls[col], s.rows, " (from Parquet statistics)")
                )
            else:
                self.later(NullCheck(self.name, rule))
        elif isinstance(rule, RangeRule):
            if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)):
                self.now(
                    "range",
                    "error",
                    f"{col}: range needs a numeric column, not {t}",
                    column=col,
                    line=rule.line,
                )
            elif not self._range_from_footers(rule, t):
                self.later(RangeCheck(self.name, rule))
        elif isinstance(rule, AllowedRule):
            self.later(AllowedCheck(self.name, rule))
        elif isinstance(rule, RegexRule):
            if column_kind(t) != "categorical" or pa.types.is_boolean(t):
                self.now(
                    "regex",
                    "error",
                    f"{col}: regex needs a text column, not {t}",
                    column=col,
                    line=rule.line,
                )
            else:
                self.later(RegexCheck(self.name, rule))
        else:
            self.later(UniqueCheck(self.name, rule))

    def _range_from_footers(self, rule: RangeRule, t: Any) -> bool:
        """Prove a range from integer min/max statistics (floats may hide NaN)."""
        s = self.summary
        if s is None or rule.column not in s.minmax or not pa.types.is_integer(t):
            return False
        if pa.types.is_uint64(t):
            return False
        lo, hi = s.minmax[rule.column]
        if (rule.min is not None and lo < rule.min) or (rule.max is not None and hi > rule.max):
            return False  # read the rows to count the violations
        self.slots.append(
            RuleResult(
                self.name,
                "range",
                "pass",
                column=rule.column,
                observed=1.0,
                expected={"min": rule.min, "max": rule.max, "mostly": rule.mostly},
                line=rule.line,
                message=f"{rule.column}: min {lo}, max {hi} in {range_text(rule)} "
                "(from Parquet statistics)",
                details={"min": lo, "max": hi},
            )
        )
        return True

    # -- change vs. the previous version ---------------------------------------
    def add_row_change(self, spec: RowChangeSpec, previous: dict[str, Any] | None) -> None:
        kw: dict[str, Any] = {
            "expected": {"max_drop": spec.max_drop, "max_growth": spec.max_growth},
            "line": spec.line,
        }
        if previous is None:
            self.now("row_change", "skip", "no statistics of a previous version", **kw)
            return
        prev = previous.get("rows")
        if isinstance(prev, bool) or not isinstance(prev, int) or prev < 0:
            self.now("row_change", "error", "stored previous statistics are malformed", **kw)
            return
        if prev == 0:
            self.now("row_change", "skip", "the previous version was empty", **kw)
            return

        def result(rows: int) -> list[RuleResult]:
            change = (rows - prev) / prev
            bad = (spec.max_drop is not None and change < -spec.max_drop) or (
                spec.max_growth is not None and change > spec.max_growth
            )
            return [
                RuleResult(
                    self.name,
                    "row_change",
                    "fail" if bad else "pass",
                    observed={"previous": prev, "current": rows, "change": round(change, 6)},
                    message=f"{prev} → {rows} rows ({change:+.1%})",
                    **kw,
                )
            ]

        self.later_rows(result)

    def add_drift(self, spec: DriftSpec, previous: dict[str, Any] | None) -> None:
        if previous is None:
            self.now(
                "drift",
                "skip",
                "no statistics of a previous version to compare with",
                line=spec.line,
            )
            return
        ref_cols = previous.get("columns")
        if not isinstance(ref_cols, dict):
            self.now("drift", "error", "stored previous statistics are malformed", line=spec.line)
            return
        columns = spec.columns or [
            c
            for c, v in ref_cols.items()
            if isinstance(v, dict) and v.get("kind") in ("numeric", "categorical")
        ]
        for col in columns:
            kw: dict[str, Any] = {
                "column": col,
                "expected": {"psi_max": spec.psi_max},
                "line": spec.line,
            }
            ref = ref_cols.get(col)
            if not isinstance(ref, dict):
                self.now("drift", "skip", f"{col}: no statistics in the previous version", **kw)
                continue
            if col not in self.schema.names:
                self.now("drift", "fail", f"column {col!r} is missing", **kw)
                continue
            try:
                counter = DriftCounter(col, ref)
            except NoDistribution as exc:
                self.now("drift", "skip", f"{col}: {exc}", **kw)
                continue
            except (KeyError, TypeError, ValueError, AttributeError):
                self.now("drift", "error", f"{col}: stored previous statistics are malformed", **kw)
                continue
            kind = column_kind(self.schema.field(col).type)
            if kind != counter.kind:
                self.now("drift", "fail", f"{col}: was {counter.kind}, is now {kind}", **kw)
                continue
            self.later(DriftCheck(self.name, col, counter, spec))

    def add_profiles(self, spec: DataSpec, reporter: Reporter) -> None:
        names = list(self.schema.names)
        if spec.drift is not None and spec.drift.columns:
            names = [c for c in spec.drift.columns if c in names]
        if len(names) > MAX_PROFILED_COLUMNS:
            reporter.warning(
                f"guard {self.name}: statistics kept for the first "
                f"{MAX_PROFILED_COLUMNS} of {len(names)} columns"
            )
            names = names[:MAX_PROFILED_COLUMNS]
        self.profiles = {c: new_profile(self.schema.field(c).type) for c in names}


@dataclass(slots=True)
class _Scan:
    rows: int = 0
    read: int = 0
    error: str | None = None
    broken_profiles: set[str] = field(default_factory=set)


def _scan(plan: _Plan, opened: OpenedData, reporter: Reporter) -> _Scan:
    scan = _Scan()
    needed = set(plan.checks) | set(plan.profiles)
    if not needed and not plan.needs_rows:
        scan.rows = plan.summary.rows if plan.summary is not None else 0
        return scan
    columns = [c for c in plan.schema.names if c in needed]
    task = f"guard {plan.name}: reading {plan.guard.data.path if plan.guard.data else ''}"
    reporter.start(task, total=plan.summary.rows if plan.summary is not None else 0)
    try:
        batches = opened.dataset.to_batches(
            columns=columns, batch_size=BATCH_ROWS, batch_readahead=2, fragment_readahead=1
        )
        for batch in batches:
            scan.rows += batch.num_rows
            for i, name in enumerate(batch.schema.names):
                arr = batch.column(i)
                for check in plan.checks.get(name, ()):
                    check.feed(arr)
                profile = plan.profiles.get(name)
                if profile is not None and name not in scan.broken_profiles:
                    try:
                        profile.update(arr)
                    except (pa.ArrowException, ValueError, TypeError) as exc:
                        scan.broken_profiles.add(name)
                        reporter.warning(f"guard {plan.name}: no statistics for {name}: {exc}")
            reporter.advance(task, batch.num_rows)
    except (pa.ArrowException, OSError, ValueError) as exc:
        path = plan.guard.data.path if plan.guard.data else ""
        scan.error = f"cannot read {path}: {opened.describe(exc)}"
    finally:
        reporter.done(task)
    scan.read = scan.rows
    return scan


def evaluate_data(
    guard: Guard,
    root: Path,
    previous: dict[str, Any] | None,
    *,
    collect_stats: bool = False,
    rules: bool = True,
    reporter: Reporter | None = None,
) -> DataOutcome:
    """Run one data guard's checks; with ``collect_stats`` also profile the data."""
    spec = guard.data
    assert spec is not None
    reporter = reporter or Reporter()
    try:
        opened = open_dataset(root, spec.path, spec.format)
        summary = parquet_summary(opened) if opened.format == "parquet" else None
    except DataUnreadable as exc:
        return DataOutcome(
            [RuleResult(guard.name, "read", "error", message=str(exc), line=spec.line)]
        )
    plan = _Plan(guard, opened.dataset.schema, summary)
    if rules:
        if spec.schema is not None:
            plan.add_schema(spec.schema)
        if spec.rows is not None:
            plan.add_rows(spec.rows)
        for rule in spec.rules:
            plan.add_rule(rule)
        if spec.row_change is not None:
            plan.add_row_change(spec.row_change, previous)
        if spec.drift is not None:
            plan.add_drift(spec.drift, previous)
        if not plan.slots and summary is None:
            plan.needs_rows = True  # nothing to check: at least prove the rows are readable
    if collect_stats:
        plan.add_profiles(spec, reporter)
    scan = _scan(plan, opened, reporter)
    results: list[RuleResult] = []
    for slot in plan.slots:
        if isinstance(slot, RuleResult):
            results.append(slot)
        elif scan.error is None:  # after a failed read only the known results stand
            results.extend(slot(scan.rows))
    if scan.error is not None:
        results.append(RuleResult(guard.name, "read", "error", message=scan.error, line=spec.line))
        return DataOutcome(results, scan.read)
    if not results:
        results.append(
            RuleResult(
                guard.name,
                "read",
                "pass",
                line=spec.line,
                message=f"{spec.path} is readable ({scan.rows} rows)",
            )
        )
    stats = None
    if collect_stats:
        kept = {c: p for c, p in plan.profiles.items() if c not in scan.broken_profiles}
        stats = assemble(scan.rows, kept)
    return DataOutcome(results, scan.read, stats)
