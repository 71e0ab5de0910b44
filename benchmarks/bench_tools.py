"""How the harness drives each tool. Both run as subprocesses (start-up counts).

Setup commands (``git init``, ``<tool> init``, config, commits) are not measured; they
raise :class:`SetupError` on failure so the caller can mark the tool's side broken.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench_proc import describe_failure, run_proc

# Paths git must never stage in the benchmark repos (the data and the caches).
GIT_EXCLUDES = ("data", ".gitml/cache", ".dvc/cache")


class SetupError(Exception):
    """An unmeasured setup step failed."""


@dataclass
class Shell:
    """Runs unmeasured helper commands with a timeout, logging to ``logs``."""

    env: Mapping[str, str]
    timeout: float
    logs: Path
    counter: int = 0

    def run(self, argv: Sequence[str], cwd: Path, what: str) -> str:
        self.counter += 1
        prefix = self.logs / f"setup-{self.counter:05d}"
        res = run_proc(argv, cwd=cwd, env=self.env, timeout=self.timeout, log_prefix=prefix)
        if res.returncode != 0 or res.timed_out:
            raise SetupError(f"{what}: {describe_failure(argv, res, self.timeout)}")
        return res.stdout_tail


def git_exclude(repo: Path) -> None:
    """Keep the data and the caches out of git even if a tool writes no .gitignore."""
    info = repo / ".git" / "info"
    info.mkdir(parents=True, exist_ok=True)
    with open(info / "exclude", "a") as fh:
        fh.write("".join(f"/{p}\n" for p in GIT_EXCLUDES))


def git_commit(sh: Shell, repo: Path, message: str) -> None:
    sh.run(["git", "add", "-A"], repo, "git add")
    sh.run(
        ["git", "commit", "-q", "--no-verify", "--allow-empty", "-m", message], repo, "git commit"
    )


class Tool:
    name: str = ""
    cache_rel: str = ""

    def __init__(self, cmd: Sequence[str]) -> None:
        self.cmd = list(cmd)

    def init(self, sh: Shell, repo: Path, link: str) -> None:
        raise NotImplementedError

    def add(self) -> list[str]:
        return [*self.cmd, "add", "data"]

    def readd(self) -> list[str]:
        return self.add()

    def status(self) -> list[str]:
        return [*self.cmd, "status"]

    def checkout(self) -> list[str]:
        return [*self.cmd, "checkout"]

    def help(self) -> list[str]:
        return [*self.cmd, "--help"]

    def add_remote(self, sh: Shell, repo: Path, name: str, url: str, endpoint: str | None) -> None:
        raise NotImplementedError

    def push(self) -> list[str]:
        return [*self.cmd, "push"]

    def pull(self) -> list[str]:
        return [*self.cmd, "pull"]

    def cache_dir(self, repo: Path) -> Path:
        return repo / self.cache_rel


class Gitml(Tool):
    name = "gitml"
    cache_rel = ".gitml/cache"

    def init(self, sh: Shell, repo: Path, link: str) -> None:
        sh.run(["git", "init", "-q"], repo, "git init")
        git_exclude(repo)
        sh.run([*self.cmd, "init"], repo, "gitml init")
        # local: hardlink/symlink modes are honoured from config.local.toml only
        sh.run([*self.cmd, "config", "set", "--local", "cache.link", link], repo, "gitml config")

    def add_remote(self, sh: Shell, repo: Path, name: str, url: str, endpoint: str | None) -> None:
        extra = ["--endpoint-url", endpoint] if endpoint else []
        sh.run([*self.cmd, "remote", "add", "-d", *extra, name, url], repo, "gitml remote add")


class Dvc(Tool):
    name = "dvc"
    cache_rel = ".dvc/cache"

    def init(self, sh: Shell, repo: Path, link: str) -> None:
        sh.run(["git", "init", "-q"], repo, "git init")
        git_exclude(repo)
        sh.run([*self.cmd, "init", "-q"], repo, "dvc init")
        # Same as `dvc config ...` three times, without three more DVC start-ups.
        with open(repo / ".dvc" / "config", "a") as fh:
            fh.write(
                "[core]\n    analytics = false\n    check_update = false\n"
                f"[cache]\n    type = {link}\n"
            )

    def add_remote(self, sh: Shell, repo: Path, name: str, url: str, endpoint: str | None) -> None:
        sh.run([*self.cmd, "remote", "add", "-d", name, url], repo, "dvc remote add")
        if endpoint:
            sh.run(
                [*self.cmd, "remote", "modify", name, "endpointurl", endpoint],
                repo,
                "dvc remote modify",
            )
