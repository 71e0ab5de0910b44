"""Clean and encode data/raw into data/prepared/{train,test}.parquet.

Reads every ``*.parquet`` under ``--raw`` (a file or a directory, walked in sorted
order), drops invalid rows (nulls, tenure outside 0..120, unknown plans, duplicate
customer ids), one-hot encodes the plan and splits train/test deterministically by
a hash of ``customer_id``: a customer stays on the same side when new data arrives.
The outputs hold the clean raw columns plus the encoded ``plan_*`` columns.
Parameters come from the ``prepare`` section of params.yaml.

The encoding (:func:`read_raw`, :func:`clean`, :func:`encode`) is shared with
src/evaluate.py and checks/golden.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

PLANS = ("basic", "pro", "team")
MAX_TENURE = 120.0
FEATURES = (
    "tenure",
    "monthly_charges",
    "support_calls",
    "plan_basic",
    "plan_pro",
    "plan_team",
)
LABEL = "churned"
DEFAULTS: dict[str, Any] = {"test_size": 0.25, "seed": 42}


def load_params(path: Path, section: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """Return ``defaults`` updated with ``section`` of the YAML file at ``path``."""
    data = yaml.safe_load(path.read_text()) if path.exists() else None
    body = (data or {}).get(section) or {}
    unknown = set(body) - set(defaults)
    if unknown:
        raise SystemExit(f"{path}: unknown {section} parameter(s): {', '.join(sorted(unknown))}")
    return {**defaults, **body}


def read_raw(path: Path) -> pa.Table:
    """Read one parquet file, or all ``*.parquet`` files under a directory."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
        if not files:
            raise SystemExit(f"{path}: no *.parquet files")
        return pa.concat_tables([pq.read_table(f) for f in files])
    if not path.exists():
        raise SystemExit(f"{path}: no such file or directory")
    return pq.read_table(path)


def clean(table: pa.Table) -> pa.Table:
    """Drop rows the model cannot use; keep the first row of a duplicated customer id."""
    cols = ["customer_id", "tenure", "monthly_charges", "plan", "support_calls", LABEL]
    valid = pc.and_kleene(
        pc.is_in(table.column("plan"), value_set=pa.array(PLANS)),
        pc.and_kleene(
            pc.and_kleene(
                pc.greater_equal(table.column("tenure"), 0.0),
                pc.less_equal(table.column("tenure"), MAX_TENURE),
            ),
            pc.and_kleene(
                pc.greater(table.column("monthly_charges"), 0.0),
                pc.greater_equal(table.column("support_calls"), 0),
            ),
        ),
    )
    for name in cols:
        valid = pc.and_kleene(valid, pc.is_valid(table.column(name)))
    table = table.filter(pc.fill_null(valid, False)).select(cols)
    ids = table.column("customer_id").to_numpy()
    _, first = np.unique(ids, return_index=True)
    if len(first) != len(ids):
        table = table.take(pa.array(np.sort(first)))
    return table


def encode(table: pa.Table) -> np.ndarray:
    """Return the float feature matrix (columns in :data:`FEATURES` order) of clean rows."""
    plan = np.asarray(table.column("plan").to_pylist(), dtype=object)
    columns = [
        table.column("tenure").to_numpy().astype(np.float64),
        table.column("monthly_charges").to_numpy().astype(np.float64),
        table.column("support_calls").to_numpy().astype(np.float64),
        *[(plan == p).astype(np.float64) for p in PLANS],
    ]
    return np.column_stack(columns)


def labels(table: pa.Table) -> np.ndarray:
    """The boolean label column of clean rows."""
    return np.asarray(table.column(LABEL).to_numpy(zero_copy_only=False), dtype=bool)


def is_test(ids: np.ndarray, test_size: float, seed: int) -> np.ndarray:
    """Stable per-customer split: a splitmix64 hash of (id, seed) into [0, 1)."""
    with np.errstate(over="ignore"):
        z = ids.astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53) < test_size


def prepared_table(table: pa.Table) -> pa.Table:
    """Clean raw columns plus the encoded features, as written to data/prepared/.

    Keeping the raw columns lets src/evaluate.py score any model on a prepared split.
    """
    x = encode(table)
    for j, name in enumerate(FEATURES):
        if name not in table.column_names:
            table = table.append_column(name, pa.array(x[:, j]))
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=Path("data/raw"))
    parser.add_argument("--out", type=Path, default=Path("data/prepared"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    params = load_params(args.params, "prepare", DEFAULTS)

    raw = read_raw(args.raw)
    table = clean(raw)
    if table.num_rows == 0:
        raise SystemExit(f"{args.raw}: no valid rows")
    test_mask = is_test(
        table.column("customer_id").to_numpy(), float(params["test_size"]), int(params["seed"])
    )
    prepared = prepared_table(table)
    args.out.mkdir(parents=True, exist_ok=True)
    train = prepared.filter(pa.array(~test_mask))
    test = prepared.filter(pa.array(test_mask))
    pq.write_table(train, args.out / "train.parquet")
    pq.write_table(test, args.out / "test.parquet")
    print(
        f"read {raw.num_rows} rows, kept {table.num_rows}; "
        f"train {train.num_rows}, test {test.num_rows} -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
