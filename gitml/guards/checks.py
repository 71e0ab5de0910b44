"""Streaming accumulators for the data rules that need to see the rows.

Each check is fed the column's array of every batch (one pass over the data,
all checks together) and turns its counts into results at the end. A check
whose computation fails on the data (e.g. an allowed value that does not fit
the column type, a regex RE2 rejects) stops and reports ``error``; the other
checks go on. Nulls are never counted as violations of range/allowed/regex/
unique — the fraction is over non-null values, ``null_fraction`` covers nulls.
NaN is a value: it is outside every range.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from gitml.guards.results import RuleResult, Status
from gitml.guards.stats import decode
from gitml.project.guardspec import AllowedRule, NullFractionRule, RangeRule, RegexRule, UniqueRule

EXAMPLES = 5
_COMPUTE_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError)
UNIQUE_MAX_VALUES = 20_000_000


def _fmt_bound(value: float | None) -> str:
    return "…" if value is None else f"{value:g}"


def range_text(rule: RangeRule) -> str:
    return f"[{_fmt_bound(rule.min)}, {_fmt_bound(rule.max)}]"


def fraction_result(
    guard: str,
    rule_name: str,
    column: str,
    line: int,
    *,
    ok: int,
    checked: int,
    mostly: float,
    expected: dict[str, Any],
    what: str,
    details: dict[str, Any],
) -> RuleResult:
    """Pass when at least ``mostly`` of the non-null values satisfy the rule."""
    fraction = ok / checked if checked else 1.0
    status: Status = "pass" if fraction >= mostly else "fail"
    bad = checked - ok
    if not checked:
        message = f"{column}: no non-null values to check"
    elif not bad:
        message = f"{column}: all {checked} values {what}"
    else:
        message = f"{column}: {bad} of {checked} values ({bad / checked:.2%}) not {what}"
        if mostly < 1.0:
            message += f"; mostly {mostly:g} needs {mostly:.2%}"
    return RuleResult(
        guard,
        rule_name,
        status,
        column=column,
        observed=round(fraction, 6),
        expected={**expected, "mostly": mostly},
        message=message,
        line=line,
        details={"violations": bad, "checked": checked, **details},
    )


class Check:
    """Base: feed arrays of one column, then ``finish(rows)``; errors are captured."""

    rule_name = "check"

    def __init__(self, guard: str, column: str, line: int) -> None:
        self.guard = guard
        self.column = column
        self.line = line
        self.error: str | None = None

    def feed(self, arr: Any) -> None:
        if self.error is not None:
            return
        try:
            self.update(decode(arr))
        except _COMPUTE_ERRORS as exc:
            self.error = f"{self.column}: cannot evaluate {self.rule_name}: {exc}"

    def update(self, arr: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def finish(self, rows: int) -> RuleResult:
        if self.error is None:
            try:
                return self.verdict(rows)
            except _COMPUTE_ERRORS as exc:
                self.error = f"{self.column}: cannot evaluate {self.rule_name}: {exc}"
        return RuleResult(
            self.guard,
            self.rule_name,
            "error",
            column=self.column,
            message=self.error,
            line=self.line,
        )

    def verdict(self, rows: int) -> RuleResult:  # pragma: no cover - abstract
        raise NotImplementedError


def null_result(
    guard: str, rule: NullFractionRule, nulls: int, rows: int, source: str = ""
) -> RuleResult:
    fraction = nulls / rows if rows else 0.0
    status: Status = "pass" if fraction <= rule.max else "fail"
    return RuleResult(
        guard,
        "null_fraction",
        status,
        column=rule.column,
        observed=round(fraction, 6),
        expected={"max": rule.max},
        line=rule.line,
        message=f"{rule.column}: {nulls} of {rows} values null ({fraction:.2%}), "
        f"max {rule.max:.2%}{source}",
        details={"nulls": nulls, "rows": rows},
    )


class NullCheck(Check):
    rule_name = "null_fraction"

    def __init__(self, guard: str, rule: NullFractionRule) -> None:
        super().__init__(guard, rule.column, rule.line)
        self.rule = rule
        self.nulls = 0

    def update(self, arr: Any) -> None:
        self.nulls += arr.null_count

    def verdict(self, rows: int) -> RuleResult:
        return null_result(self.guard, self.rule, self.nulls, rows)


class RangeCheck(Check):
    rule_name = "range"

    def __init__(self, guard: str, rule: RangeRule) -> None:
        super().__init__(guard, rule.column, rule.line)
        self.rule = rule
        self.ok = self.checked = self.nans = 0
        self.lo: Any = None
        self.hi: Any = None

    def update(self, arr: Any) -> None:
        if pa.types.is_decimal(arr.type):
            arr = pc.cast(arr, pa.float64())
        valid = len(arr) - arr.null_count
        if not valid:
            return
        cond = None
        if self.rule.min is not None:
            cond = pc.greater_equal(arr, pa.scalar(self.rule.min))
        if self.rule.max is not None:
            upper = pc.less_equal(arr, pa.scalar(self.rule.max))
            cond = upper if cond is None else pc.and_(cond, upper)
        self.ok += int(pc.sum(cond).as_py() or 0)
        self.checked += valid
        if pa.types.is_floating(arr.type):
            self.nans += int(pc.sum(pc.is_nan(arr)).as_py() or 0)
        mm = pc.min_max(arr)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        if lo is not None:
            self.lo = lo if self.lo is None else min(self.lo, lo)
            self.hi = hi if self.hi is None else max(self.hi, hi)

    def verdict(self, rows: int) -> RuleResult:
        r = self.rule
        return fraction_result(
            self.guard,
            "range",
            r.column,
            r.line,
            ok=self.ok,
            checked=self.checked,
            mostly=r.mostly,
            expected={"min": r.min, "max": r.max},
            what=f"in {range_text(r)}",
            details={"min": self.lo, "max": self.hi, "nan": self.nans},
        )


class _ExamplesCheck(Check):
    """Counts values failing a vectorised predicate and keeps a few examples."""

    def __init__(self, guard: str, column: str, line: int) -> None:
        super().__init__(guard, column, line)
        self.ok = self.checked = 0
        self.examples: list[Any] = []

    def predicate(self, arr: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, arr: Any) -> None:
        valid = len(arr) - arr.null_count
        if not valid:
            return
        good = self.predicate(arr)
        ok = int(pc.sum(good).as_py() or 0)
        self.ok += ok
        self.checked += valid
        if ok < valid and len(self.examples) < EXAMPLES:
            bad = pc.and_(pc.invert(pc.fill_null(good, True)), pc.is_valid(arr))
            for value in pc.unique(pc.filter(arr, bad)).to_pylist():
                if value not in self.examples and len(self.examples) < EXAMPLES:
                    self.examples.append(value)


class AllowedCheck(_ExamplesCheck):
    rule_name = "allowed"

    def __init__(self, guard: str, rule: AllowedRule) -> None:
        super().__init__(guard, rule.column, rule.line)
        self.rule = rule
        self.value_set: Any = None

    def predicate(self, arr: Any) -> Any:
        if self.value_set is None:
            try:
                self.value_set = pa.array(list(self.rule.values), type=arr.type)
            except (pa.ArrowException, TypeError, ValueError):
                raise ValueError(f"the allowed values do not fit column type {arr.type}") from None
        return pc.is_in(arr, value_set=self.value_set)

    def verdict(self, rows: int) -> RuleResult:
        r = self.rule
        return fraction_result(
            self.guard,
            "allowed",
            r.column,
            r.line,
            ok=self.ok,
            checked=self.checked,
            mostly=r.mostly,
            expected={"allowed": list(r.values)},
            what="allowed",
            details={"examples": self.examples},
        )


class RegexCheck(_ExamplesCheck):
    rule_name = "regex"

    def __init__(self, guard: str, rule: RegexRule) -> None:
        super().__init__(guard, rule.column, rule.line)
        self.rule = rule

    def predicate(self, arr: Any) -> Any:
        return pc.match_substring_regex(arr, self.rule.pattern)

    def verdict(self, rows: int) -> RuleResult:
        r = self.rule
        return fraction_result(
            self.guard,
            "regex",
            r.column,
            r.line,
            ok=self.ok,
            checked=self.checked,
            mostly=r.mostly,
            expected={"regex": r.pattern},
            what=f"matching {r.pattern!r}",
            details={"examples": self.examples},
        )


class UniqueCheck(Check):
    """Keeps the column's non-null values (Arrow-compact) up to UNIQUE_MAX_VALUES."""

    rule_name = "unique"

    def __init__(self, guard: str, rule: UniqueRule) -> None:
        super().__init__(guard, rule.column, rule.line)
        self.rule = rule
        self.chunks: list[Any] = []
        self.count = 0

    def update(self, arr: Any) -> None:
        values = arr.drop_null()
        self.count += len(values)
        if self.count > UNIQUE_MAX_VALUES:
            self.chunks = []
            raise ValueError(f"more than {UNIQUE_MAX_VALUES} values to hold in memory")
        if len(values):
            self.chunks.append(values)

    def verdict(self, rows: int) -> RuleResult:
        r = self.rule
        dup_rows, examples = 0, []
        if self.chunks:
            values = pa.chunked_array(self.chunks)
            if pc.count_distinct(values).as_py() != len(values):
                vc = pc.value_counts(values)
                dup = pc.greater(vc.field("counts"), 1)
                dup_rows = int(pc.sum(pc.filter(vc.field("counts"), dup)).as_py() or 0)
                examples = pc.filter(vc.field("values"), dup)[:EXAMPLES].to_pylist()
        self.chunks = []
        return fraction_result(
            self.guard,
            "unique",
            r.column,
            r.line,
            ok=self.count - dup_rows,
            checked=self.count,
            mostly=r.mostly,
            expected={"unique": True},
            what="unique",
            details={"duplicated_examples": examples},
        )
