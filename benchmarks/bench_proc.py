"""Run one child process with a timeout and measure its wall time and peak memory.

The child runs in its own session (process group) so a timeout kills the whole tree.
Peak memory is the ``ru_maxrss`` that ``wait4`` reports for the command: the largest
resident set of the command and of every descendant it waited for (the peak of the
biggest single process of the tree, not the sum of concurrent processes).

Linux keeps a forked child's pre-``exec`` high-water mark, so ``wait4`` in this (large)
harness would report at least the harness's own RSS. The command is therefore started
through GNU ``/usr/bin/time -f %M`` (a 2 MiB process that forks it and reads its
``wait4``); without ``/usr/bin/time`` the harness's own ``wait4`` is used and small
peaks read too high (noted in the report).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TAIL_CHARS = 800
GNU_TIME = "/usr/bin/time"


def have_gnu_time() -> bool:
    """True if ``/usr/bin/time -q -f %M -o FILE true`` works (GNU time)."""
    if not os.access(GNU_TIME, os.X_OK):
        return False
    probe = subprocess.run(
        [GNU_TIME, "-q", "-f", "%M", "-o", os.devnull, "true"], capture_output=True, check=False
    )
    return probe.returncode == 0


USE_GNU_TIME = have_gnu_time()


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured run: ``seconds``/``peak_kib`` are None when it failed."""

    seconds: float | None
    peak_kib: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.seconds is not None


@dataclass(frozen=True, slots=True)
class ProcResult:
    returncode: int
    seconds: float
    peak_kib: int
    timed_out: bool
    stdout_tail: str
    stderr_tail: str


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 4 * TAIL_CHARS))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return text[-TAIL_CHARS:].strip()


def run_proc(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    log_prefix: Path,
) -> ProcResult:
    """Run ``argv`` to completion (or until ``timeout``), logging output to files."""
    log_prefix.parent.mkdir(parents=True, exist_ok=True)
    out_path = log_prefix.with_name(log_prefix.name + ".out")
    err_path = log_prefix.with_name(log_prefix.name + ".err")
    peak_path = log_prefix.with_name(log_prefix.name + ".maxrss")
    if USE_GNU_TIME:
        peak_path.unlink(missing_ok=True)
        argv = [GNU_TIME, "-q", "-f", "%M", "-o", str(peak_path), *argv]
    timed_out = threading.Event()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        except OSError as exc:
            return ProcResult(127, 0.0, 0, False, "", f"cannot start {argv[0]}: {exc}")

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.daemon = True
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code  # tell Popen the child is reaped
    peak_kib = int(usage.ru_maxrss)
    if USE_GNU_TIME:
        try:
            peak_kib = int(peak_path.read_text().split()[-1])
        except (OSError, ValueError, IndexError):
            pass  # killed before time wrote it: keep the (higher) wait4 figure
    return ProcResult(
        returncode=code,
        seconds=seconds,
        peak_kib=peak_kib,
        timed_out=timed_out.is_set(),
        stdout_tail=_tail(out_path),
        stderr_tail=_tail(err_path),
    )


def describe_failure(argv: Sequence[str], res: ProcResult, timeout: float) -> str:
    cmd = " ".join(argv[:4]) + (" ..." if len(argv) > 4 else "")
    if res.timed_out:
        return f"timeout after {timeout:.0f} s: {cmd}"
    tail = res.stderr_tail or res.stdout_tail
    last = tail.splitlines()[-3:] if tail else []
    return f"exit {res.returncode}: {cmd}: " + " | ".join(line.strip() for line in last)


def measure(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    log_prefix: Path,
    ok_codes: tuple[int, ...] = (0,),
) -> Sample:
    """Run and turn the result into a :class:`Sample` (an error on other exit codes)."""
    res = run_proc(argv, cwd=cwd, env=env, timeout=timeout, log_prefix=log_prefix)
    if res.returncode not in ok_codes or res.timed_out:
        return Sample(None, res.peak_kib or None, describe_failure(argv, res, timeout))
    return Sample(res.seconds, res.peak_kib)
