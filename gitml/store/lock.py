"""The repository lock: one writer at a time, and never a stale lock.

``fcntl.flock`` on ``.gitml/lock``: the kernel releases it when the holder's
process exits or is killed, so a crashed gitml can never leave a lock behind
that someone has to delete by hand (a common DVC complaint). The holder
writes its pid, host, start time and command into the file so a waiting
process can say who it waits for. A waiter that waits longer than half a
second reports once, polls, and gives up after ``timeout`` seconds with a
LockError naming the holder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType

from gitml.errors import LockError
from gitml.progress import Reporter
from gitml.store.fsutil import write_error

POLL_S = 0.05
# A wait shorter than this is not worth a line: stage threads of `repro -j` and
# back-to-back commands hand the lock over in milliseconds, and by then the file
# no longer names a holder ("pid ?").
TELL_AFTER_S = 0.5
_HELD: set[str] = set()  # lock files held by this process (flock does not nest)


def _command() -> str:
    # Program and subcommand only: arguments may hold URLs with credentials.
    argv = sys.argv or ["?"]
    words = [os.path.basename(argv[0] or "?"), *argv[1:2]]
    return " ".join(w.replace("\n", " ")[:64] for w in words)


class RepoLock:
    """``with RepoLock(path, timeout=..., reporter=...):`` — see the module docstring."""

    def __init__(self, path: Path, *, timeout: float, reporter: Reporter) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.reporter = reporter
        self._fd: int | None = None

    def holder(self) -> str:
        """Who holds the lock, as written by the holder (best effort)."""
        try:
            text = self.path.read_text("utf-8", "replace").strip()
        except OSError:
            text = ""
        fields = dict(line.partition(" ")[::2] for line in text.splitlines())
        pid = fields.get("pid", "?")
        started = fields.get("time", "")
        when = time.strftime("%H:%M:%S", time.localtime(float(started))) if _isnum(started) else "?"
        return (
            f"pid {pid} ({fields.get('command', '?')} on {fields.get('host', '?')}, since {when})"
        )

    def __enter__(self) -> RepoLock:
        key = os.path.abspath(self.path)
        if key in _HELD:
            raise LockError(f"the repository lock {self.path} is already held by this process")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise LockError(f"cannot open the lock file {self.path}: {exc.strerror}") from None
        try:
            self._acquire(fd)
            info = (
                f"pid {os.getpid()}\nhost {socket.gethostname()}\n"
                f"time {time.time():.3f}\ncommand {_command()}\n"
            )
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, info.encode(), 0)
            except OSError as exc:  # a full disk (or a file size limit): say so, no traceback
                raise write_error(f"the lock file {self.path}", exc) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        _HELD.add(key)
        return self

    def _acquire(self, fd: int) -> None:
        start = time.monotonic()
        deadline = start + max(self.timeout, 0.0)
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            if time.monotonic() >= deadline:
                raise LockError(
                    f"the repository is locked by {self.holder()}",
                    f"wait for it to finish and run this command again "
                    f"(waited {self.timeout:g} s; core.lock_timeout sets the wait)",
                )
            if not told and time.monotonic() - start >= TELL_AFTER_S:
                self.reporter.info(f"waiting for lock held by {self.holder()}")
                told = True
            time.sleep(POLL_S)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is None:
            return
        _HELD.discard(os.path.abspath(self.path))
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing releases the flock
        self._fd = None


def _isnum(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
