"""Transfer planning, results, the bounded worker pool and progress.

Planning is pure set arithmetic: given the oids a command needs, what the local
cache has and what the remote has (one listing or a batch of existence checks),
decide what to transfer, what to skip and what cannot be done.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Set
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from gitml.errors import UsageError
from gitml.progress import Reporter, human_size
from gitml.store.hashing import is_oid

T = TypeVar("T")
R = TypeVar("R")


class BatchLike(Protocol):
    """What remotes need of ``gitml.store.batch.Batch``."""

    def add_bytes(
        self, data: bytes, *, expected_oid: str | None = None, whole: bool = False
    ) -> str: ...

    def add_stream(
        self, chunks: Iterable[bytes], *, expected_oid: str, whole: bool = False
    ) -> None: ...


class StoreLike(Protocol):
    """What remotes need of ``gitml.store.objects.ObjectStore``."""

    def object_path(self, oid: str) -> Path: ...

    def has(self, oid: str) -> bool: ...

    def batch(self) -> AbstractContextManager[BatchLike]: ...

    def quarantine(self, oid: str) -> Path: ...


def check_oids(oids: Iterable[str]) -> list[str]:
    """Deduplicated oids in first-seen order; :class:`UsageError` for a malformed one."""
    out: dict[str, None] = {}
    for oid in oids:
        if not is_oid(oid):
            raise UsageError(f"not an object id: {str(oid)[:80]!r}")
        out[oid] = None
    return list(out)


@dataclass(slots=True)
class TransferResult:
    """What a transfer did. ``failed`` maps oid -> one-line, redacted reason.

    The oids are those asked for; a file moved as chunks counts once there, and
    its chunks and chunk list in ``parts`` (moved) and ``parts_present`` (already
    at the destination). ``bytes`` is what actually travelled."""

    transferred: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    bytes: int = 0
    seconds: float = 0.0
    retries: int = 0
    parts: int = 0
    parts_present: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def rate(self) -> float:
        """Bytes per second of the transfer (0 if nothing moved)."""
        return self.bytes / self.seconds if self.seconds > 0 else 0.0

    def summary(self, verb: str) -> str:
        text = (
            f"{verb} {len(self.transferred)} objects ({human_size(self.bytes)}, "
            f"{human_size(int(self.rate))}/s), {len(self.skipped)} already there"
        )
        if self.parts or self.parts_present:
            text += f" ({self.parts} chunks moved, {self.parts_present} already there)"
        if self.failed:
            text += f", {len(self.failed)} failed"
        return text


@dataclass(frozen=True, slots=True)
class Plan:
    todo: list[str]  # to transfer
    present: list[str]  # already at the destination: skipped
    missing: list[str]  # not at the source: cannot be done


def plan_upload(oids: Iterable[str], local_has: Callable[[str], bool], remote: Set[str]) -> Plan:
    todo: list[str] = []
    present: list[str] = []
    missing: list[str] = []
    for oid in check_oids(oids):
        if oid in remote:
            present.append(oid)
        elif local_has(oid):
            todo.append(oid)
        else:
            missing.append(oid)
    return Plan(todo, present, missing)


def plan_download(oids: Iterable[str], local_has: Callable[[str], bool], remote: Set[str]) -> Plan:
    todo: list[str] = []
    present: list[str] = []
    missing: list[str] = []
    for oid in check_oids(oids):
        if local_has(oid):
            present.append(oid)
        elif oid in remote:
            todo.append(oid)
        else:
            missing.append(oid)
    return Plan(todo, present, missing)


class Progress:
    """Thread-safe progress by bytes on top of :class:`Reporter`."""

    def __init__(self, reporter: Reporter | None, task: str, total_bytes: int) -> None:
        self._reporter = reporter or Reporter()
        self._lock = threading.Lock()
        self.task = task
        self.start = time.monotonic()
        self._reporter.start(task, total_bytes)

    def advance(self, count: int, nbytes: int) -> None:
        with self._lock:
            self._reporter.advance(self.task, count, nbytes)

    def warning(self, message: str) -> None:
        with self._lock:
            self._reporter.warning(message)

    def finish(self, result: TransferResult, verb: str) -> None:
        result.seconds = time.monotonic() - self.start
        with self._lock:
            self._reporter.done(self.task)
            self._reporter.info(result.summary(verb))


def run_parallel(
    items: Iterable[T],
    fn: Callable[[T], R],
    jobs: int,
    on_done: Callable[[T, R | None, BaseException | None], None],
) -> None:
    """Run ``fn`` over ``items`` on ``jobs`` threads with a bounded queue.

    ``on_done(item, result, error)`` runs in the calling thread, in completion order.
    On an interrupt, queued work is cancelled and running work is waited for (each
    operation is bounded by the transport timeouts).
    """
    if jobs <= 1:
        for item in items:
            try:
                value = fn(item)
            except Exception as exc:
                on_done(item, None, exc)
            else:
                on_done(item, value, None)
        return
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="gitml-remote")
    inflight: dict[Future[R], T] = {}

    def drain(block_until: int) -> None:
        while len(inflight) > block_until:
            done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            for fut in done:
                item = inflight.pop(fut)
                exc = fut.exception()
                on_done(item, None if exc else fut.result(), exc)

    try:
        for item in items:
            inflight[pool.submit(fn, item)] = item
            if len(inflight) >= jobs * 4:
                drain(jobs * 2)
        drain(0)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
