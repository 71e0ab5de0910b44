"""Helpers for tests/git: real git commands for test setup (never a mocked git)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

Git = Callable[..., str]


def run_git(cwd: Path, *args: str, input: bytes | None = None, check: bool = True) -> str:
    """Run real git in ``cwd`` for test setup; returns stdout."""
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode("utf-8", "surrogateescape")


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    run_git(path, "-c", "init.defaultBranch=main", "init", "-q")
    run_git(path, "config", "user.name", "Test User")
    run_git(path, "config", "user.email", "test@example.com")
    run_git(path, "config", "commit.gpgSign", "false")
    return path


def commit_files(path: Path, files: dict[str, bytes], message: str = "commit") -> str:
    """Write files, stage them and commit; return the commit id."""
    for name, data in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    run_git(path, "add", "-A")
    run_git(path, "commit", "-q", "--no-verify", "-m", message)
    return run_git(path, "rev-parse", "HEAD").strip()


def write_exec(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, 0o755)
    return path


class GitCalls:
    """Counts the git processes gitml starts: a logging ``git`` wrapper first on PATH.

    The wrapper execs the real git, so nothing is mocked.
    """

    def __init__(self, log: Path) -> None:
        self.log = log

    def reset(self) -> None:
        self.log.write_text("")

    def commands(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []
