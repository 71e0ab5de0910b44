"""One persistent ``git cat-file --batch`` process, pipelined.

GitPython's ``get_object_data`` does one write/flush/read round trip per
object (about 0.1 ms each here). We send all requests of a call from a
writer thread while the caller's thread reads the answers, so N objects cost
one process and one pass, and neither side can block the other (a writer
thread cannot deadlock on full pipes the way "write everything, then read"
can). The protocol is length-prefixed, so object contents can be any bytes.

The process is started through GitPython (same executable and environment as
every other command) and restarted after an error or in a forked child (a
child must never talk to its parent's process).
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, cast

from gitml.errors import GitError

if TYPE_CHECKING:
    import git


# Handles inherited from a parent process through fork; kept referenced so
# their garbage collection never kills the parent's cat-file.
_INHERITED: list[object] = []


class CatFileBatch:
    """Reads objects by id through one long-lived ``git cat-file --batch``."""

    def __init__(self, command: git.Git, executable: str) -> None:
        self._command = command
        self._argv = [executable, "cat-file", "--batch"]
        self._proc: subprocess.Popen[bytes] | None = None
        self._handle: object = None  # GitPython's AutoInterrupt: kills the process on GC
        self._owner = 0
        self._lock = threading.Lock()

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._owner == os.getpid() and self._proc.poll() is None:
            return self._proc
        self._forget()
        try:
            handle = self._command.execute(self._argv, istream=subprocess.PIPE, as_process=True)
        except Exception as exc:
            raise GitError(f"cannot start git cat-file: {exc.__class__.__name__}") from None
        self._handle = handle
        self._proc = cast("subprocess.Popen[bytes]", handle.proc)
        self._owner = os.getpid()
        return self._proc

    def _forget(self) -> None:
        proc, handle = self._proc, self._handle
        self._proc, self._handle = None, None
        if proc is None:
            return
        if self._owner == os.getpid():
            _stop(proc)
        else:  # inherited through fork: the parent's process, leave it running
            _INHERITED.append(handle)

    def read(self, oids: Sequence[str]) -> list[tuple[str, str, bytes]]:
        """``(oid, type, data)`` for each id, in order. Missing ids raise GitError."""
        if not oids:
            return []
        payload = "".join(f"{oid}\n" for oid in oids).encode("ascii")
        with self._lock:
            proc = self._process()
            stdin, stdout = cast(IO[bytes], proc.stdin), cast(IO[bytes], proc.stdout)
            failure: list[BaseException] = []
            writer = threading.Thread(target=_write_all, args=(stdin, payload, failure))
            writer.start()
            try:
                out, missing = _read_answers(stdout, oids)
            except GitError:
                self._forget()  # out of step: never reuse this process
                raise
            finally:
                writer.join()
            if failure:
                self._forget()
                raise GitError(f"git cat-file stopped reading: {failure[0].__class__.__name__}")
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise GitError(f"object {missing[0]} is missing from the repository{more}")
        return out

    def close(self) -> None:
        """Stop the process; the next read starts a new one."""
        with self._lock:
            self._forget()


def _write_all(stream: IO[bytes], payload: bytes, failure: list[BaseException]) -> None:
    try:
        stream.write(payload)
        stream.flush()
    except OSError as exc:  # the process died; the reader reports it
        failure.append(exc)


def _read_answers(
    stdout: IO[bytes], oids: Sequence[str]
) -> tuple[list[tuple[str, str, bytes]], list[str]]:
    out: list[tuple[str, str, bytes]] = []
    missing: list[str] = []
    for oid in oids:
        header = stdout.readline()
        if not header.endswith(b"\n"):
            raise GitError("git cat-file stopped answering")
        fields = header.split()
        if len(fields) == 2 and fields[1] in (b"missing", b"ambiguous"):
            missing.append(oid)
            continue
        if len(fields) != 3 or not fields[2].isdigit():
            raise GitError(f"git cat-file answered {header[:80]!r}")
        size = int(fields[2])
        data = stdout.read(size)
        if len(data) != size or stdout.read(1) != b"\n":
            raise GitError("git cat-file stopped in the middle of an object")
        out.append((fields[0].decode("ascii"), fields[1].decode("ascii"), data))
    return out, missing


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
    finally:
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
