"""A real repository with two registered model versions, made without hooks
(so no commit has a gitml note: the values must come from the committed files)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Cli, git

PROJECT = """\
artifacts:
  churn:
    path: models/churn.pkl
    type: model
    metrics: metrics.json
"""


@dataclass
class History:
    root: Path
    v1: str  # commit of churn@v1.0.0 (in prod)
    v2: str  # commit of churn@v2.0.0 (latest)


def commit_version(cli: Cli, root: Path, model: str, params: str, metrics: dict[str, object],
                   message: str) -> str:  # fmt: skip
    (root / "models").mkdir(exist_ok=True)
    (root / "models" / "churn.pkl").write_text(model)
    (root / "params.yaml").write_text(params)
    (root / "metrics.json").write_text(json.dumps(metrics))
    cli("add", "models/churn.pkl")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    cli("register", "churn")
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def history(repo: Path, cli: Cli) -> Iterator[History]:
    (repo / "gitml.yaml").write_text(PROJECT)
    v1 = commit_version(
        cli,
        repo,
        "model one",
        "lr: 0.1\nmodel:\n  depth: 3\n  layers: [64, 32]\nname: base\n",
        {"accuracy": 0.8, "eval": {"auc": 0.7}, "rows": 100},
        "v1",
    )
    v2 = commit_version(
        cli,
        repo,
        "model two!",
        "lr: 0.05\nmodel:\n  depth: 4\n  layers: [64, 32]\nname: base\n",
        {"accuracy": 0.85, "eval": {"auc": 0.75}, "rows": 100, "f1": 0.6},
        "v2",
    )
    cli("promote", "churn@v1", "prod")
    yield History(repo, v1, v2)
