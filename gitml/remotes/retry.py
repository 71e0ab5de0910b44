"""Retries with exponential backoff and full jitter, and the transient/permanent split.

gitml owns the retry loop: botocore's and s3fs's own retries are switched off for
gitml's filesystems, so the number of attempts and the total wait are bounded and the
same for every backend. An error is *transient* when trying again can help:
connection reset/refused/aborted, timeouts, short reads, HTTP 429 and 5xx (S3
``SlowDown``, ``InternalError``, ``ServiceUnavailable``...), a body whose hash does
not match (damaged in transit). Everything else (auth, missing bucket, disk full) fails
at once.
"""

from __future__ import annotations

import errno
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

_TRANSIENT_NAMES = frozenset(
    {
        # botocore
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "IncompleteReadError",
        "ResponseStreamingError",
        "HTTPClientError",
        "ProxyConnectionError",
        "FlexibleChecksumError",  # response checksum mismatch: damaged in transit
        # aiohttp / asyncssh / fsspec / http.client
        "ClientConnectionError",
        "ClientOSError",
        "ClientPayloadError",
        "ServerDisconnectedError",
        "ServerTimeoutError",
        "FSTimeoutError",
        "IncompleteRead",
        "RemoteProtocolError",
        "ConnectionLost",
        # gitml
        "TransientError",
    }
)
_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
        "BadDigest",
        "XAmzContentSHA256Mismatch",
        "RequestLimitExceeded",
        "500",
        "502",
        "503",
        "504",
    }
)
_TRANSIENT_ERRNOS = frozenset(
    {
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.ECONNREFUSED,
        errno.ETIMEDOUT,
        errno.EPIPE,
        errno.EREMOTEIO,  # s3fs: InternalError
        errno.EBUSY,  # s3fs: SlowDown / 503
        errno.EAGAIN,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
    }
)


class TransientError(Exception):
    """Raised by gitml itself for a failure worth retrying (short read, bad hash)."""


class DeadlineExceeded(Exception):
    """One request to a remote took longer than its overall deadline
    (``remote.<name>.timeout``). Not retried: a stalled or trickling endpoint would
    otherwise hold the command for attempts x deadline; the command stops with an
    error naming the remote and the timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no complete answer within {seconds:g} s")
        self.seconds = seconds


def deadline_of(exc: BaseException) -> DeadlineExceeded | None:
    """The :class:`DeadlineExceeded` in ``exc``'s chain, if any."""
    for err in error_chain(exc):
        if isinstance(err, DeadlineExceeded):
            return err
    return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries in all; waits ``min(cap, base * 2**n)`` with full jitter."""

    attempts: int = 5
    base: float = 0.25
    cap: float = 8.0

    def delay(self, failures: int) -> float:
        return random.uniform(0, min(self.cap, self.base * (2 ** max(0, failures - 1))))


def error_chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen and len(seen) < 10:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def _client_error_transient(exc: BaseException) -> bool | None:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    error = response.get("Error") or {}
    code = str(error.get("Code", ""))
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    if code in _TRANSIENT_CODES:
        return True
    if isinstance(status, int):
        return status == 429 or status >= 500
    return None


def http_status_transient(exc: BaseException) -> bool | None:
    """The HTTP status of a non-boto error (gcsfs ``HttpError.code``, azure-core
    ``HttpResponseError.status_code``, aiohttp ``ClientResponseError.status``):
    429 and 5xx are worth another try, other 4xx are not; None without a status."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if not names & {"HttpError", "HttpResponseError", "ClientResponseError"}:
        return None
    for attr in ("status_code", "status", "code"):
        status = getattr(exc, attr, None)
        if isinstance(status, int) and 100 <= status < 600:
            return status == 429 or status >= 500 or status == 408
    return None


def is_transient(exc: BaseException) -> bool:
    """True if trying the same operation again may succeed."""
    if deadline_of(exc) is not None:
        return False
    for err in error_chain(exc):
        verdict = _client_error_transient(err)
        if verdict is None:
            verdict = http_status_transient(err)
        if verdict is not None:
            return verdict
        names = {cls.__name__ for cls in type(err).__mro__}
        if names & _TRANSIENT_NAMES:
            return True
        if isinstance(err, PermissionError | FileNotFoundError | IsADirectoryError):
            return False
        if isinstance(err, TimeoutError | ConnectionError):
            return True
        if isinstance(err, OSError) and err.errno in _TRANSIENT_ERRNOS:
            return True
    return False


def call_with_retries(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fn`` until it succeeds, a permanent error occurs, or attempts run out.

    ``on_retry(failures, exc, delay)`` is called before each wait. The last exception
    is re-raised unchanged (callers turn it into a redacted :class:`RemoteError`).
    """
    failures = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            failures += 1
            if failures >= policy.attempts or not is_transient(exc):
                raise
            delay = policy.delay(failures)
            if on_retry is not None:
                on_retry(failures, exc, delay)
            sleep(delay)


class Retrier:
    """``call_with_retries`` bound to a policy and a retry callback."""

    def __init__(
        self,
        policy: RetryPolicy,
        on_retry: Callable[[int, BaseException, float], None] | None = None,
    ) -> None:
        self.policy = policy
        self.on_retry = on_retry

    def __call__(self, fn: Callable[[], T]) -> T:
        return call_with_retries(fn, self.policy, on_retry=self.on_retry)
