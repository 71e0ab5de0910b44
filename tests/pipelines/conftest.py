"""A tiny two-stage project: prepare (data/raw → data/prepared) → train (→ model, metrics)."""

from __future__ import annotations

from pathlib import Path

import pytest

PREP = """\
import json, os, pathlib
params = json.loads(os.environ["GITML_PARAMS"])
raw = pathlib.Path("data/raw")
text = "".join(f.read_text() for f in sorted(raw.rglob("*")) if f.is_file())
out = pathlib.Path("data/prepared")
out.mkdir(parents=True, exist_ok=True)
(out / "out.txt").write_text(text + json.dumps(params) + os.environ["GITML_PARAM_PREPARE_SCALE"])
with open("count-" + os.environ["GITML_STAGE"], "a") as fh:
    fh.write("x")
"""
TRAIN = """\
import json, os, pathlib
text = pathlib.Path("data/prepared/out.txt").read_text()
acc = json.loads(os.environ["GITML_PARAMS"])["train"]["acc"]
pathlib.Path("models/m.txt").write_text(text)
pathlib.Path("metrics/m.json").write_text(json.dumps({"accuracy": acc}))
with open("count-train", "a") as fh:
    fh.write("x")
"""
EVAL = """\
import json, pathlib, sys
model, data, out = sys.argv[1:4]
d = pathlib.Path(data)
files = [d] if d.is_file() else sorted(f for f in d.rglob("*") if f.is_file())
text = "".join(f.read_text() for f in files)
acc = 0.99 if text in pathlib.Path(model).read_text() else float(text.split()[0])
pathlib.Path(out).write_text(json.dumps({"accuracy": acc}))
"""
YAML = """\
params: [params.yaml]
guards:
  quality:
    metrics: metrics/m.json
    thresholds:
      accuracy: ">= 0.8"
artifacts:
  m:
    type: model
    path: models/m.txt
evaluate:
  m:
    cmd: python src/eval.py {model} {data} {out}
    metrics: metrics/eval.json
stages:
  prepare:
    cmd: python src/prep.py
    deps: [src/prep.py, data/raw]
    params: [prepare]
    outs: [data/prepared]
  train:
    cmd: python src/train.py
    deps: [src/train.py, data/prepared]
    params: [train]
    outs: [models/m.txt]
    metrics: [metrics/m.json]
    guards: [quality]
    register: m
"""


def write_project(root: Path, yaml_text: str = YAML, acc: float = 0.9) -> None:
    (root / "src").mkdir(exist_ok=True)
    (root / "src/prep.py").write_text(PREP)
    (root / "src/train.py").write_text(TRAIN)
    (root / "src/eval.py").write_text(EVAL)
    (root / "data/raw").mkdir(parents=True, exist_ok=True)
    (root / "data/raw/a.txt").write_text("row-1\n")
    (root / "params.yaml").write_text(f"prepare:\n  scale: 2\ntrain:\n  acc: {acc}\n")
    (root / "gitml.yaml").write_text(yaml_text)


def count(root: Path, stage: str) -> int:
    path = root / f"count-{stage}"
    return len(path.read_text()) if path.exists() else 0


@pytest.fixture
def project(repo: Path) -> Path:
    write_project(repo)
    return repo
