"""Data rules on real files: every format, every rule passing and failing."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gitml.guards.data import evaluate_data
from tests.guards.guardkit import by_rule, customers, one_guard, write

RULES = """\
data: {path}
rows: {{min: 100, max: 100000}}
rules:
  - {{column: tenure, null_fraction: {{max: 0.01}}}}
  - {{column: tenure, range: {{min: 0, max: 120}}}}
  - {{column: plan, allowed: [basic, pro, team]}}
  - {{column: email, regex: '^[^@]+@[^@]+$'}}
  - {{column: customer_id, unique: true}}
"""


@pytest.mark.parametrize(
    "name", ["c.parquet", "c.csv", "c.tsv", "c.jsonl", "c.feather", "c.ndjson", "c.arrow"]
)
def test_every_format_passes_every_rule(tmp_path: Path, name: str) -> None:
    fmt = {"ndjson": "jsonl", "arrow": "feather"}.get(name.split(".")[1])
    write(customers(500), tmp_path / "data" / name, fmt)
    outcome = evaluate_data(one_guard(RULES.format(path=f"data/{name}")), tmp_path, None)
    assert [r.status for r in outcome.results] == ["pass"] * 6, outcome.results
    assert by_rule(outcome.results, "rows").observed == 500


def test_directory_of_parquet_files_and_compressed_csv(tmp_path: Path) -> None:
    for i in range(3):
        write(customers(200, seed=i).slice(0, 200), tmp_path / "d" / f"part-{i}.parquet")
    (tmp_path / "d" / "_SUCCESS").write_text("")
    (tmp_path / "d" / "README.md").write_text("not data")
    outcome = evaluate_data(one_guard("data: d\nrows: {min: 600, max: 600}\n"), tmp_path, None)
    assert by_rule(outcome.results, "rows").status == "pass"
    table = customers(300)
    write(table, tmp_path / "plain.csv")
    with gzip.open(tmp_path / "z.csv.gz", "wb") as fh:
        fh.write((tmp_path / "plain.csv").read_bytes())
    outcome = evaluate_data(one_guard(RULES.format(path="z.csv.gz")), tmp_path, None)
    assert {r.status for r in outcome.results} == {"pass"}


def bad_table() -> pa.Table:
    """100 rows: 2 null tenures, 3 negative, 1 too big; 2 'enterprise'; 5 bad emails; 1 dup id."""
    t = customers(100).to_pydict()
    t["tenure"][0] = t["tenure"][1] = None
    t["tenure"][2] = t["tenure"][3] = t["tenure"][4] = -1.0
    t["tenure"][5] = 500.0
    t["plan"][10] = t["plan"][11] = "enterprise"
    for i in range(20, 25):
        t["email"][i] = "no-at-sign"
    t["customer_id"][99] = 7
    return pa.table(t)


@pytest.mark.parametrize("name", ["bad.parquet", "bad.csv", "bad.jsonl"])
def test_each_rule_fails_with_observed_and_expected(tmp_path: Path, name: str) -> None:
    write(bad_table(), tmp_path / name)
    results = evaluate_data(one_guard(RULES.format(path=name)), tmp_path, None).results
    nulls = by_rule(results, "null_fraction")
    assert (nulls.status, nulls.observed, nulls.expected) == ("fail", 0.02, {"max": 0.01})
    rng = by_rule(results, "range")
    assert rng.status == "fail"
    assert rng.observed == round(94 / 98, 6)  # 98 non-null, 4 outside
    assert rng.expected == {"min": 0.0, "max": 120.0, "mostly": 1.0}
    assert rng.details["violations"] == 4 and rng.details["min"] == -1.0
    allowed = by_rule(results, "allowed")
    assert (allowed.status, allowed.observed) == ("fail", 0.98)
    assert allowed.details["examples"] == ["enterprise"]
    regex = by_rule(results, "regex")
    assert (regex.status, regex.observed, regex.details["examples"]) == (
        "fail",
        0.95,
        ["no-at-sign"],
    )
    unique = by_rule(results, "unique")
    assert (unique.status, unique.observed) == ("fail", 0.98)
    assert unique.details["duplicated_examples"] == [7]
    assert by_rule(results, "rows").status == "pass"


def test_nan_is_outside_every_range(tmp_path: Path) -> None:
    write(pa.table({"x": [1.0, float("nan"), None, 2.0]}), tmp_path / "n.parquet")
    guard = one_guard("data: n.parquet\nrules:\n  - {column: x, range: {min: 0}}\n")
    result = evaluate_data(guard, tmp_path, None).results[0]
    assert (result.status, result.observed, result.details["nan"]) == ("fail", round(2 / 3, 6), 1)


def test_mostly_tolerates_a_fraction(tmp_path: Path) -> None:
    write(bad_table(), tmp_path / "bad.parquet")
    guard = one_guard("""\
        data: bad.parquet
        rules:
          - {column: tenure, range: {min: 0, max: 120}, mostly: 0.95}
          - {column: tenure, range: {min: 0, max: 120}, mostly: 0.97}
          - {column: email, regex: '@', mostly: 0.95}
          - {column: email, regex: '@', mostly: 0.96}
          - {column: customer_id, unique: true, mostly: 0.98}
        """)
    results = evaluate_data(guard, tmp_path, None).results
    assert [r.status for r in results] == ["pass", "fail", "pass", "fail", "pass"]
    assert isinstance(results[1].expected, dict) and results[1].expected["mostly"] == 0.97


def test_parquet_footers_answer_without_reading_rows(tmp_path: Path) -> None:
    write(customers(2000), tmp_path / "d" / "a.parquet")
    write(customers(1000, seed=1), tmp_path / "d" / "b.parquet")
    body = """\
        data: d
        schema: {columns: {customer_id: int64, tenure: double}}
        rows: {min: 3000, max: 3000}
        rules:
          - {column: tenure, null_fraction: {max: 0}}
          - {column: customer_id, range: {min: 0, max: 5000}}
        change:
          rows: {max_drop: 0.1}
        """
    outcome = evaluate_data(one_guard(body), tmp_path, {"rows": 3100, "columns": {}})
    assert outcome.rows_read == 0
    assert {r.status for r in outcome.results} == {"pass"}
    assert "Parquet statistics" in by_rule(outcome.results, "range").message
    # A violated range is not decided from the footer: the rows are read and counted.
    tight = one_guard(body.replace("max: 5000", "max: 1500"))
    outcome = evaluate_data(tight, tmp_path, None)
    assert outcome.rows_read == 3000
    rng = by_rule(outcome.results, "range")
    assert rng.status == "fail" and rng.details["violations"] == 499  # ids 1501..1999
    # A float range can hide NaN that statistics do not count: rows are read.
    floats = one_guard("data: d\nrules:\n  - {column: tenure, range: {min: 0}}\n")
    assert evaluate_data(floats, tmp_path, None).rows_read == 3000


def test_parquet_without_statistics_is_scanned(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    pq.write_table(customers(500), tmp_path / "d" / "a.parquet", write_statistics=False)
    guard = one_guard("data: d\nrules:\n  - {column: tenure, null_fraction: {max: 0}}\n")
    outcome = evaluate_data(guard, tmp_path, None)
    assert outcome.rows_read == 500 and outcome.results[0].status == "pass"


def test_schema_types_strict_and_missing(tmp_path: Path) -> None:
    write(customers(50), tmp_path / "c.parquet")
    guard = one_guard("""\
        data: c.parquet
        schema:
          columns: {customer_id: integer, tenure: float32, plan: text, churned: bool, x: any}
          strict: true
        """)
    results = evaluate_data(guard, tmp_path, None).results
    statuses = {(r.column, r.status) for r in results}
    assert statuses == {
        ("customer_id", "pass"),
        ("tenure", "fail"),
        ("plan", "pass"),
        ("churned", "pass"),
        ("x", "fail"),
        (None, "fail"),
    }
    tenure = next(r for r in results if r.column == "tenure")
    assert (tenure.observed, tenure.expected) == ("double", "float")
    assert next(r for r in results if r.column is None).observed == ["email"]


def test_files_with_different_schemas_fail_the_schema(tmp_path: Path) -> None:
    write(customers(50), tmp_path / "d" / "a.parquet")
    other = customers(50).set_column(0, "customer_id", pa.array(range(50), pa.int32()))
    write(other, tmp_path / "d" / "b.parquet")
    guard = one_guard("data: d\nschema: {columns: {customer_id: int64}}\n")
    result = evaluate_data(guard, tmp_path, None).results[0]
    assert result.status == "fail" and "b.parquet" in result.message


def test_hive_partitions_are_columns(tmp_path: Path) -> None:
    for region in ("eu", "us"):
        write(customers(100), tmp_path / "d" / f"region={region}" / "part.parquet")
    guard = one_guard("data: d\nrules:\n  - {column: region, allowed: [eu, us]}\n")
    outcome = evaluate_data(guard, tmp_path, None)
    assert outcome.results[0].status == "pass" and outcome.rows_read == 200


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "does not exist"),
        ("pointer", "not checked out"),
        ("corrupt", "cannot"),
        ("mixed", "mixes formats"),
        ("empty", "no data files"),
        ("unknown", "unknown data format"),
        ("badcsv", "cannot open"),
        ("badpart", "cannot read d: "),
    ],
)
def test_unreadable_data_is_an_error_result(tmp_path: Path, setup: str, message: str) -> None:
    path = "d"
    if setup == "pointer":
        (tmp_path / "d.gitml").write_text("gitml: 1\n")
    elif setup == "corrupt":
        path = "d.parquet"
        (tmp_path / path).write_bytes(b"PAR1 this is not parquet")
    elif setup == "mixed":
        write(customers(10), tmp_path / "d" / "a.parquet")
        write(customers(10), tmp_path / "d" / "b.csv")
    elif setup == "empty":
        (tmp_path / "d").mkdir()
        (tmp_path / "d" / "notes.txt").write_text("x")
    elif setup == "unknown":
        path = "d.bin"
        (tmp_path / path).write_bytes(b"x")
    elif setup == "badcsv":
        path = "d.csv"
        (tmp_path / path).write_text("a,b\n1,2\n3,4,5\n")
    elif setup == "badpart":  # the second file only fails while the rows are read
        (tmp_path / "d").mkdir()
        (tmp_path / "d" / "a.csv").write_text("a,b\n1,2\n")
        (tmp_path / "d" / "b.csv").write_text("a,b\n1,2\n3,4,5\n")
    guard = one_guard(f"data: {path}\nrows: {{min: 1}}\n")
    results = evaluate_data(guard, tmp_path, None).results
    assert results[-1].status == "error" and results[-1].rule == "read"
    assert message in results[-1].message
    assert str(tmp_path) not in results[-1].message


def test_rules_that_do_not_fit_the_column_are_errors(tmp_path: Path) -> None:
    write(customers(20), tmp_path / "c.parquet")
    guard = one_guard("""\
        data: c.parquet
        rules:
          - {column: customer_id, regex: '^1'}
          - {column: plan, range: {min: 0}}
          - {column: plan, allowed: [1, 2]}
          - {column: nope, unique: true}
        """)
    results = evaluate_data(guard, tmp_path, None).results
    assert [(r.rule, r.status) for r in results] == [
        ("regex", "error"),
        ("range", "error"),
        ("allowed", "error"),
        ("unique", "fail"),
    ]
    assert "missing" in results[3].message


def test_duplicates_across_batches_and_files(tmp_path: Path) -> None:
    n = 70_000  # more than one batch per file
    write(customers(n), tmp_path / "d" / "a.parquet")
    write(customers(10).slice(5, 1), tmp_path / "d" / "b.parquet")  # id 5 again
    guard = one_guard("data: d\nrules:\n  - {column: customer_id, unique: true}\n")
    result = evaluate_data(guard, tmp_path, None).results[0]
    assert result.status == "fail" and result.details["duplicated_examples"] == [5]
    assert result.details["violations"] == 2


def test_dictionary_columns_are_decoded(tmp_path: Path) -> None:
    table = customers(100)
    table = table.set_column(2, "plan", table.column("plan").dictionary_encode())
    write(table, tmp_path / "c.parquet")
    guard = one_guard("""\
        data: c.parquet
        schema: {columns: {plan: text}}
        rules:
          - {column: plan, allowed: [basic, pro]}
          - {column: plan, regex: '^(basic|pro|team)$'}
        """)
    results = evaluate_data(guard, tmp_path, None).results
    assert [r.status for r in results] == ["pass", "fail", "pass"]
