"""Unit tests: transient/permanent classification, retries, planning, the worker pool."""

from __future__ import annotations

import errno
import threading

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from gitml.errors import UsageError
from gitml.remotes import RetryPolicy, TransferResult, is_transient, plan_download, plan_upload
from gitml.remotes.retry import TransientError, call_with_retries
from gitml.remotes.transfer import check_oids, run_parallel

A, B, C, D = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutObject",
    )


def _translated(cause: BaseException, exc: BaseException) -> BaseException:
    exc.__cause__ = cause  # how s3fs re-raises botocore errors
    return exc


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionResetError(),
        TimeoutError(),
        OSError(errno.ECONNRESET, "reset"),
        EndpointConnectionError(endpoint_url="http://x"),
        ReadTimeoutError(endpoint_url="http://x"),
        _client_error("SlowDown", 503),
        _client_error("InternalError", 500),
        _client_error("Whatever", 502),
        _client_error("Throttling", 400),
        _translated(_client_error("ServiceUnavailable", 503), OSError(errno.EBUSY, "busy")),
        TransientError("short read"),
    ],
)
def test_transient(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        PermissionError("denied"),
        FileNotFoundError("nope"),
        ValueError("bug"),
        OSError(errno.ENOSPC, "disk full"),
        _client_error("AccessDenied", 403),
        _client_error("InvalidAccessKeyId", 403),
        _translated(_client_error("AccessDenied", 403), PermissionError("denied")),
        _translated(_client_error("NoSuchBucket", 404), FileNotFoundError("bucket")),
    ],
)
def test_permanent(exc: BaseException) -> None:
    assert not is_transient(exc)


def test_retries_then_success() -> None:
    calls: list[int] = []
    waits: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionResetError("reset")
        return "ok"

    policy = RetryPolicy(attempts=5, base=0.1, cap=0.15)
    notes: list[int] = []
    out = call_with_retries(
        flaky, policy, on_retry=lambda n, e, d: notes.append(n), sleep=waits.append
    )
    assert out == "ok" and len(calls) == 3 and notes == [1, 2]
    assert all(0 <= w <= 0.15 for w in waits)


def test_retries_are_bounded_and_permanent_errors_are_not_retried() -> None:
    calls: list[int] = []

    def always(exc: Exception) -> None:
        calls.append(1)
        raise exc

    with pytest.raises(ConnectionResetError):
        call_with_retries(
            lambda: always(ConnectionResetError()), RetryPolicy(attempts=3), sleep=lambda _: None
        )
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(PermissionError):
        call_with_retries(lambda: always(PermissionError()), RetryPolicy(), sleep=lambda _: None)
    assert len(calls) == 1


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(attempts=10, base=1.0, cap=4.0)
    for failures, limit in ((1, 1.0), (2, 2.0), (3, 4.0), (8, 4.0)):
        assert all(0 <= policy.delay(failures) <= limit for _ in range(50))


def test_planning() -> None:
    local = {A, B, C}
    remote = {B, D}
    up = plan_upload([A, B, C, D, A], local.__contains__, remote)
    assert (up.todo, up.present, up.missing) == ([A, C], [B, D], [])  # D: remote has it
    up = plan_upload([D, "e" * 64], local.__contains__, remote)
    assert (up.todo, up.present, up.missing) == ([], [D], ["e" * 64])
    down = plan_download([A, B, C, D], {A}.__contains__, remote)
    assert (down.todo, down.present, down.missing) == ([B, D], [A], [C])
    with pytest.raises(UsageError):
        check_oids(["../../etc/passwd"])
    with pytest.raises(UsageError):
        check_oids(["A" * 64])


def test_result_summary() -> None:
    result = TransferResult(transferred=[A], skipped=[B], failed={C: "x"}, bytes=2_500_000)
    result.seconds = 2.0
    assert not result.ok and result.rate == 1_250_000
    assert result.summary("uploaded") == (
        "uploaded 1 objects (2.5 MB, 1.2 MB/s), 1 already there, 1 failed"
    )


@pytest.mark.parametrize("jobs", [1, 4])
def test_run_parallel_delivers_every_outcome_on_the_caller_thread(jobs: int) -> None:
    seen: dict[int, object] = {}
    threads: set[int] = set()

    def work(i: int) -> int:
        if i % 7 == 0:
            raise ValueError(i)
        return i * 2

    def done(i: int, value: int | None, exc: BaseException | None) -> None:
        threads.add(threading.get_ident())
        seen[i] = exc if exc is not None else value

    run_parallel(range(100), work, jobs, done)
    assert len(seen) == 100 and threads == {threading.get_ident()}
    assert seen[3] == 6 and isinstance(seen[14], ValueError)


def test_run_parallel_stops_when_on_done_raises() -> None:
    started: list[int] = []

    def work(i: int) -> int:
        started.append(i)
        return i

    def done(i: int, value: int | None, exc: BaseException | None) -> None:
        raise RuntimeError("fatal")

    with pytest.raises(RuntimeError):
        run_parallel(range(10_000), work, 4, done)
    assert len(started) < 100  # queued work was cancelled, not run
