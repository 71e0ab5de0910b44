"""A real DVC project, built once per session with the real dvc package, copied per test.

The template holds: a file output (``data.csv``), a directory output with
nested files, a CRLF text file and a > 1 MiB file (``images``), a ``dvc.yaml``
stage with a file output, a directory output and an uncached metric, and a
local-folder DVC remote every object was pushed to. It is committed to git
and has gitml initialised.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, Cli, git

DVC_SCRIPT = r"""
import sys
from dvc.cli import main

def run(*args):
    rc = main(list(args))
    if rc != 0:
        sys.exit(f"dvc {' '.join(args)} exited {rc}")

remote = sys.argv[1]
run("init", "-q")
run("config", "core.analytics", "false")
run("add", "-q", "data.csv", "images")
run("repro", "-q")
run("remote", "add", "-q", "-d", "store", remote)
run("push", "-q")
"""

DVC_YAML = """\
stages:
  prep:
    cmd: >-
      mkdir -p out/features && cp data.csv out/prepared.csv &&
      printf 'one' > out/features/f1.txt && printf 'two' > out/features/f2.txt &&
      printf '{"acc": 0.9}' > metrics.json
    deps:
    - data.csv
    params:
    - lr
    outs:
    - out/prepared.csv
    - out/features
    metrics:
    - metrics.json:
        cache: false
"""


def template_files() -> dict[str, bytes]:
    """The data files of the template, by path."""
    blob = bytes((i * 7 + i // 251) % 256 for i in range(1_500_000))  # > 1 MiB: streamed path
    return {
        "data.csv": b"id,value\n1,a\n2,b\n",
        "images/cats/1.bin": bytes(range(256)) * 8,
        "images/cats/2.bin": b"\x00\x01meow" * 300,
        "images/dogs/small/3.bin": b"woof",
        "images/readme.txt": b"line one\r\nline two\r\n",
        "images/big.bin": blob,
    }


STAGE_FILES = {
    "out/prepared.csv": b"id,value\n1,a\n2,b\n",
    "out/features/f1.txt": b"one",
    "out/features/f2.txt": b"two",
}


def dvc_env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITML_FAULT"))}
    env.update(GIT_ENV)
    env.update(
        HOME=str(base / "home"),
        XDG_CONFIG_HOME=str(base / "home" / ".config"),
        DVC_NO_ANALYTICS="1",
        DVC_SITE_CACHE_DIR=str(base / "dvc-site"),
    )
    return env


@pytest.fixture(scope="session")
def dvc_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("dvc-template")
    root, remote = base / "repo", base / "remote"
    (base / "home").mkdir()
    (base / "home" / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    root.mkdir()
    remote.mkdir()
    env = dvc_env(base)
    for rel, data in template_files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "params.yaml").write_text("lr: 0.1\n")
    subprocess.run(["git", "init", "-q"], cwd=root, env=env, check=True)
    proc = subprocess.run(
        [sys.executable, "-c", DVC_SCRIPT, str(remote)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    subprocess.run(
        [sys.executable, "-m", "gitml", "init", "--no-hooks"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True)
    subprocess.run(["git", "commit", "-qm", "DVC project"], cwd=root, env=env, check=True)
    return base


@pytest.fixture
def dvc_repo(dvc_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the template (its own remote too); the cwd for the test."""
    shutil.copytree(dvc_template / "repo", tmp_path / "repo", symlinks=True)
    shutil.copytree(dvc_template / "remote", tmp_path / "remote")
    config = tmp_path / "repo" / ".dvc" / "config"
    text = config.read_text().replace(str(dvc_template / "remote"), str(tmp_path / "remote"))
    config.write_text(text)
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(tmp_path / "dvc-site"))
    monkeypatch.chdir(tmp_path / "repo")
    git(tmp_path / "repo", "update-index", "--refresh", check=False)
    yield tmp_path / "repo"


@pytest.fixture
def imported(dvc_repo: Path, cli: Cli) -> Path:
    """The copy after one plain ``gitml import-dvc``."""
    cli("import-dvc")
    return dvc_repo
