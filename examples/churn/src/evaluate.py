"""Evaluate a pickled churn model on new labelled raw data (the monitoring command).

    python src/evaluate.py --model models/churn.pkl --data data/raw --out metrics/eval.json

``--data`` is a parquet file or a directory of parquet files in the raw schema, or a
prepared split such as data/prepared/test.parquet; it goes through prepare's
cleaning and encoding (invalid rows are not counted). Writes
``{"accuracy": ..., "auc": ..., "f1": ..., "rows": N}`` (N = rows evaluated).
"""

from __future__ import annotations

import argparse
import json
import pickle
from pathlib import Path

from prepare import clean, encode, labels, read_raw
from train import score, write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/churn.pkl"))
    parser.add_argument("--data", type=Path, required=True, help="parquet file or directory")
    parser.add_argument("--out", type=Path, default=Path("metrics/eval.json"))
    args = parser.parse_args(argv)

    table = clean(read_raw(args.data))
    if table.num_rows == 0:
        raise SystemExit(f"{args.data}: no valid rows to evaluate")
    model = pickle.loads(args.model.read_bytes())
    result: dict[str, float | int] = {**score(model, encode(table), labels(table))}
    result["rows"] = table.num_rows
    write_json(args.out, result)
    print(f"{args.model} on {args.data}: {json.dumps(result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
