"""The typed form of the ``guards:`` section: what the engine runs.

Plain frozen dataclasses, built only by :mod:`gitml.project.guardspec` (which
validates gitml.yaml) so the engine never sees raw YAML. Lines are kept so
results can point back at ``gitml.yaml:LINE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Literal

COMMON_KEYS = ("description", "command", "timeout", "watch")
DATA_KEYS = ("data", "format", "schema", "rows", "rules", "change")
MODEL_KEYS = ("metrics", "thresholds", "no_regression")
FORMATS = ("parquet", "csv", "tsv", "jsonl", "feather")
RULE_CHECKS = ("null_fraction", "range", "allowed", "regex", "unique")
RULE_KEYS = ("column", "mostly", "description", *RULE_CHECKS)
DEFAULT_TIMEOUT = 600.0
DEFAULT_PSI_MAX = 0.2
Op = Literal[">=", ">", "<=", "<", "=="]
THRESHOLD_RE = re.compile(
    r"^\s*(>=|<=|==|>|<)\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)


@dataclass(frozen=True, slots=True)
class NullFractionRule:
    kind: ClassVar[str] = "null_fraction"
    column: str
    max: float
    line: int


@dataclass(frozen=True, slots=True)
class RangeRule:
    kind: ClassVar[str] = "range"
    column: str
    min: float | None
    max: float | None
    mostly: float
    line: int


@dataclass(frozen=True, slots=True)
class AllowedRule:
    kind: ClassVar[str] = "allowed"
    column: str
    values: tuple[str | int | float | bool, ...]
    mostly: float
    line: int


@dataclass(frozen=True, slots=True)
class RegexRule:
    kind: ClassVar[str] = "regex"
    column: str
    pattern: str
    mostly: float
    line: int


@dataclass(frozen=True, slots=True)
class UniqueRule:
    kind: ClassVar[str] = "unique"
    column: str
    mostly: float
    line: int


Rule = NullFractionRule | RangeRule | AllowedRule | RegexRule | UniqueRule


@dataclass(frozen=True, slots=True)
class SchemaSpec:
    columns: tuple[tuple[str, str], ...]  # (column, normalized type name), file order
    strict: bool
    line: int


@dataclass(frozen=True, slots=True)
class RowsSpec:
    min: int | None
    max: int | None
    line: int


@dataclass(frozen=True, slots=True)
class RowChangeSpec:
    max_drop: float | None  # fraction: 0.1 = at most 10 % fewer rows than before
    max_growth: float | None  # fraction: 1.0 = at most twice as many rows
    line: int


@dataclass(frozen=True, slots=True)
class DriftSpec:
    columns: tuple[str, ...] | None  # None: every column with reference statistics
    psi_max: float
    line: int


@dataclass(frozen=True, slots=True)
class DataSpec:
    path: str
    format: str | None
    schema: SchemaSpec | None
    rows: RowsSpec | None
    rules: tuple[Rule, ...]
    row_change: RowChangeSpec | None
    drift: DriftSpec | None
    line: int


@dataclass(frozen=True, slots=True)
class Threshold:
    metric: str
    op: Op
    value: float
    line: int

    @property
    def text(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True, slots=True)
class NoRegressionSpec:
    against: str
    metrics: tuple[tuple[str, Literal["higher", "lower"]], ...]
    tolerance: float
    line: int


@dataclass(frozen=True, slots=True)
class ModelSpec:
    metrics_path: str
    thresholds: tuple[Threshold, ...]
    no_regression: NoRegressionSpec | None
    line: int


@dataclass(frozen=True, slots=True)
class Guard:
    name: str
    line: int
    description: str | None
    data: DataSpec | None
    model: ModelSpec | None
    command: str | None
    timeout: float
    watch: tuple[str, ...]

    @property
    def kind(self) -> Literal["data", "model", "custom"]:
        return "data" if self.data else "model" if self.model else "custom"


@dataclass(frozen=True, slots=True)
class GuardsSpec:
    guards: dict[str, Guard]  # declaration order
    source: str

    def names(self) -> list[str]:
        return list(self.guards)
