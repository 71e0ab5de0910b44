"""A DVC project shaped like DVC's own example-get-started, built with the real
``dvc`` CLI: a ``dvc import`` from a DVC data registry on disk, four stages
(one frozen after the first version), top-level ``artifacts:``, ``metrics:``
and ``plots:``, a folder remote, two GTO-registered versions of the model (v2 in ``prod``), and one
experiment (``refs/exps``). The registry gets a second version of its data
after the import, so ``gitml update`` has somewhere to go.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.interop.conftest import dvc_env

DVC_RUN = r"""
import sys
from dvc.cli import main

for line in sys.stdin.read().splitlines():
    args = line.split("\t")
    rc = main(args)
    if rc != 0:
        sys.exit(f"dvc {' '.join(args)} exited {rc}")
"""

PREPARE = """\
import json, pathlib, yaml
p = yaml.safe_load(open("params.yaml"))["prepare"]
text = pathlib.Path("data/data.xml").read_text()
out = pathlib.Path("data/prepared"); out.mkdir(parents=True, exist_ok=True)
(out / "train.txt").write_text(text * 2)
(out / "test.txt").write_text(text + str(p["split"]))
"""
TRAIN = """\
import pathlib, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
text = pathlib.Path("data/prepared/train.txt").read_text()
pathlib.Path("model.pkl").write_bytes(("model %d " % p["n_est"]).encode() + text.encode())
"""
EVALUATE = """\
import json, pathlib, yaml
n = yaml.safe_load(open("params.yaml"))["train"]["n_est"]
pathlib.Path("eval/plots").mkdir(parents=True, exist_ok=True)
auc = round(0.5 + n / 100, 4)
metrics = {"avg_prec": round(auc - 0.1, 4), "roc_auc": auc}
pathlib.Path("eval/metrics.json").write_text(json.dumps(metrics))
roc = [{"fpr": i / 4, "tpr": min(1.0, (i / 4) ** 0.5 + n / 1000)} for i in range(5)]
pathlib.Path("eval/plots/roc.json").write_text(json.dumps({"roc": roc}))
cm = [{"actual": a, "predicted": b} for a, b in [(0, 0), (0, 1), (1, 1), (1, 1), (0, 0)]]
pathlib.Path("eval/plots/cm.json").write_text(json.dumps(cm))
pathlib.Path("eval/importance.png").write_bytes(bytes.fromhex(PNG))
"""
# A 1x1 PNG (a real image for the report to embed).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201e5273d5e0000000049454e44ae426082"
)
DVC_YAML = """\
stages:
  prepare:
    cmd: python src/prepare.py
    deps: [data/data.xml, src/prepare.py]
    params: [prepare.split]
    outs: [data/prepared]
  train:
    cmd: python src/train.py
    deps: [data/prepared, src/train.py]
    params: [train.n_est]
    outs: [model.pkl]
  evaluate:
    cmd: python src/evaluate.py
    deps: [model.pkl, src/evaluate.py]
    metrics:
    - eval/metrics.json:
        cache: false
    plots:
    - eval/plots/roc.json:
        cache: false
        template: simple
        x: fpr
        y: tpr
    - eval/importance.png:
        cache: false
  archive:
    cmd: cp model.pkl archive.pkl
    deps: [model.pkl]
    outs: [archive.pkl]
metrics:
- eval/metrics.json
plots:
- Confusion-Matrix:
    template: confusion
    x: actual
    y:
      eval/plots/cm.json: predicted
artifacts:
  text-classification:
    path: model.pkl
    type: model
    desc: Detect sentiment
    labels: [nlp, classification]
"""


def _git(env: dict[str, str], cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def _dvc(env: dict[str, str], cwd: Path, *commands: list[str]) -> None:
    script = "\n".join("\t".join(c) for c in commands)
    proc = subprocess.run([sys.executable, "-c", DVC_RUN], cwd=cwd, env=env, input=script,
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _registry(env: dict[str, str], base: Path) -> Path:
    reg = base / "registry"
    (reg / "data").mkdir(parents=True)
    _git(env, reg, "init", "-q", "-b", "main")
    (reg / "data" / "data.xml").write_text("<posts>v1</posts>\n")
    remote = ["remote", "add", "-q", "-d", "store", str(base / "registry-remote")]
    _dvc(env, reg, ["init", "-q"], ["add", "-q", "data/data.xml"], remote, ["push", "-q"])
    _git(env, reg, "add", "-A")
    _git(env, reg, "commit", "-q", "-m", "data v1")
    return reg


def registry_v2(env: dict[str, str], reg: Path) -> None:
    (reg / "data" / "data.xml").write_text("<posts>v2</posts>\n")
    _dvc(env, reg, ["add", "-q", "data/data.xml"], ["push", "-q"])
    _git(env, reg, "commit", "-q", "-am", "data v2")


def _version(env: dict[str, str], root: Path, n_est: int, version: str, message: str) -> None:
    (root / "params.yaml").write_text(f"prepare:\n  split: 0.2\ntrain:\n  n_est: {n_est}\n")
    _dvc(env, root, ["repro", "-q"], ["push", "-q"])
    _git(env, root, "add", "-A")
    _git(env, root, "commit", "-q", "-m", message)
    _git(env, root, "tag", "-a", f"text-classification@{version}", "-m",
         f"Registering artifact text-classification version {version}")  # fmt: skip


def build(base: Path) -> tuple[Path, Path]:
    """``base/project`` and ``base/registry`` (see the module docstring)."""
    (base / "home").mkdir(parents=True)
    (base / "home" / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    env = dvc_env(base)
    reg = _registry(env, base)
    root = base / "project"
    (root / "src").mkdir(parents=True)
    (root / "eval").mkdir()
    (root / "data").mkdir()
    _git(env, root, "init", "-q", "-b", "main")
    evaluate = f"PNG = {PNG.hex()!r}\n{EVALUATE}"
    for name, text in (("prepare", PREPARE), ("train", TRAIN), ("evaluate", evaluate)):
        (root / "src" / f"{name}.py").write_text(text)
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "params.yaml").write_text("prepare:\n  split: 0.2\ntrain:\n  n_est: 5\n")
    _dvc(env, root, ["init", "-q"], ["config", "core.analytics", "false"],
         ["import", "-q", str(reg), "data/data.xml", "-o", "data/data.xml"],
         ["remote", "add", "-q", "-d", "store", str(base / "project-remote")])  # fmt: skip
    _version(env, root, 5, "v1.0.0", "model v1")
    _dvc(env, root, ["freeze", "-q", "archive"])  # archive.pkl keeps the v1 model
    _version(env, root, 6, "v2.0.0", "model v2")
    _git(env, root, "tag", "-a", "text-classification#prod#1", "-m",
         "Assigning stage prod to artifact text-classification version v2.0.0")  # fmt: skip
    _dvc(env, root, ["exp", "run", "-q", "-S", "train.n_est=7", "-n", "seven"])
    _git(env, root, "checkout", "-q", "--", ".")  # exp run leaves its results in the workspace
    _dvc(env, root, ["checkout", "-q", "-f"])
    registry_v2(env, reg)
    return root, reg
