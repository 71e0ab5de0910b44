"""The one place where gitml starts git processes.

Built on GitPython's command wrapper (:class:`git.Git`, what ``repo.git`` is)
so one-shot commands and the persistent ``git cat-file --batch`` process share
one executable and one environment. We do not use :class:`git.Repo`: its
Python re-implementation of repository discovery reads ``GIT_DIR`` and
``GIT_WORK_TREE`` from our own environment (wrong inside a hook of another
repository) and differs from git's (``safe.directory``, ``core.worktree``).
Git itself discovers the repository (see :mod:`gitml.git.repo`).

GitPython merges ``os.environ`` into every child's environment and cannot
remove a variable, only override it; so the runner is given absolute values
for the variables that locate the repository (``GIT_DIR``, ``GIT_WORK_TREE``,
``GIT_INDEX_FILE``...), which makes an inherited hook environment harmless.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from gitml.errors import GitError
from gitml.git.catfile import CatFileBatch
from gitml.git.environment import find_git
from gitml.git.refname import is_git_oid


def _pin_gitpython_executable() -> None:
    # GitPython runs `git version` when imported, looking "git" up on PATH from
    # the current directory. Point it at a git we chose (absolute, not from a
    # relative PATH entry) first, and keep the import from raising when git is
    # missing: GitRepo.discover then reports that as a GitError.
    if "GIT_PYTHON_GIT_EXECUTABLE" in os.environ:
        return
    try:
        os.environ["GIT_PYTHON_GIT_EXECUTABLE"] = str(find_git())
    except GitError:
        os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")


_pin_gitpython_executable()

import git  # noqa: E402  (must follow the pinning above)
import git.exc  # noqa: E402

_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")


def redact(text: str) -> str:
    """Hide credentials embedded in URLs (``https://user:token@host``)."""
    return _URL_USERINFO.sub(r"\1***@", text)


def first_error_line(stderr: str) -> str:
    """The most informative single line of git's stderr, without its prefix."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for prefix in ("fatal:", "error:"):
        for line in lines:
            if line.startswith(prefix):
                return redact(line[len(prefix) :].strip())
    return redact(lines[-1]) if lines else "no error message"


@dataclass(frozen=True, slots=True)
class GitResult:
    """Outcome of one git command: exit status, raw stdout, decoded stderr."""

    status: int
    stdout: bytes
    stderr: str


class _GitCommand(git.Git):
    """GitPython's wrapper bound to one absolute executable and environment."""

    def __init__(self, working_dir: Path, executable: Path, env: Mapping[str, str]) -> None:
        super().__init__(working_dir)
        # GitPython reads this through ``self`` when it starts cat-file; an
        # instance value keeps its process-wide class attribute untouched.
        self.GIT_PYTHON_GIT_EXECUTABLE = str(executable)
        self.update_environment(**env)


class GitRunner:
    """Runs git in one work tree; owns a persistent ``cat-file --batch``."""

    def __init__(self, cwd: Path, executable: Path, env: Mapping[str, str]) -> None:
        self.cwd = cwd
        self.executable = executable
        self._git = _GitCommand(cwd, executable, env)
        self._batch = CatFileBatch(self._git, str(executable))

    def run(
        self,
        args: Sequence[str],
        *,
        input: bytes | None = None,
        ok: Iterable[int] = (0,),
        what: str | None = None,
        timeout: float | None = None,
    ) -> GitResult:
        """Run ``git <args>``; raise :class:`GitError` unless the status is in ``ok``.

        ``timeout``: seconds after which git is killed (a remote that does not
        answer); the result then has a non-zero status. Only without ``input``."""
        argv = [str(self.executable), *args]
        try:
            if input is None:
                status, out, err = self._git.execute(
                    argv,
                    with_extended_output=True,
                    with_exceptions=False,
                    stdout_as_string=False,
                    strip_newline_in_stdout=False,
                    kill_after_timeout=timeout,
                )
                result = GitResult(int(status), out, str(err))
            else:
                handle = self._git.execute(argv, istream=subprocess.PIPE, as_process=True)
                proc = cast("subprocess.Popen[bytes]", handle.proc)
                out_b, err_b = proc.communicate(input)
                result = GitResult(proc.returncode, out_b, err_b.decode("utf-8", "replace"))
        except (git.exc.GitCommandNotFound, OSError) as exc:
            raise GitError(
                f"cannot run git ({self.executable}): {exc.__class__.__name__}",
                "install git (2.30 or newer) and make sure it is on PATH",
            ) from None
        if result.status not in tuple(ok):
            raise self.error(args, result, what=what)
        return result

    def error(self, args: Sequence[str], result: GitResult, *, what: str | None = None) -> GitError:
        """A one-line :class:`GitError` for a failed command."""
        sub = next((a for a in args if not a.startswith("-")), "git")
        label = what or f"git {sub}"
        return GitError(f"{label} failed: {first_error_line(result.stderr)}", _hint(result.stderr))

    def read_objects(self, oids: Iterable[str]) -> list[tuple[str, str, bytes]]:
        """``(oid, type, data)`` for each object, through ONE persistent process.

        Object names must be full hex ids: any other spelling (``rev:path``)
        could contain a newline and break the line protocol.
        """
        names = list(oids)
        for oid in names:
            if not is_git_oid(oid):
                raise GitError(f"not an object id: {oid!r}")
        return self._batch.read(names)

    def close(self) -> None:
        """Stop the persistent cat-file process (it restarts on demand)."""
        self._batch.close()


def _hint(stderr: str) -> str | None:
    if "dubious ownership" in stderr:
        return "the repository belongs to another user; see `git config --help` (safe.directory)"
    if "Please tell me who you are" in stderr or "empty ident" in stderr:
        return "set your identity: git config user.name ...; git config user.email ..."
    if "index.lock" in stderr or "cannot lock ref" in stderr:
        return "another git process is running; wait for it and retry"
    return None
