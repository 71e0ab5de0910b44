"""A data registry and a consumer, as two real repositories on disk.

``registry``: git and gitml initialised, a folder data remote ``store`` (the
default), two commits (``v1``, ``v2`` tags too) of ``data/customers.csv``, a
tracked folder ``data/imgs``, a scikit-learn model saved with skops, declared
as artifact ``churn`` with ``metrics.json`` and ``params.yaml``; ``churn`` is
registered at both commits and v2 is in stage ``prod``; both are pushed.
``consumer``: an empty repository with gitml initialised, no data remote.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import GIT_ENV, git, run_gitml

CSV_V1 = b"id,x\n1,2\n"
CSV_V2 = b"id,x\n1,2\n3,4\n"
GITML_YAML = "artifacts:\n  churn:\n    path: models/model.skops\n    metrics: metrics.json\n"


@dataclass(frozen=True)
class Repos:
    registry: Path
    store: Path
    consumer: Path


def gitml(cwd: Path, *args: str) -> str:
    return run_gitml(cwd, *args, check=True).stdout


class _Builder:
    """Runs git and gitml with its own HOME, so it can run outside a test."""

    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
        self.env = {**os.environ, **GIT_ENV, "HOME": str(home),
                    "XDG_CONFIG_HOME": str(home / ".config"),
                    "XDG_CACHE_HOME": str(home / ".cache")}  # fmt: skip

    def git(self, cwd: Path, *args: str) -> None:
        subprocess.run(["git", *args], cwd=cwd, env=self.env, check=True, capture_output=True)

    def gitml(self, cwd: Path, *args: str) -> None:
        proc = subprocess.run([sys.executable, "-m", "gitml", *args], cwd=cwd, env=self.env,
                              capture_output=True, text=True)  # fmt: skip
        assert proc.returncode == 0, f"gitml {' '.join(args)}: {proc.stdout}{proc.stderr}"


def save_model(path: Path, c: float) -> None:
    import numpy as np
    import skops.io as sio  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    model = LogisticRegression(C=c).fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, path)


def _version(b: _Builder, reg: Path, csv: bytes, auc: float, lr: float, c: float, tag: str) -> None:
    (reg / "data" / "customers.csv").write_bytes(csv)
    (reg / "metrics.json").write_text(json.dumps({"auc": auc}))
    (reg / "params.yaml").write_text(f"train:\n  lr: {lr}\n")
    save_model(reg / "models" / "model.skops", c)
    b.gitml(reg, "add", "data/customers.csv", "data/imgs", "models/model.skops")
    b.git(reg, "add", "-A")
    b.git(reg, "commit", "-q", "-m", tag)
    b.git(reg, "tag", tag)
    b.gitml(reg, "register", "churn")
    b.gitml(reg, "push")


def build_registry(folder: Path) -> None:
    """``folder/registry`` and its data remote ``folder/store`` (see the module)."""
    b = _Builder(folder / "builder-home")
    reg = folder / "registry"
    (reg / "data" / "imgs").mkdir(parents=True)
    b.git(reg, "init", "-q", "-b", "main")
    b.gitml(reg, "init", "--no-hooks")
    b.gitml(reg, "remote", "add", "store", "../store", "--default")
    (reg / "gitml.yaml").write_text(GITML_YAML)
    (reg / "data" / "imgs" / "a.txt").write_bytes(b"a\n")
    (reg / "data" / "imgs" / "b.txt").write_bytes(b"b\n")
    _version(b, reg, CSV_V1, 0.8, 0.1, 1.0, "v1")
    (reg / "data" / "imgs" / "c.txt").write_bytes(b"c\n")
    _version(b, reg, CSV_V2, 0.9, 0.2, 2.0, "v2")
    b.gitml(reg, "promote", "churn@v2.0.0", "prod")


def registry_and_consumer(built: Path, tmp_path: Path) -> Repos:
    """A copy of a :func:`build_registry` folder in ``tmp_path``, and a consumer."""
    for name in ("registry", "store"):
        shutil.copytree(built / name, tmp_path / name, symlinks=True)
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    git(consumer, "init", "-q", "-b", "main")
    gitml(consumer, "init", "--no-hooks")
    return Repos(tmp_path / "registry", tmp_path / "store", consumer)
