"""Which git to run, and with which environment.

Two rules from the safety checklist live here:

* ``git`` is found on the user's PATH, never inside the repository. A cloned
  repository is attacker-controlled; a relative PATH entry (``""``, ``.``,
  ``bin``) is resolved against the working directory of the child process, so
  those entries are skipped, and so is any absolute entry inside the work tree.
* Git exports variables that locate a repository (``GIT_DIR``,
  ``GIT_INDEX_FILE``...) to the hooks it runs. A git call made from inside a
  hook for a *different* purpose (another repository, a clone) must not
  inherit them: :func:`clean_env` removes them, with the same list git uses
  when it switches to another repository (``git rev-parse --local-env-vars``).

This module is pure Python and starts no process.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from gitml.errors import GitError

# `git rev-parse --local-env-vars` (git 2.39), minus the GIT_CONFIG_* ones that
# carry `git -c key=value` from the user's command line: they do not locate a
# repository and dropping them would silently ignore what the user asked for.
LOCAL_ENV_VARS: tuple[str, ...] = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_DIR",
    "GIT_GRAFT_FILE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_OBJECT_DIRECTORY",
    "GIT_PREFIX",
    "GIT_REPLACE_REF_BASE",
    "GIT_SHALLOW_FILE",
    "GIT_WORK_TREE",
)


def clean_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``environ`` (default: ``os.environ``) without repo-locating variables."""
    source = os.environ if environ is None else environ
    return {k: v for k, v in source.items() if k not in LOCAL_ENV_VARS}


def _is_executable_file(path: Path) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and os.access(path, os.X_OK)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (OSError, ValueError):
        return False
    return True


def find_git(exclude: Iterable[Path] = (), path_var: str | None = None) -> Path:
    """Absolute path of the first ``git`` on PATH that is safe to run.

    Relative PATH entries are skipped (they would resolve inside whatever
    directory git is started in), and so is every entry under one of the
    ``exclude`` folders (the work trees around the place gitml runs in).
    """
    roots = list(exclude)
    search = os.environ.get("PATH", os.defpath) if path_var is None else path_var
    for entry in search.split(os.pathsep):
        if not entry or not os.path.isabs(entry):
            continue
        candidate = Path(entry) / "git"
        if not _is_executable_file(candidate):
            continue
        if any(_inside(candidate, root) for root in roots):
            continue
        return candidate
    raise GitError(
        "git was not found on PATH",
        "install git (2.30 or newer) and make sure it is on PATH",
    )
