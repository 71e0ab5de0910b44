"""Real git repositories in temporary folders (never a mocked git)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitml.git.environment import LOCAL_ENV_VARS
from gitml.git.repo import GitRepo
from tests.git.git_testlib import Git, GitCalls, init_repo, run_git, write_exec


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user/system git config, no inherited hook variables."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for var in (*LOCAL_ENV_VARS, "GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE", "GIT_CONFIG_PARAMETERS"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def repo_path(tmp_path: Path) -> Path:
    """A fresh, empty repository (branch main, identity set locally)."""
    return init_repo(tmp_path / "repo")


@pytest.fixture
def git(repo_path: Path) -> Git:
    """``git(*args)`` in the fixture repository."""

    def _git(*args: str, input: bytes | None = None) -> str:
        return run_git(repo_path, *args, input=input)

    return _git


@pytest.fixture
def repo(repo_path: Path) -> Iterator[GitRepo]:
    """A :class:`GitRepo` on the fixture repository, closed afterwards."""
    with GitRepo.discover(repo_path) as r:
        yield r


@pytest.fixture
def git_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitCalls:
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True)
    bindir = tmp_path / "counting-bin"
    log = tmp_path / "git-calls.log"
    script = f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real.stdout.strip()}" "$@"\n'
    write_exec(bindir / "git", script)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return GitCalls(log)
