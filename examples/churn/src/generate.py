"""Write synthetic, deterministic customer-churn data as parquet.

The "world" is a logistic model over the customer features. ``--drift`` (0..1)
moves the customers (shorter tenure, higher prices, more support calls, more
basic plans) and changes what drives churn: the old drivers (tenure, support
calls) get weaker and price becomes the dominant one, so a model trained on
drift-0 data loses accuracy on drifted data until it is retrained on it.

``--corrupt`` injects rows a data guard must reject: null and negative tenure,
an unknown plan, a malformed email and a duplicate customer_id.

    python src/generate.py --seed 1 --rows 4000 --out data/raw/customers.parquet
    python src/generate.py --seed 2 --drift 1.0 --out data/raw/drift --parts 4
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

PLANS = ("basic", "pro", "team")
UNKNOWN_PLAN = "enterprise"
MAX_TENURE = 120.0
SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("tenure", pa.float64()),
        ("monthly_charges", pa.float64()),
        ("plan", pa.string()),
        ("support_calls", pa.int64()),
        ("email", pa.string()),
        ("churned", pa.bool_()),
    ]
)
# Coefficients of the true churn logit, before (drift 0) and after (drift 1) the shift.
OLD_WORLD = {"bias": 0.2, "tenure": -0.085, "calls": 1.1, "charges": 0.025, "team": -0.6}
NEW_WORLD = {"bias": 0.2, "tenure": -0.02, "calls": 0.25, "charges": 0.09, "team": 0.9}
SHARPNESS = 2.4
EMAIL_DOMAINS = ("example.com", "mail.example.org", "corp.example.net")


def _world(drift: float) -> dict[str, float]:
    return {k: (1.0 - drift) * OLD_WORLD[k] + drift * NEW_WORLD[k] for k in OLD_WORLD}


def generate(rows: int, seed: int, drift: float = 0.0, id_start: int | None = None) -> pa.Table:
    """Return ``rows`` customers; the same arguments always give the same table."""
    if rows < 1:
        raise ValueError("rows must be >= 1")
    if not 0.0 <= drift <= 1.0:
        raise ValueError("drift must be in [0, 1]")
    rng = np.random.default_rng(seed)
    start = seed * 1_000_000 + 1 if id_start is None else id_start
    ids = np.arange(start, start + rows, dtype=np.int64)

    plan_p = np.array([0.45 + 0.2 * drift, 0.35 - 0.1 * drift, 0.20 - 0.1 * drift])
    plan_idx = rng.choice(len(PLANS), size=rows, p=plan_p / plan_p.sum())
    tenure = np.clip(rng.gamma(2.0, 15.0 * (1.0 - 0.45 * drift), size=rows), 0.0, MAX_TENURE)
    base_price = np.array([30.0, 65.0, 105.0])[plan_idx]
    charges = np.clip(base_price + rng.normal(15.0 * drift, 12.0, size=rows), 10.0, 200.0)
    calls = rng.poisson(1.5 + 1.0 * drift, size=rows).astype(np.int64)

    w = _world(drift)
    logit = (
        w["bias"]
        + w["tenure"] * (tenure - 24.0)
        + w["calls"] * (calls - 1.5)
        + w["charges"] * (charges - 60.0)
        + w["team"] * (plan_idx == 2)
    )
    churned = rng.random(rows) < 1.0 / (1.0 + np.exp(-SHARPNESS * logit))

    domains = rng.choice(len(EMAIL_DOMAINS), size=rows)
    emails = [f"customer{i}@{EMAIL_DOMAINS[d]}" for i, d in zip(ids, domains, strict=True)]
    return pa.table(
        {
            "customer_id": ids,
            "tenure": np.round(tenure, 1),
            "monthly_charges": np.round(charges, 2),
            "plan": [PLANS[i] for i in plan_idx],
            "support_calls": calls,
            "email": emails,
            "churned": churned,
        },
        schema=SCHEMA,
    )


def corrupt(table: pa.Table, seed: int) -> pa.Table:
    """Return ``table`` with bad rows a data guard must reject (3 of each kind).

    Kinds: null tenure, negative tenure, unknown plan, malformed email, duplicate
    customer_id. prepare.py drops all but the malformed emails (email is not a
    feature), so only the data guard notices those.
    """
    n = table.num_rows
    if n < 2:
        raise ValueError("--corrupt needs at least 2 rows")
    rng = np.random.default_rng(seed + 7919)
    bad = rng.choice(np.arange(1, n), size=min(n - 1, 15), replace=False)
    ids = table.column("customer_id").to_pylist()
    tenure = table.column("tenure").to_pylist()
    plan = table.column("plan").to_pylist()
    email = table.column("email").to_pylist()
    for k, i in enumerate(bad):
        kind = k % 5
        if kind == 0:
            tenure[i] = None
        elif kind == 1:
            tenure[i] = -abs(tenure[i] or 0.0) - 5.0
        elif kind == 2:
            plan[i] = UNKNOWN_PLAN
        elif kind == 3:
            email[i] = f"customer {ids[i]} at example dot com"
        else:
            ids[i] = ids[0]
    columns = {"customer_id": ids, "tenure": tenure, "plan": plan, "email": email}
    for name, values in columns.items():
        index = SCHEMA.get_field_index(name)
        field = SCHEMA.field(index)
        table = table.set_column(index, field, pa.array(values, field.type))
    return table


def write(table: pa.Table, out: Path, parts: int) -> list[Path]:
    """Write one file if ``out`` ends in .parquet, else ``parts`` files into directory ``out``."""
    if out.suffix == ".parquet":
        if parts != 1:
            raise ValueError("--parts needs a directory --out, not a .parquet file")
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out)
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, table.num_rows, parts + 1).astype(int)
    written = []
    for k in range(parts):
        path = out / f"part-{k:04d}.parquet"
        pq.write_table(table.slice(bounds[k], bounds[k + 1] - bounds[k]), path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--drift", type=float, default=0.0, help="0 (none) .. 1 (full shift)")
    parser.add_argument("--corrupt", action="store_true", help="inject rows a guard must reject")
    parser.add_argument(
        "--id-start", type=int, default=None, help="first customer_id (default seed*1e6+1)"
    )
    parser.add_argument("--out", type=Path, default=Path("data/raw/customers.parquet"))
    parser.add_argument("--parts", type=int, default=1, help="files to write when --out is a dir")
    args = parser.parse_args(argv)
    if args.parts < 1:
        parser.error("--parts must be >= 1")
    try:
        table = generate(args.rows, args.seed, args.drift, args.id_start)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        if args.corrupt:
            table = corrupt(table, args.seed)
        paths = write(table, args.out, args.parts)
    except ValueError as exc:
        parser.error(str(exc))
    churn_rate = float(np.mean(table.column("churned").to_numpy(zero_copy_only=False)))
    print(
        f"wrote {table.num_rows} rows (churn rate {churn_rate:.2f}, drift {args.drift}"
        f"{', corrupt' if args.corrupt else ''}) to {len(paths)} file(s) under {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
