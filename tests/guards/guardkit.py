"""Test helpers: small real datasets written into tmp_path, a one-guard spec builder."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from gitml.project.file import parse_project
from gitml.project.guardspec import Guard


def customers(n: int = 1000, seed: int = 0, *, shift: float = 0.0) -> pa.Table:
    """A churn-like table; ``shift`` moves tenure up and plans towards 'team'."""
    rng = np.random.default_rng(seed)
    plans = rng.choice(["basic", "pro", "team"], n, p=[0.5 - shift / 3, 0.3, 0.2 + shift / 3])
    return pa.table(
        {
            "customer_id": pa.array(np.arange(n), pa.int64()),
            "tenure": pa.array(np.clip(rng.normal(40 + 40 * shift, 15, n), 0, 120)),
            "plan": pa.array(plans),
            "email": pa.array([f"user{i}@example.com" for i in range(n)]),
            "churned": pa.array(rng.random(n) < 0.2),
        }
    )


def write(table: pa.Table, path: Path, fmt: str | None = None) -> Path:
    """Write ``table`` in the format named by ``fmt`` or by the path's extension."""
    import pyarrow.csv as pacsv
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = fmt or path.suffix.lstrip(".")
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "csv":
        pacsv.write_csv(table, path)
    elif fmt == "tsv":
        pacsv.write_csv(table, path, pacsv.WriteOptions(delimiter="\t"))
    elif fmt == "jsonl":
        import json

        with open(path, "w") as fh:
            for row in table.to_pylist():
                fh.write(json.dumps(row) + "\n")
    elif fmt == "feather":
        feather.write_feather(table, path)
    else:  # pragma: no cover
        raise ValueError(fmt)
    return path


def one_guard(body: str, name: str = "g") -> Guard:
    """Parse ``guards: {name: <body>}`` (body is YAML, indentation-free)."""
    text = f"guards:\n  {name}:\n" + textwrap.indent(textwrap.dedent(body), "    ")
    return parse_project(text).guards.guards[name]


def by_rule(results: list[Any], rule: str, column: str | None = None) -> Any:
    found = [r for r in results if r.rule == rule and (column is None or r.column == column)]
    assert len(found) == 1, (rule, column, results)
    return found[0]
