"""Golden-case check of the churn model: exit 0 if every hand-written case passes.

    python checks/golden.py [--model models/churn.pkl]

Each case is a customer in the raw schema whose outcome is obvious to a human
(a loyal ten-year customer on a cheap plan stays; a brand-new, expensive customer
who keeps calling support leaves). The customers go through prepare's cleaning
and encoding, so the check also catches a model/encoding mismatch.
"""

from __future__ import annotations

import argparse
import importlib
import pickle
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa

SRC = Path(__file__).resolve().parent.parent / "src"

# (name, customer, expected churned)
CASES: list[tuple[str, dict[str, Any], bool]] = [
    (
        "loyal ten-year basic customer, no support calls",
        {"tenure": 118.0, "monthly_charges": 32.0, "plan": "basic", "support_calls": 0},
        False,
    ),
    (
        "long-tenure team customer, one support call",
        {"tenure": 90.0, "monthly_charges": 70.0, "plan": "team", "support_calls": 1},
        False,
    ),
    (
        "two-year pro customer, few calls, moderate price",
        {"tenure": 48.0, "monthly_charges": 45.0, "plan": "pro", "support_calls": 0},
        False,
    ),
    (
        "brand-new expensive customer calling support every week",
        {"tenure": 1.0, "monthly_charges": 140.0, "plan": "pro", "support_calls": 7},
        True,
    ),
    (
        "three-month basic customer with many support calls and a high bill",
        {"tenure": 3.0, "monthly_charges": 110.0, "plan": "basic", "support_calls": 6},
        True,
    ),
]


def cases_table() -> pa.Table:
    rows = [dict(customer, customer_id=i + 1) for i, (_, customer, _) in enumerate(CASES)]
    return pa.table(
        {
            "customer_id": pa.array([r["customer_id"] for r in rows], pa.int64()),
            "tenure": pa.array([r["tenure"] for r in rows], pa.float64()),
            "monthly_charges": pa.array([r["monthly_charges"] for r in rows], pa.float64()),
            "plan": pa.array([r["plan"] for r in rows], pa.string()),
            "support_calls": pa.array([r["support_calls"] for r in rows], pa.int64()),
            "email": pa.array([f"golden{r['customer_id']}@example.com" for r in rows]),
            "churned": pa.array([expected for _, _, expected in CASES], pa.bool_()),
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/churn.pkl"))
    args = parser.parse_args(argv)

    sys.path.insert(0, str(SRC))
    prepare = importlib.import_module("prepare")
    table = prepare.clean(cases_table())
    if table.num_rows != len(CASES):
        print("golden: a case was dropped by prepare.clean; fix the case", file=sys.stderr)
        return 2
    model = pickle.loads(args.model.read_bytes())
    proba = model.predict_proba(prepare.encode(table))[:, 1]
    failed = 0
    for (name, _, expected), p in zip(CASES, proba, strict=True):
        ok = bool(p >= 0.5) == expected
        failed += not ok
        verdict = "ok  " if ok else "FAIL"
        print(f"{verdict} {name}: p(churn)={p:.3f}, expected churned={expected}")
    print(f"golden: {len(CASES) - failed}/{len(CASES)} cases pass")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
