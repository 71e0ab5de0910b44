"""What a guard run produces: one :class:`RuleResult` per check, in a report.

A failed check is data, not an exception: hooks print the report, the registry
stores it, CI reads its JSON. Statuses:

* ``pass``  – the check ran and holds;
* ``fail``  – the check ran and is violated (bad data, worse model, exit != 0);
* ``error`` – the check could not give a verdict (unreadable data, missing
  metrics file, command not found or timed out, rule does not fit the column
  type). It blocks like a failure: nothing unverified goes through;
* ``skip``  – not applicable this time (no previous version, no baseline).

``observed``/``expected`` are JSON values so reports can be stored as-is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from gitml.errors import EXIT_CHECK_FAILED, EXIT_OK

Status = Literal["pass", "fail", "error", "skip"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "error", "skip")
JsonValue = None | bool | int | float | str | list[Any] | dict[str, Any]


def jsonable(value: Any) -> JsonValue:
    """Coerce numbers/containers to strict JSON (NaN/inf become strings)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


@dataclass(frozen=True, slots=True)
class RuleResult:
    """The verdict of one check of one guard."""

    guard: str
    rule: str  # "schema", "rows", "null_fraction", "range", "psi", "threshold", "command"...
    status: Status
    column: str | None = None
    observed: JsonValue = None
    expected: JsonValue = None
    message: str = ""
    line: int | None = None  # line of the check in gitml.yaml, when there is one
    details: dict[str, Any] = field(default_factory=dict)  # e.g. command output tail

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "guard": self.guard,
            "rule": self.rule,
            "status": self.status,
            "column": self.column,
            "observed": jsonable(self.observed),
            "expected": jsonable(self.expected),
            "message": self.message,
            "line": self.line,
        }
        if self.details:
            out["details"] = jsonable(self.details)
        return out


@dataclass(slots=True)
class GuardReport:
    """All results of a run, plus what the run learnt on the way.

    ``statistics``: new reference statistics per data guard (only when the
    run was asked to collect them) for the caller to store in commit metadata.
    ``rows_read``: rows actually scanned per data guard (0 when Parquet
    metadata answered everything).
    """

    results: list[RuleResult] = field(default_factory=list)
    statistics: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows_read: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(r.status in ("pass", "skip") for r in self.results)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_CHECK_FAILED

    @property
    def problems(self) -> list[RuleResult]:
        return [r for r in self.results if r.status in ("fail", "error")]

    def for_guard(self, guard: str) -> list[RuleResult]:
        return [r for r in self.results if r.guard == guard]

    def guards(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.results:
            seen.setdefault(r.guard)
        return list(seen)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for r in self.results:
            out[r.status] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "counts": self.counts(),
            "results": [r.to_dict() for r in self.results],
            "rows_read": dict(self.rows_read),
        }
