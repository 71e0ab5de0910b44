"""End-to-end checks of examples/churn: the scripts run as subprocesses in a copy.

The story (generate → prepare → train → evaluate on drifted data → retrain on
old+drifted data) runs once per module, as two independent chains in background
threads started with the module, to keep it fast: "prod" (clean data only) and
"retrained" (clean plus drifted data). The cheap tests run meanwhile.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn"
EMAIL = re.compile(r"^[a-z0-9._+-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")
RAW_SCHEMA = {
    "customer_id": pa.int64(),
    "tenure": pa.float64(),
    "monthly_charges": pa.float64(),
    "plan": pa.string(),
    "support_calls": pa.int64(),
    "email": pa.string(),
    "churned": pa.bool_(),
}
THRESHOLD = 0.80  # accuracy threshold of the model guard / monitor in gitml.yaml


def copy_example(dst: Path) -> Path:
    shutil.copytree(
        EXAMPLE,
        dst,
        ignore=shutil.ignore_patterns("data", "models", "metrics", "incoming", "__pycache__"),
    )
    return dst


def run(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def prod_chain(root: Path) -> dict[str, Any]:
    run(root, "src/generate.py", "--seed", "1", "--rows", "4000")
    run(root, "src/prepare.py")
    run(root, "src/train.py")
    golden = run(root, "checks/golden.py", check=False)
    run(root, "src/generate.py", "--seed", "2", "--rows", "2000", "--drift", "1.0",
        "--out", "incoming/drift.parquet")  # fmt: skip
    run(root, "src/evaluate.py", "--model", "models/churn.pkl", "--data",
        "incoming/drift.parquet", "--out", "metrics/eval_drift.json")  # fmt: skip
    return {
        "train": read_json(root / "metrics/churn.json"),
        "drift": read_json(root / "metrics/eval_drift.json"),
        "golden": golden,
    }


def retrained_chain(root: Path) -> dict[str, Any]:
    run(root, "src/generate.py", "--seed", "1", "--rows", "4000")
    run(root, "src/generate.py", "--seed", "3", "--rows", "4000", "--drift", "1.0",
        "--out", "data/raw/drift", "--parts", "4")  # fmt: skip
    run(root, "src/generate.py", "--seed", "2", "--rows", "2000", "--drift", "1.0",
        "--out", "incoming/drift.parquet")  # fmt: skip
    prepare = run(root, "src/prepare.py")
    run(root, "src/train.py")
    run(root, "src/evaluate.py", "--model", "models/churn.pkl", "--data",
        "incoming/drift.parquet", "--out", "metrics/eval_drift.json")  # fmt: skip
    return {
        "train": read_json(root / "metrics/churn.json"),
        "drift": read_json(root / "metrics/eval_drift.json"),
        "prepare": prepare.stdout,
    }


@pytest.fixture(scope="module", autouse=True)
def story_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Start both chains when the module starts; the cheap tests run meanwhile."""
    base = tmp_path_factory.mktemp("churn")
    prod_root = copy_example(base / "prod")
    retrained_root = copy_example(base / "retrained")
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {
            "prod": pool.submit(prod_chain, prod_root),
            "retrained": pool.submit(retrained_chain, retrained_root),
            "prod_root": prod_root,
            "retrained_root": retrained_root,
        }


@pytest.fixture
def story(story_runs: dict[str, Any]) -> dict[str, Any]:
    """The finished story (waits for the chains; re-raises their failures)."""
    return {k: v.result() if isinstance(v, Future) else v for k, v in story_runs.items()}


def test_generate_is_deterministic_and_valid(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "churn")
    run(root, "src/generate.py", "--seed", "7", "--rows", "500", "--out", "a.parquet")
    run(root, "src/generate.py", "--seed", "7", "--rows", "500", "--out", "parts", "--parts", "3")
    run(root, "src/generate.py", "--seed", "8", "--rows", "500", "--out", "b.parquet")
    a = pq.read_table(root / "a.parquet")
    parts = sorted((root / "parts").glob("*.parquet"))
    assert len(parts) == 3
    assert pa.concat_tables([pq.read_table(p) for p in parts]).equals(a)
    assert not pq.read_table(root / "b.parquet").equals(a)

    assert {f.name: f.type for f in a.schema} == RAW_SCHEMA
    assert a.num_rows == 500
    ids = a.column("customer_id")
    assert pc.count_distinct(ids).as_py() == 500
    assert all(col.null_count == 0 for col in a.columns)
    tenure = pc.min_max(a.column("tenure")).as_py()
    assert tenure["min"] >= 0.0 and tenure["max"] <= 120.0
    assert set(a.column("plan").to_pylist()) == {"basic", "pro", "team"}
    assert all(EMAIL.match(e) for e in a.column("email").to_pylist())
    assert 0.2 < pc.mean(a.column("churned").cast(pa.float64())).as_py() < 0.7


def test_corrupt_rows_are_injected_and_dropped_by_prepare(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "churn")
    run(root, "src/generate.py", "--seed", "1", "--rows", "1000", "--corrupt")
    raw = pq.read_table(root / "data/raw/customers.parquet")
    tenure = raw.column("tenure")
    assert tenure.null_count > 0
    assert pc.sum(pc.less(tenure, 0.0)).as_py() > 0
    assert "enterprise" in raw.column("plan").to_pylist()
    assert not all(EMAIL.match(e) for e in raw.column("email").to_pylist())
    assert pc.count_distinct(raw.column("customer_id")).as_py() < raw.num_rows

    # 3 rows of each of 5 kinds; prepare keeps the malformed emails (not a feature).
    out = run(root, "src/prepare.py").stdout
    assert "read 1000 rows, kept 988;" in out
    train = pq.read_table(root / "data/prepared/train.parquet")
    test = pq.read_table(root / "data/prepared/test.parquet")
    assert train.num_rows + test.num_rows == 988
    both = pa.concat_tables([train, test])
    assert both.column("tenure").null_count == 0
    assert pc.min(both.column("tenure")).as_py() >= 0.0
    assert set(both.column("plan").to_pylist()) <= {"basic", "pro", "team"}
    assert pc.count_distinct(both.column("customer_id")).as_py() == 988


def test_clean_model_is_accurate_and_passes_golden(story: dict[str, Any]) -> None:
    metrics = story["prod"]["train"]
    assert set(metrics) == {"accuracy", "auc", "f1"}
    assert all(round(v, 4) == v for v in metrics.values())
    assert 0.85 <= metrics["accuracy"] <= 0.92, metrics
    assert metrics["auc"] >= 0.9, metrics
    golden = story["prod"]["golden"]
    assert golden.returncode == 0, golden.stdout + golden.stderr
    assert "5/5 cases pass" in golden.stdout
    assert (story["prod_root"] / "models/churn.pkl").read_bytes()[:1] == b"\x80"  # a pickle


def test_golden_fails_on_a_bad_model(tmp_path: Path) -> None:
    """An always-churn model (no scikit-learn needed to unpickle it) fails the check."""
    root = copy_example(tmp_path / "churn")
    (tmp_path / "alwayschurn.py").write_text(
        "import numpy as np\n\n\n"
        "class AlwaysChurn:\n"
        "    def predict_proba(self, x):\n"
        "        return np.tile([0.0, 1.0], (len(x), 1))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    subprocess.run(
        [sys.executable, "-c", "import pickle, alwayschurn, pathlib; "
         "pathlib.Path('bad.pkl').write_bytes(pickle.dumps(alwayschurn.AlwaysChurn()))"],
        cwd=root, env=env, check=True, timeout=60,
    )  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "checks/golden.py", "--model", "bad.pkl"],
        cwd=root, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "golden: 2/5 cases pass" in proc.stdout
    assert proc.stdout.count("FAIL") == 3


def test_prepared_split_is_stable(story: dict[str, Any]) -> None:
    """A clean customer lands on the same side of the split with or without new data."""
    prod = pq.read_table(story["prod_root"] / "data/prepared/test.parquet")
    retrained = pq.read_table(story["retrained_root"] / "data/prepared/test.parquet")
    old_ids = set(prod.column("customer_id").to_pylist())
    new_ids = set(retrained.column("customer_id").to_pylist())
    assert old_ids and old_ids < new_ids
    assert "read 8000 rows, kept 8000;" in story["retrained"]["prepare"]


def test_drift_degrades_the_old_model(story: dict[str, Any]) -> None:
    clean = story["prod"]["train"]["accuracy"]
    drift = story["prod"]["drift"]
    assert drift["rows"] == 2000
    assert set(drift) == {"accuracy", "auc", "f1", "rows"}
    assert drift["accuracy"] < THRESHOLD - 0.1, drift
    assert drift["accuracy"] < clean - 0.15


def test_retraining_on_old_and_drifted_data_recovers(story: dict[str, Any]) -> None:
    old = story["prod"]["drift"]["accuracy"]
    retrained = story["retrained"]
    assert retrained["train"]["accuracy"] >= THRESHOLD, retrained["train"]
    assert retrained["drift"]["accuracy"] >= THRESHOLD + 0.03, retrained["drift"]
    assert retrained["drift"]["accuracy"] > old + 0.15
