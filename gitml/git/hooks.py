"""Install, remove and inspect gitml's git hooks without ever losing a user's hook.

* The hooks folder is what git uses: ``git rev-parse --git-path hooks``
  (``core.hooksPath`` respected; linked worktrees share the main one).
* A hook that is not ours is *renamed* to ``<hook>.pre-gitml`` (rename keeps
  its bytes, mode, even a symlink) and our script runs it first. We never
  append shell to someone else's file: a Python hook with shell appended is
  broken (DVC #2362).
* Install twice gives the same files; uninstall renames the original back.
  Every step is a rename or an atomic write, so an interrupted install is
  finished by the next install and undone by uninstall.
* If the pre-commit framework owns the pre-commit hook (its script plus a
  ``.pre-commit-config.yaml``), we leave it alone and tell the caller to add
  :data:`PRE_COMMIT_SNIPPET` to the config instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gitml.errors import GitError, UsageError
from gitml.git.hookfiles import (
    BACKUP_SUFFIX,
    HOOK_NAMES,
    PRE_COMMIT_SNIPPET,
    check_python,
    is_framework_hook,
    is_gitml_hook,
    recorded_python,
    render,
)
from gitml.store.durable import write_file_atomic

if TYPE_CHECKING:
    from gitml.git.repo import GitRepo

__all__ = [
    "HOOK_NAMES",
    "PRE_COMMIT_SNIPPET",
    "HookReport",
    "HookState",
    "HookStatus",
    "hook_status",
    "install_hooks",
    "uninstall_hooks",
]

HookState = Literal["installed", "chained", "foreign", "missing", "framework"]
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"


@dataclass(frozen=True, slots=True)
class HookStatus:
    """What is at one hook's place.

    ``installed``: ours; ``chained``: ours, running the user's previous hook
    first; ``foreign``: someone else's; ``missing``: none; ``framework``: the
    pre-commit framework's (add :data:`PRE_COMMIT_SNIPPET` to its config).
    """

    name: str
    state: HookState
    path: Path
    python: str | None = None  # interpreter recorded in our hook
    python_ok: bool = False  # ...and it is still there

    @property
    def backup(self) -> Path:
        return self.path.with_name(self.path.name + BACKUP_SUFFIX)


@dataclass
class HookReport:
    """Outcome per hook (``states``) and sentences for the user (``messages``)."""

    hooks_dir: Path
    states: dict[str, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


def _read(path: Path) -> bytes | None:
    """The hook's bytes; None if there is nothing; b"" if unreadable (dangling link, dir)."""
    if not os.path.lexists(path):
        return None
    try:
        with open(path, "rb") as fh:
            return fh.read(65536)
    except OSError:
        return b""


def _status(repo: GitRepo, hooks_dir: Path, name: str) -> HookStatus:
    path = hooks_dir / name
    data = _read(path)
    if data is None:
        return HookStatus(name, "missing", path)
    if is_gitml_hook(data):
        python = recorded_python(data)
        ok = python is not None and os.path.isfile(python) and os.access(python, os.X_OK)
        backup = path.with_name(name + BACKUP_SUFFIX)
        state: HookState = "chained" if os.path.lexists(backup) else "installed"
        return HookStatus(name, state, path, python, ok)
    if (
        name == "pre-commit"
        and is_framework_hook(data)
        and (repo.root / PRE_COMMIT_CONFIG).is_file()
    ):
        return HookStatus(name, "framework", path)
    return HookStatus(name, "foreign", path)


def _check_names(names: Iterable[str]) -> list[str]:
    wanted = list(names)
    unknown = [n for n in wanted if n not in HOOK_NAMES]
    if unknown:
        raise UsageError(f"unknown hook {unknown[0]!r}", f"gitml manages {', '.join(HOOK_NAMES)}")
    return wanted


def hook_status(repo: GitRepo, names: Iterable[str] = HOOK_NAMES) -> dict[str, HookStatus]:
    """The state of each of gitml's hooks."""
    hooks_dir = repo.hooks_dir()
    return {name: _status(repo, hooks_dir, name) for name in _check_names(names)}


def _shared_dir_message(repo: GitRepo, hooks_dir: Path) -> list[str]:
    if hooks_dir == repo.common_dir / "hooks":
        return []
    return [f"hooks are in {hooks_dir} (core.hooksPath); every repository using it runs them"]


def _write_hook(path: Path, data: bytes) -> None:
    write_file_atomic(path, data, mode=0o755)
    os.chmod(path, 0o755)


def install_hooks(
    repo: GitRepo,
    python: str | os.PathLike[str] = sys.executable,
    names: Iterable[str] = HOOK_NAMES,
) -> HookReport:
    """Install gitml's hooks, chaining any existing ones. Idempotent.

    ``python`` is the interpreter the hooks run (``python -m gitml hook ...``).
    States: installed, chained, updated, unchanged, framework. Raises
    :class:`GitError` (changing nothing) if a foreign hook sits where its
    backup would go.
    """
    interpreter = check_python(python)
    hooks_dir = repo.hooks_dir()
    plan = hook_status(repo, names)
    clashes = [s for s in plan.values() if s.state == "foreign" and os.path.lexists(s.backup)]
    if clashes:
        s = clashes[0]
        raise GitError(
            f"cannot install the {s.name} hook: both {s.path} and {s.backup} exist",
            "merge them or move one away, then run the install again",
        )
    hooks_dir.mkdir(parents=True, exist_ok=True)
    report = HookReport(hooks_dir, messages=_shared_dir_message(repo, hooks_dir))
    for name, st in plan.items():
        if st.state == "framework":
            report.states[name] = "framework"
            report.messages.append(
                f"{name}: the pre-commit framework runs this hook; gitml left it alone.\n"
                + PRE_COMMIT_SNIPPET
            )
            continue
        wanted = render(name, interpreter)
        if st.state in ("installed", "chained"):
            if _read(st.path) == wanted:
                report.states[name] = "unchanged"
                continue
            _write_hook(st.path, wanted)
            report.states[name] = "updated"
            continue
        if st.state == "foreign":
            os.rename(st.path, st.backup)  # keeps bytes, mode, symlinks
        _write_hook(st.path, wanted)
        report.states[name] = "chained" if os.path.lexists(st.backup) else "installed"
        if report.states[name] == "chained":
            report.messages.append(
                f"{name}: kept your hook as {st.backup.name}; it runs before gitml's"
            )
    return report


def uninstall_hooks(repo: GitRepo, names: Iterable[str] = HOOK_NAMES) -> HookReport:
    """Remove gitml's hooks and put back the hooks they replaced, byte-for-byte.

    States: removed, restored, foreign (not ours: untouched), missing, framework.
    """
    hooks_dir = repo.hooks_dir()
    report = HookReport(hooks_dir)
    for name, st in hook_status(repo, names).items():
        has_backup = os.path.lexists(st.backup)
        if st.state in ("installed", "chained", "missing") and has_backup:
            os.replace(st.backup, st.path)  # atomically swaps ours for the original
            report.states[name] = "restored"
        elif st.state == "installed":
            os.unlink(st.path)
            report.states[name] = "removed"
        else:
            report.states[name] = st.state
            if st.state == "foreign" and has_backup:
                report.messages.append(
                    f"{name}: {st.path.name} is not gitml's; {st.backup.name} was left as it is"
                )
    return report
