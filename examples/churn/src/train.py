"""Train the churn classifier on data/prepared/train.parquet.

Pickles the fitted scikit-learn estimator to models/churn.pkl and writes
accuracy, auc and f1 on data/prepared/test.parquet to metrics/churn.json
(rounded to 4 places). Parameters come from the ``train`` section of params.yaml;
the same data and parameters give the same model and metrics.
"""

from __future__ import annotations

import argparse
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from prepare import FEATURES, LABEL, load_params
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

MODELS = ("gradient_boosting", "logistic_regression")
DEFAULTS: dict[str, Any] = {
    "model": "gradient_boosting",
    "n_estimators": 120,
    "max_depth": 3,
    "learning_rate": 0.1,
    "C": 1.0,
    "seed": 42,
}


def build(params: dict[str, Any]) -> Any:
    """Return an unfitted estimator for ``params``."""
    if params["model"] == "gradient_boosting":
        return GradientBoostingClassifier(
            n_estimators=int(params["n_estimators"]),
            max_depth=int(params["max_depth"]),
            learning_rate=float(params["learning_rate"]),
            random_state=int(params["seed"]),
        )
    if params["model"] == "logistic_regression":
        return make_pipeline(
            StandardScaler(), LogisticRegression(C=float(params["C"]), max_iter=1000)
        )
    raise SystemExit(f"train.model must be one of {', '.join(MODELS)}, not {params['model']!r}")


def load_xy(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix and labels of a prepared parquet file."""
    table = pq.read_table(path)
    x = np.column_stack([table.column(f).to_numpy() for f in FEATURES]).astype(np.float64)
    y = table.column(LABEL).to_numpy(zero_copy_only=False).astype(bool)
    return x, y


def score(model: Any, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """accuracy, auc and f1 of ``model`` on (x, y), rounded to 4 places."""
    proba = model.predict_proba(x)[:, 1]
    pred = proba >= 0.5
    auc = roc_auc_score(y, proba) if len(np.unique(y)) == 2 else float("nan")
    return {
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "auc": round(float(auc), 4),
        "f1": round(float(f1_score(y, pred, zero_division=0.0)), 4),
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/prepared"))
    parser.add_argument("--model", type=Path, default=Path("models/churn.pkl"))
    parser.add_argument("--metrics", type=Path, default=Path("metrics/churn.json"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    params = load_params(args.params, "train", DEFAULTS)

    x_train, y_train = load_xy(args.data / "train.parquet")
    x_test, y_test = load_xy(args.data / "test.parquet")
    model = build(params)
    model.fit(x_train, y_train)
    metrics = score(model, x_test, y_test)

    args.model.parent.mkdir(parents=True, exist_ok=True)
    args.model.write_bytes(pickle.dumps(model, protocol=5))
    write_json(args.metrics, metrics)
    print(f"trained {params['model']} on {len(y_train)} rows; test {json.dumps(metrics)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
