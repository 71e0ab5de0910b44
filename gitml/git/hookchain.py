"""What an installed hook does around gitml's own work (pre-commit's ``hook_impl``).

The hook script (:mod:`gitml.git.hookfiles`) only finds the interpreter and
runs ``python -m gitml hook NAME ARGS``, with ``GITML_HOOK_DIR`` set to the
folder it sits in. :func:`run_chained` then

1. stops a loop: a chained hook that calls our hook again (directly or through
   other hooks) finds ``<dir>/<name>`` in ``GITML_HOOKS_ACTIVE`` and the inner
   run does nothing (exit 0), as the v1 sh scripts did;
2. runs the hook that was there before gitml, ``<name>.pre-gitml`` (if it is an
   executable file, as git itself requires), with the same arguments, the same
   stdin for pre-push (the ref lines, read once) and the inherited one for the
   others;
3. runs gitml's work. For pre-commit/pre-push a failing previous hook stops
   there with its exit code (the commit or push stops, gitml never runs); for
   post-* hooks gitml's work runs anyway and the previous hook's failure wins.

Without ``GITML_HOOK_DIR`` (``gitml hook pre-commit`` run by the pre-commit
framework or by hand) there is nothing to chain: only the work runs.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import BinaryIO

from gitml.errors import GitError
from gitml.git.hookfiles import BACKUP_SUFFIX, FAIL_CLOSED

__all__ = ["ACTIVE_ENV", "HOOK_DIR_ENV", "Work", "run_chained"]

HOOK_DIR_ENV = "GITML_HOOK_DIR"
ACTIVE_ENV = "GITML_HOOKS_ACTIVE"

# gitml's work for one hook: gets pre-push's stdin (the ref lines), None for the
# other hooks, and returns the exit code.
Work = Callable[[bytes | None], int]


def _read_refs(stdin: BinaryIO | None) -> bytes:
    if stdin is None or stdin.isatty():
        return b""
    return stdin.read()


def _exit_code(returncode: int) -> int:
    """A child's status as sh reports it: 128+N for a signal N."""
    return 128 - returncode if returncode < 0 else returncode


def _run_previous(path: str, args: Sequence[str], refs: bytes | None) -> int:
    """Run the user's hook as git would; a script without ``#!`` runs under sh (as
    it did from the v1 sh scripts)."""
    for argv in ([path, *args], ["/bin/sh", path, *args]):
        try:
            if refs is None:  # stdin inherited
                return _exit_code(subprocess.run(argv, check=False).returncode)
            return _exit_code(subprocess.run(argv, input=refs, check=False).returncode)
        except OSError as exc:
            if exc.errno == errno.ENOEXEC and argv[0] == path:
                continue
            raise GitError(
                f"cannot run {path}: {exc.strerror}",
                "fix that hook or move it away (gitml runs it before its own checks)",
            ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def run_chained(
    name: str,
    args: Sequence[str],
    work: Work,
    *,
    stdin: BinaryIO | None = None,
) -> int:
    """Run hook ``name`` as installed: loop guard, previous hook, then ``work``.

    ``stdin`` defaults to the process's binary stdin; it is read only for
    pre-push. Returns the hook's exit code.
    """
    if stdin is None:
        stdin = sys.stdin.buffer if sys.stdin is not None else None
    hooks_dir = os.environ.pop(HOOK_DIR_ENV, None)  # not inherited by what runs below
    refs = _read_refs(stdin) if name == "pre-push" else None
    if not hooks_dir:
        return work(refs)
    me = f"{hooks_dir}/{name}"
    active = os.environ.get(ACTIVE_ENV, "")
    if me in active.split(":"):
        return 0
    os.environ[ACTIVE_ENV] = f"{active}:{me}" if active else me
    previous = os.path.join(hooks_dir, name + BACKUP_SUFFIX)
    status = 0
    if os.path.isfile(previous) and os.access(previous, os.X_OK):
        status = _run_previous(previous, args, refs)
        if status and name in FAIL_CLOSED:
            return status
    code = work(refs)
    return status or code
