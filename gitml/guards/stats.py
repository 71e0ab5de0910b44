"""Reference statistics of a dataset version, and drift (PSI) against them.

Each committed dataset version gets a small JSON-able profile (a few KB), which
the caller stores in commit metadata; a later drift check compares new data to
that profile and never needs the old rows. Profiles are built in the same
streaming pass as the data rules, with bounded memory per column:

* numeric (integers, floats, decimals, dates/times as their integer ticks):
  exact count/nulls/NaN/min/max/mean, and quantile cut points + bin fractions
  from a uniform random sample of at most :data:`SAMPLE_SIZE` values (exact
  when the column is smaller; seeded, so the same data gives the same profile);
* categorical (text, booleans, dictionaries): exact value counts up to
  :data:`CATEGORY_CAP` distinct values, stored as the :data:`TOP_K` most frequent
  fractions plus an ``other`` fraction; above the cap only counts are kept and
  drift is not computed for the column (a high-cardinality id has no
  distribution worth comparing).

PSI between reference fractions ``e`` and new fractions ``a`` over the same B
bins, with epsilon smoothing so empty bins stay finite::

    e'_i = (e_i + eps) / (1 + B*eps),  a'_i = (a_i + eps) / (1 + B*eps)
    PSI  = sum_i (a'_i - e'_i) * ln(a'_i / e'_i),      eps = 1e-4

Rule of thumb: < 0.1 stable, 0.1–0.2 moderate shift, > 0.2 significant shift.
Nulls and NaN are excluded from the distributions (null_fraction rules cover them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

STATS_VERSION = 1
BINS = 10
TOP_K = 20
CATEGORY_CAP = 10_000
SAMPLE_SIZE = 20_000
EPSILON = 1e-4
MAX_PROFILED_COLUMNS = 200
_SEED = 20240521


def column_kind(arrow_type: Any) -> str:
    """``numeric``, ``categorical`` or ``other`` for an Arrow type."""
    t = pa.types
    if t.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if t.is_integer(arrow_type) or t.is_floating(arrow_type) or t.is_decimal(arrow_type):
        return "numeric"
    if t.is_temporal(arrow_type):
        return "numeric"
    if t.is_boolean(arrow_type) or t.is_string(arrow_type) or t.is_large_string(arrow_type):
        return "categorical"
    if getattr(t, "is_string_view", lambda _t: False)(arrow_type):
        return "categorical"
    return "other"


def decode(arr: Any) -> Any:
    """A plain array (dictionary arrays decoded)."""
    return arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr


def numeric_values(arr: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Non-null values as float64 (temporal values as their integer ticks)."""
    arr = decode(arr).drop_null()
    t = arr.type
    if pa.types.is_date32(t) or pa.types.is_time32(t):  # 32-bit ticks cast only to int32
        arr = pc.cast(arr, pa.int32())
    elif pa.types.is_temporal(t):
        arr = pc.cast(arr, pa.int64())
    elif pa.types.is_decimal(t):
        arr = pc.cast(arr, pa.float64())
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)


def text_values(arr: Any) -> Any:
    """Non-null categorical values as an Arrow string array (booleans as true/false)."""
    arr = decode(arr).drop_null()
    return arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())


def bin_counts(values: np.ndarray[Any, Any], cuts: Sequence[float]) -> list[int]:
    """Counts per bin: bin 0 = v <= cuts[0], bin k = cuts[k-1] < v <= cuts[k], last = above."""
    idx = np.searchsorted(np.asarray(cuts, dtype=np.float64), values, side="left")
    return [int(c) for c in np.bincount(idx, minlength=len(cuts) + 1)]


def psi(expected: Sequence[float], actual: Sequence[float], eps: float = EPSILON) -> float:
    """Population stability index of two distributions over the same bins."""
    if len(expected) != len(actual) or not expected:
        raise ValueError("psi needs two non-empty distributions over the same bins")
    norm = 1.0 + len(expected) * eps
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e2, a2 = (e + eps) / norm, (a + eps) / norm
        total += (a2 - e2) * math.log(a2 / e2)
    return total


class NumericProfile:
    """Streaming profile of one numeric column."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name
        self.nulls = 0
        self.count = 0
        self.nans = 0
        self.total = 0.0
        self.finite = 0
        self.lo = math.inf
        self.hi = -math.inf
        self.rng = np.random.default_rng(_SEED)
        self.sample = np.empty(0, dtype=np.float64)
        self.keys = np.empty(0, dtype=np.float64)

    def update(self, arr: Any) -> None:
        self.nulls += arr.null_count
        values = numeric_values(arr)
        nan = np.isnan(values)
        self.nans += int(nan.sum())
        values = values[~nan]
        self.count += len(values)
        finite = values[np.isfinite(values)]
        if len(finite):
            self.finite += len(finite)
            self.total += float(finite.sum())
            self.lo = min(self.lo, float(finite.min()))
            self.hi = max(self.hi, float(finite.max()))
        # Bottom-k by random key = uniform sample without replacement, in O(k + batch).
        keys = np.concatenate([self.keys, self.rng.random(len(values))])
        sample = np.concatenate([self.sample, values])
        if len(sample) > SAMPLE_SIZE:
            keep = np.argpartition(keys, SAMPLE_SIZE)[:SAMPLE_SIZE]
            keys, sample = keys[keep], sample[keep]
        self.keys, self.sample = keys, sample

    def finish(self, rows: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "numeric",
            "type": self.type_name,
            "nulls": self.nulls,
            "null_fraction": _frac(self.nulls, rows),
            "nan": self.nans,
            "sampled": self.count > SAMPLE_SIZE,
        }
        finite = self.sample[np.isfinite(self.sample)]
        if not len(finite):
            return {**out, "min": None, "max": None, "mean": None, "cuts": [], "fractions": []}
        qs = np.quantile(finite, np.linspace(0.0, 1.0, BINS + 1)[1:-1])
        cuts = [float(c) for c in np.unique(qs)]
        if len(cuts) == 1:  # (near-)constant column: separate "below" from "equal"
            cuts.insert(0, float(np.nextafter(cuts[0], -np.inf)))
        counts = bin_counts(self.sample, cuts)
        n = len(self.sample)
        return {
            **out,
            "min": self.lo,
            "max": self.hi,
            "mean": self.total / self.finite,
            "cuts": cuts,
            "fractions": [round(c / n, 6) for c in counts],
        }


class CategoricalProfile:
    """Streaming profile of one categorical column (exact counts up to a cap)."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name
        self.nulls = 0
        self.count = 0
        self.counts: dict[str, int] | None = {}

    def update(self, arr: Any) -> None:
        self.nulls += arr.null_count
        values = text_values(arr)
        self.count += len(values)
        if self.counts is None or not len(values):
            return
        vc = pc.value_counts(values)
        for value, count in zip(
            vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True
        ):
            self.counts[value] = self.counts.get(value, 0) + count
        if len(self.counts) > CATEGORY_CAP:
            self.counts = None  # high cardinality: no distribution is kept

    def finish(self, rows: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "categorical",
            "type": self.type_name,
            "nulls": self.nulls,
            "null_fraction": _frac(self.nulls, rows),
        }
        if self.counts is None:
            return {**out, "distinct": None, "top": {}, "other": None}
        top = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_K]
        fractions = {k: round(v / self.count, 6) for k, v in top}
        other = self.count - sum(v for _, v in top)
        return {
            **out,
            "distinct": len(self.counts),
            "top": fractions,
            "other": round(other / self.count, 6) if self.count else 0.0,
        }


class OtherProfile:
    """Columns without a distribution (lists, structs, binary): nulls only."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name
        self.nulls = 0

    def update(self, arr: Any) -> None:
        self.nulls += arr.null_count

    def finish(self, rows: int) -> dict[str, Any]:
        return {
            "kind": "other",
            "type": self.type_name,
            "nulls": self.nulls,
            "null_fraction": _frac(self.nulls, rows),
        }


Profile = NumericProfile | CategoricalProfile | OtherProfile


def new_profile(arrow_type: Any) -> Profile:
    kind = column_kind(arrow_type)
    name = str(arrow_type)
    if kind == "numeric":
        return NumericProfile(name)
    if kind == "categorical":
        return CategoricalProfile(name)
    return OtherProfile(name)


def assemble(rows: int, profiles: dict[str, Profile]) -> dict[str, Any]:
    """The reference-statistics document for one dataset version."""
    return {
        "version": STATS_VERSION,
        "rows": rows,
        "columns": {name: p.finish(rows) for name, p in profiles.items()},
    }


def _frac(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0


class NoDistribution(ValueError):
    """The reference profile has no distribution to compare with (drift is skipped)."""


class DriftCounter:
    """Counts new values into the bins of one column's stored reference profile.

    Raises NoDistribution (skip) or another ValueError/KeyError/TypeError
    (malformed reference) on construction.
    """

    def __init__(self, column: str, ref: dict[str, Any]) -> None:
        self.column = column
        self.kind = ref["kind"]
        if self.kind == "numeric":
            self.cuts = [float(c) for c in ref["cuts"]]
            self.expected = [float(f) for f in ref["fractions"]]
            if not self.expected and not self.cuts:
                raise NoDistribution("the previous version had no values in this column")
            if len(self.expected) != len(self.cuts) + 1 or self.cuts != sorted(self.cuts):
                raise ValueError("cuts and fractions do not match")
            self.counts = [0] * len(self.expected)
        elif self.kind == "categorical":
            top = ref["top"]
            if ref.get("distinct") is None:
                raise NoDistribution(
                    f"the previous version had over {CATEGORY_CAP} distinct values here"
                )
            if not isinstance(top, dict):
                raise ValueError("top is not a mapping")
            if not top:
                raise NoDistribution("the previous version had no values in this column")
            self.keys = [str(k) for k in top]
            self.expected = [float(top[k]) for k in top] + [float(ref.get("other") or 0.0)]
            self.key_array = pa.array(self.keys, type=pa.string())
            self.counts = [0] * len(self.expected)
        elif self.kind == "other":
            raise NoDistribution(f"a column of type {ref.get('type')} has no distribution")
        else:
            raise ValueError(f"unknown column kind {self.kind!r}")
        self.values = 0

    def update(self, arr: Any) -> None:
        if self.kind == "numeric":
            values = numeric_values(arr)
            values = values[~np.isnan(values)]
            for i, c in enumerate(bin_counts(values, self.cuts)):
                self.counts[i] += c
            self.values += len(values)
            return
        values = text_values(arr)
        self.values += len(values)
        known = pc.filter(values, pc.is_in(values, value_set=self.key_array))
        vc = pc.value_counts(known)
        index = {k: i for i, k in enumerate(self.keys)}
        for value, count in zip(
            vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True
        ):
            self.counts[index[value]] += count
        self.counts[-1] = self.values - sum(self.counts[:-1])

    def result(self) -> tuple[float, list[float]]:
        """(PSI, new fractions); ValueError when there is nothing to compare."""
        if not self.values:
            raise ValueError("no non-null values in the new data")
        actual = [c / self.values for c in self.counts]
        return psi(self.expected, actual), actual
