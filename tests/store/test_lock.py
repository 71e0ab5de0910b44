"""RepoLock across real processes: wait (one message) then proceed; time out naming the holder."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from gitml.errors import LockError
from gitml.progress import Event, Reporter
from gitml.store import lock as lock_module
from gitml.store.lock import RepoLock

from .conftest import popen_python

HOLDER = """
import sys, time
from pathlib import Path
from gitml.progress import Reporter
from gitml.store.lock import RepoLock
with RepoLock(Path({lock!r}), timeout=5, reporter=Reporter()):
    Path({ready!r}).touch()
    time.sleep({hold})
"""


def _hold(tmp_path: Path, hold: float) -> tuple[subprocess.Popen[str], Path]:
    lock = tmp_path / "lock"
    ready = tmp_path / "ready"
    proc = popen_python(HOLDER.format(lock=str(lock), ready=str(ready), hold=hold))
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return proc, lock


def _reporter() -> tuple[Reporter, list[Event]]:
    events: list[Event] = []
    return Reporter(events.append), events


def test_second_process_waits_then_proceeds(tmp_path: Path) -> None:
    proc, lock = _hold(tmp_path, 2.0)
    reporter, events = _reporter()
    start = time.monotonic()
    with RepoLock(lock, timeout=20, reporter=reporter):
        waited = time.monotonic() - start
        assert f"pid {os.getpid()}" in lock.read_text()
    assert waited > 0.5
    infos = [e.message for e in events if e.kind == "info"]
    assert len(infos) == 1  # reported once, not once per poll
    assert infos[0].startswith(f"waiting for lock held by pid {proc.pid} (")
    proc.wait(timeout=10)


def test_a_short_wait_is_not_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A long grace so that a loaded machine cannot stretch the 0.05 s hold past it.
    monkeypatch.setattr(lock_module, "TELL_AFTER_S", 10.0)
    proc, lock = _hold(tmp_path, 0.05)
    reporter, events = _reporter()
    with RepoLock(lock, timeout=20, reporter=reporter):
        pass
    proc.wait(timeout=10)
    assert [e.message for e in events if e.kind == "info"] == []


def test_timeout_names_the_holder(tmp_path: Path) -> None:
    proc, lock = _hold(tmp_path, 60)
    try:
        reporter, _ = _reporter()
        start = time.monotonic()
        with (
            pytest.raises(LockError, match=f"pid {proc.pid}") as info,
            RepoLock(lock, timeout=0.3, reporter=reporter),
        ):
            pass
        assert time.monotonic() - start < 5
        assert info.value.hint and "wait" in info.value.hint
    finally:
        proc.kill()
        proc.wait()


def test_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    proc, lock = _hold(tmp_path, 60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    reporter, events = _reporter()
    with RepoLock(lock, timeout=0, reporter=reporter):
        pass
    assert events == []


def test_same_process_cannot_nest(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    with (
        RepoLock(lock, timeout=1, reporter=Reporter()),
        pytest.raises(LockError, match="already held"),
        RepoLock(lock, timeout=1, reporter=Reporter()),
    ):
        pass
    with RepoLock(lock, timeout=0, reporter=Reporter()):  # released on exit
        pass


def test_missing_folder_is_a_clean_error(tmp_path: Path) -> None:
    with (
        pytest.raises(LockError, match="cannot open"),
        RepoLock(tmp_path / "nope" / "lock", timeout=0, reporter=Reporter()),
    ):
        pass
