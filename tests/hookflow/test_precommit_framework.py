"""gitml through the real pre-commit framework (https://pre-commit.com), offline.

The hook comes from a local clone of this repository in the ``repo:`` form, as
users would reference gitml; ``language: system`` runs the gitml of this
environment (the ``python`` language would pip-install gitml, which needs the
network).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import Cli, git

pytest.importorskip("pre_commit")

SOURCE = Path(__file__).resolve().parents[2]

GITML_YAML = """\
guards:
  model:
    metrics: metrics.json
    thresholds: {accuracy: ">= 0.7"}
  count:
    command: echo ran >> .git/guard-runs
    watch: [metrics.json]
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    bindir = os.path.dirname(sys.executable)  # `gitml` (entry) and `git` from here
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(SOURCE) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(root: Path, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=root, env=env, capture_output=True, text=True)


@pytest.fixture
def framework_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> Path:
    if not (SOURCE / ".pre-commit-hooks.yaml").is_file() or not (SOURCE / ".git").exists():
        pytest.skip("needs gitml's own git checkout")
    clone = tmp_path / "gitml-clone"
    git(tmp_path, "clone", "-q", "--no-hardlinks", str(SOURCE), str(clone))
    rev = git(clone, "rev-parse", "HEAD").strip()
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    config = {
        "repos": [
            {
                "repo": str(clone),
                "rev": rev,
                "hooks": [{"id": "gitml-guard", "language": "system"}],
            }
        ]
    }
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.chdir(root)
    out = cli("init").out
    assert "runs gitml's checks" in out  # noticed before `pre-commit install` ran
    assert not (root / ".git/hooks/pre-commit").exists()
    env = _env(tmp_path)
    proc = _run(root, env, sys.executable, "-m", "pre_commit", "install")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (root / "gitml.yaml").write_text(GITML_YAML)
    (root / "metrics.json").write_text(json.dumps({"accuracy": 0.9}))
    git(root, "add", ".pre-commit-config.yaml", "gitml.yaml", "metrics.json")
    return root


def test_framework_blocks_a_bad_commit_and_guards_run_once(
    framework_repo: Path, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    proc = _run(framework_repo, env, "git", "commit", "-m", "v1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "gitml guard" in proc.stdout + proc.stderr  # the framework ran gitml's hook
    assert (framework_repo / ".git/guard-runs").read_text() == "ran\n"  # once, not twice
    (framework_repo / "metrics.json").write_text(json.dumps({"accuracy": 0.5}))
    git(framework_repo, "add", "metrics.json")
    proc = _run(framework_repo, env, "git", "commit", "-m", "worse")
    assert proc.returncode == 1
    assert "accuracy = 0.5 does not meet >= 0.7" in proc.stdout + proc.stderr
    assert git(framework_repo, "rev-list", "--count", "HEAD").strip() == "1"


def test_init_prints_a_valid_snippet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / ".pre-commit-config.yaml").write_text("repos: []\n")
    monkeypatch.chdir(root)
    out = cli("init").out
    snippet = out[out.index("-   repo: local") :]
    doc = yaml.safe_load(snippet)
    assert doc[0]["hooks"][0]["stages"] == ["pre-commit"]
    assert doc[0]["hooks"][0]["entry"] == "gitml hook pre-commit"
    assert not (root / ".git/hooks/pre-commit").exists()
    assert (root / ".git/hooks/post-commit").exists()
