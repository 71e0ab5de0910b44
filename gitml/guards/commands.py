"""Run a user's check command; its exit code is the verdict.

The command is a shell string from gitml.yaml (``python checks/golden.py``),
run with ``/bin/sh -c`` in the repo root with the environment the caller
passes (hooks pass git's cleaned environment). Output (stdout and stderr
merged) is read line by line into a ring of the last :data:`TAIL_LINES` lines,
so a chatty command cannot exhaust memory. On timeout the whole process group
is terminated, then killed. Nothing here raises for a failing command.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

TAIL_LINES = 20
MAX_LINE_CHARS = 2000
KILL_GRACE_SECONDS = 3.0
EXIT_NOT_RUNNABLE = (126, 127)  # shell: found but not executable / not found


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """What happened. ``exit_code`` is None when the command never ran or was killed."""

    command: str
    exit_code: int | None
    tail: tuple[str, ...]
    seconds: float
    timed_out: bool = False
    start_error: str | None = None

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def runnable(self) -> bool:
        """False when there is no verdict: not started, not found, timed out."""
        return (
            self.start_error is None
            and not self.timed_out
            and self.exit_code not in EXIT_NOT_RUNNABLE
        )


def run_command(
    command: str,
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600.0,
) -> CommandOutcome:
    """Run ``command`` through the shell and capture exit code and output tail."""
    started = time.monotonic()
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a timeout kills children too
        )
    except OSError as exc:
        return CommandOutcome(command, None, (), 0.0, start_error=str(exc))
    assert proc.stdout is not None
    reader = threading.Thread(target=_pump, args=(proc.stdout, tail), daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop_group(proc)
    except BaseException:  # KeyboardInterrupt: never leave the command running
        _stop_group(proc)
        raise
    # A grandchild may keep the pipe open after the shell exits; do not wait forever.
    reader.join(timeout=KILL_GRACE_SECONDS)
    code = None if timed_out else proc.returncode
    return CommandOutcome(
        command, code, tuple(tail), time.monotonic() - started, timed_out=timed_out
    )


def _pump(stream: object, tail: collections.deque[str]) -> None:
    """Keep the last lines of the stream; drain it to the end so the child never blocks."""
    import io

    assert isinstance(stream, io.BufferedReader)
    with stream:
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if len(line) > MAX_LINE_CHARS:
                line = line[:MAX_LINE_CHARS] + "…"
            tail.append(line)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the command's process group, give it a grace period, then SIGKILL
    whatever is left of the group (children that ignored SIGTERM)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        if sig == signal.SIGTERM:
            try:
                proc.wait(timeout=KILL_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                pass
    proc.wait()
