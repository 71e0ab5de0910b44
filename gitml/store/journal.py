"""Intent journals: what makes writing objects without per-object fsync safe.

A batch writes ``<cache>/journal/<batch-id>`` before it creates any file in the
cache, and appends the oids of each group of objects (then fsyncs the journal)
*before* those objects get their final names. Objects are then written without
any fsync, one sync of the filesystem (or an fsync of each object, for a few)
makes the whole batch durable, and only then is the journal removed. So after
any crash (SIGKILL, power loss) every object that might be incomplete is named
by a journal that still exists.

The batch holds an exclusive ``flock`` on its journal for its whole life. The
kernel drops it when the process dies, so "the owner is dead" is exactly
"the lock can be taken": no pid-reuse or stale-lock guessing. The pid, host
and start time are also written inside, for people reading the file; journals
written on another host are left alone (flock over network filesystems is not
trusted). Recovering a journal means: re-hash every object it names,
quarantine those whose bytes do not match, delete the batch's temp files
(``<cache>/tmp/<batch-id>.*``), sync, then remove the journal.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from gitml.store.bulk import syncfs
from gitml.store.durable import fsync_dir
from gitml.store.fsutil import unlink_quiet, write_all
from gitml.store.hashing import is_oid

MAGIC = b"gitml-journal 1\n"
STAGING_GRACE = 60.0


class Journal:
    """The journal of one live batch (owned and flocked by this process)."""

    __slots__ = ("_fd", "path")

    def __init__(self, directory: Path, batch_id: str) -> None:
        os.makedirs(directory, exist_ok=True)
        self.path = directory / batch_id
        header = (
            MAGIC
            + f"pid {os.getpid()}\nhost {socket.gethostname()}\ntime {time.time_ns()}\n".encode()
        )
        # Locked and filled under a dot-name that recover() ignores, then renamed:
        # a recoverer can never see (and remove) a journal before it is locked.
        staging = directory / f".{batch_id}.new"
        self._fd = os.open(staging, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            write_all(self._fd, header)
            os.fsync(self._fd)
            os.rename(staging, self.path)
            fsync_dir(directory)
        except BaseException:
            unlink_quiet(staging)
            self.remove()
            raise

    def append(self, oids: Iterable[str]) -> None:
        """Record ``oids`` durably before they are written under their final names."""
        write_all(self._fd, "".join(f"o {oid}\n" for oid in oids).encode())
        os.fsync(self._fd)

    def remove(self) -> None:
        """Delete the journal (the batch is durable, or wrote nothing), then unlock."""
        unlink_quiet(self.path)
        os.close(self._fd)

    def release(self) -> None:
        """Unlock but keep the journal (the batch failed to become durable): the next
        ``recover()``, in this process or another, re-checks its objects."""
        os.close(self._fd)


def parse(data: bytes) -> tuple[str, list[str]]:
    """Return ``(host, oids)``; a torn last line (crash mid-append) is ignored.

    A torn line cannot name an object that was written: objects of a group are
    written only after the group's lines were fsynced.
    """
    host = ""
    oids: list[str] = []
    if not data.startswith(MAGIC):
        return host, oids
    for line in data[len(MAGIC) :].split(b"\n"):
        if line.startswith(b"o "):
            oid = line[2:].decode("ascii", "replace")
            if is_oid(oid):
                oids.append(oid)
        elif line.startswith(b"host "):
            host = line[5:].decode("utf-8", "replace")
    return host, oids


def recover(
    root: Path,
    verify: Callable[[str], bool],
    quarantine: Callable[[str], object],
) -> list[str]:
    """Recover every dead batch's journal under ``root``; return quarantined oids.

    One ``listdir`` when nothing crashed. Journals of live batches (flock
    held, including batches of this very process) are skipped.
    """
    jdir = root / "journal"
    try:
        names = os.listdir(jdir)
    except FileNotFoundError:
        return []
    bad: list[str] = []
    for name in names:
        if not name.startswith("."):
            bad.extend(_recover_one(root, jdir / name, verify, quarantine) or ())
        elif name.endswith(".new"):
            _remove_dead_staging(jdir / name)
    return bad


def _remove_dead_staging(path: Path) -> None:
    """A journal killed before it was renamed into place names nothing: drop it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        if time.time() - os.fstat(fd).st_mtime < STAGING_GRACE:
            return  # maybe just created, not locked yet
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        unlink_quiet(path)
    except BlockingIOError:
        pass
    finally:
        os.close(fd)


def _recover_one(
    root: Path,
    path: Path,
    verify: Callable[[str], bool],
    quarantine: Callable[[str], object],
) -> list[str] | None:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None  # another process just finished recovering it
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # its batch is alive (or someone is recovering it)
        try:
            if os.stat(path).st_ino != os.fstat(fd).st_ino:
                return None
        except FileNotFoundError:
            return None
        data = _read_all(fd)
        host, oids = parse(data)
        if host and host != socket.gethostname():
            return None
        bad: list[str] = []
        for oid in dict.fromkeys(oids):
            try:
                ok = verify(oid)
            except Exception:  # missing or unreadable: nothing under the final name to fix
                continue
            if not ok:
                with contextlib.suppress(Exception):
                    quarantine(oid)
                    bad.append(oid)
        _remove_temps(root / "tmp", path.name)
        syncfs(root)  # the quarantine renames, before the journal goes
        unlink_quiet(path)
        return bad
    finally:
        os.close(fd)


def _read_all(fd: int) -> bytes:
    parts: list[bytes] = []
    while chunk := os.read(fd, 1 << 20):
        parts.append(chunk)
    return b"".join(parts)


def _remove_temps(tmp_dir: Path, batch_id: str) -> None:
    try:
        names = os.listdir(tmp_dir)
    except FileNotFoundError:
        return
    prefix = batch_id + "."
    for name in names:
        if name.startswith(prefix):
            unlink_quiet(tmp_dir / name)
