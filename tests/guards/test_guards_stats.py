"""Reference statistics, PSI and the change rules (rows, drift)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from gitml.guards.data import evaluate_data
from gitml.guards.stats import EPSILON, psi
from tests.guards.guardkit import by_rule, customers, one_guard, write

DRIFT = """\
data: d.parquet
change:
  rows: {max_drop: 0.1, max_growth: 1.0}
  drift: {columns: [tenure, plan]}
"""


def reference(tmp_path: Path, table: pa.Table, body: str = DRIFT) -> dict[str, Any]:
    write(table, tmp_path / "ref" / "d.parquet")
    stats = evaluate_data(
        one_guard(body), tmp_path / "ref", None, collect_stats=True, rules=False
    ).statistics
    assert stats is not None
    return stats


def smoothed_psi(e: list[float], a: list[float]) -> float:
    n = 1 + len(e) * EPSILON
    return sum(
        ((x + EPSILON) / n - (y + EPSILON) / n) * math.log((x + EPSILON) / (y + EPSILON))
        for y, x in zip(e, a, strict=True)
    )


def test_psi_known_values() -> None:
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    four = psi([0.25] * 4, [0.4, 0.3, 0.2, 0.1])
    assert four == pytest.approx(0.2282, abs=1e-3)  # textbook value without smoothing
    assert four == pytest.approx(smoothed_psi([0.25] * 4, [0.4, 0.3, 0.2, 0.1]), rel=1e-12)
    empty_bin = psi([0.5, 0.5], [1.0, 0.0])
    assert math.isfinite(empty_bin) and empty_bin == pytest.approx(
        smoothed_psi([0.5, 0.5], [1.0, 0.0]), rel=1e-12
    )
    with pytest.raises(ValueError):
        psi([1.0], [0.5, 0.5])


def test_reference_statistics_are_small_exact_and_deterministic(tmp_path: Path) -> None:
    body = "data: d.parquet\n"
    stats = reference(tmp_path, customers(5000), body)
    again = reference(tmp_path, customers(5000), body)
    assert stats == again
    assert stats["rows"] == 5000
    assert len(json.dumps(stats)) < 4096
    tenure = stats["columns"]["tenure"]
    assert tenure["kind"] == "numeric" and len(tenure["cuts"]) == 9
    assert tenure["fractions"] == pytest.approx([0.1] * 10, abs=0.002)
    assert 0 <= tenure["min"] < tenure["mean"] < tenure["max"] <= 120
    plan = stats["columns"]["plan"]
    assert plan["kind"] == "categorical" and set(plan["top"]) == {"basic", "pro", "team"}
    assert sum(plan["top"].values()) == pytest.approx(1.0) and plan["other"] == 0.0
    assert stats["columns"]["churned"]["top"].keys() == {"true", "false"}
    email = stats["columns"]["email"]  # 5000 distinct: top 20 + other
    assert len(email["top"]) == 20 and email["other"] == pytest.approx(0.996)


def test_drift_columns_limit_the_profile(tmp_path: Path) -> None:
    stats = reference(tmp_path, customers(100))
    assert set(stats["columns"]) == {"tenure", "plan"}


def test_same_distribution_does_not_drift(tmp_path: Path) -> None:
    previous = reference(tmp_path, customers(4000, seed=1))
    write(customers(4000, seed=2), tmp_path / "d.parquet")
    results = evaluate_data(one_guard(DRIFT), tmp_path, previous).results
    assert [r.status for r in results] == ["pass", "pass", "pass"]
    assert by_rule(results, "drift", "tenure").observed < 0.05
    assert by_rule(results, "drift", "plan").observed < 0.05


def test_shifted_data_drifts(tmp_path: Path) -> None:
    previous = reference(tmp_path, customers(4000, seed=1))
    write(customers(4000, seed=2, shift=0.9), tmp_path / "d.parquet")
    results = evaluate_data(one_guard(DRIFT), tmp_path, previous).results
    tenure = by_rule(results, "drift", "tenure")
    assert tenure.status == "fail" and tenure.observed > 1.0
    assert tenure.expected == {"psi_max": 0.2}
    assert len(tenure.details["current"]) == 10
    assert by_rule(results, "drift", "plan").status == "fail"


def test_new_category_and_constant_column_shift_are_caught(tmp_path: Path) -> None:
    before = pa.table({"plan": ["a"] * 50 + ["b"] * 50, "k": [5] * 100})
    after = pa.table({"plan": ["a"] * 50 + ["c"] * 50, "k": [3] * 100})
    body = "data: d.parquet\nchange: {drift: {psi_max: 0.2}}\n"
    previous = reference(tmp_path, before, body)
    write(after, tmp_path / "d.parquet")
    results = evaluate_data(one_guard(body), tmp_path, previous).results
    assert {r.column: r.status for r in results} == {"plan": "fail", "k": "fail"}


@pytest.mark.parametrize(
    ("rows", "status"), [(1000, "pass"), (850, "fail"), (1900, "pass"), (2100, "fail")]
)
def test_row_change_bounds(tmp_path: Path, rows: int, status: str) -> None:
    write(customers(rows), tmp_path / "d.parquet")
    guard = one_guard("data: d.parquet\nchange: {rows: {max_drop: 0.1, max_growth: 1.0}}\n")
    outcome = evaluate_data(guard, tmp_path, {"rows": 1000, "columns": {}})
    result = outcome.results[0]
    assert (result.rule, result.status) == ("row_change", status)
    assert result.observed == {
        "previous": 1000,
        "current": rows,
        "change": round((rows - 1000) / 1000, 6),
    }
    assert outcome.rows_read == 0  # the row count came from the Parquet footer


def test_no_previous_version_skips(tmp_path: Path) -> None:
    write(customers(100), tmp_path / "d.parquet")
    results = evaluate_data(one_guard(DRIFT), tmp_path, None).results
    assert [(r.rule, r.status) for r in results] == [("row_change", "skip"), ("drift", "skip")]


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        ({"rows": "many"}, [("row_change", "error"), ("drift", "error")]),
        (
            {
                "rows": 100,
                "columns": {"tenure": {"kind": "numeric", "cuts": [1, 2], "fractions": [1.0]}},
            },
            [("row_change", "pass"), ("drift", "error"), ("drift", "skip")],
        ),
        (
            {
                "rows": 100,
                "columns": {
                    "tenure": {
                        "kind": "categorical",
                        "top": {"x": 1.0},
                        "distinct": 1,
                        "other": 0.0,
                    },
                    "plan": {"kind": "categorical", "top": {}, "distinct": None},
                },
            },
            [("row_change", "pass"), ("drift", "fail"), ("drift", "skip")],
        ),
    ],
)
def test_malformed_or_mismatched_previous(
    tmp_path: Path, previous: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    write(customers(100), tmp_path / "d.parquet")
    results = evaluate_data(one_guard(DRIFT), tmp_path, previous).results
    assert [(r.rule, r.status) for r in results] == expected


def test_big_columns_are_sampled_but_stay_close(tmp_path: Path) -> None:
    stats = reference(
        tmp_path, customers(60_000), "data: d.parquet\nchange: {drift: {columns: [tenure]}}\n"
    )
    tenure = stats["columns"]["tenure"]
    assert tenure["sampled"] is True
    assert tenure["fractions"] == pytest.approx([0.1] * 10, abs=0.01)
    write(customers(60_000, seed=5), tmp_path / "d.parquet")
    guard = one_guard("data: d.parquet\nchange: {drift: {columns: [tenure]}}\n")
    result = evaluate_data(guard, tmp_path, stats).results[0]
    assert result.status == "pass" and isinstance(result.observed, float)
    assert result.observed < 0.01


def test_every_common_type_profiles_and_drifts(tmp_path: Path) -> None:
    import datetime
    import decimal

    n = 100
    day = datetime.timedelta(days=1)
    table = pa.table(
        {
            "ts": pa.array(
                [datetime.datetime(2020, 1, 1) + i * day for i in range(n)],
                pa.timestamp("us", tz="UTC"),
            ),
            "d": pa.array([datetime.date(2020, 1, 1) + i * day for i in range(n)]),
            "t32": pa.array(range(n), pa.time32("s")),
            "dur": pa.array([datetime.timedelta(seconds=i) for i in range(n)]),
            "dec": pa.array([decimal.Decimal(i) / 10 for i in range(n)], pa.decimal128(10, 1)),
            "u64": pa.array(range(n), pa.uint64()),
            "f32": pa.array(range(n), pa.float32()),
            "cat": pa.array(["a", "b"] * 50).dictionary_encode(),
            "big": pa.array(["a"] * n, pa.large_string()),
            "flag": pa.array([True, False] * 50),
            "lst": pa.array([[i] for i in range(n)]),
            "raw": pa.array([b"x"] * n),
        }
    )
    body = "data: d.parquet\nchange: {drift: {}}\n"
    stats = reference(tmp_path, table, body)
    kinds = {c: v["kind"] for c, v in stats["columns"].items()}
    assert kinds == {
        **dict.fromkeys(["ts", "d", "t32", "dur", "dec", "u64", "f32"], "numeric"),
        **dict.fromkeys(["cat", "big", "flag"], "categorical"),
        "lst": "other",
        "raw": "other",
    }
    json.dumps(stats, allow_nan=False)
    write(table, tmp_path / "d.parquet")
    results = evaluate_data(one_guard(body), tmp_path, stats).results
    assert {r.column for r in results} == {c for c, k in kinds.items() if k != "other"}
    assert {r.status for r in results} == {"pass"}
