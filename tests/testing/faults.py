"""One fault schedule for every test server: "do X to the next K matching requests".

The S3/GCS/Azure ``FaultProxy`` and the SSH server serve different protocols but
take the same orders (``fail_next``, ``drop_next``, ``stall_next``, ``flip_next``)
and keep the same tallies (``counts`` per method, ``hits`` per fault kind), so a
test written against one runs against every backend.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

ALL_KINDS = ("status", "drop", "stall", "flip")


@dataclass
class Fault:
    kind: str  # "status" | "drop" | "stall" | "flip"
    remaining: int
    method: str | None = None
    status: int = 503
    after_bytes: int = 0
    seconds: float = 0.0
    stage: str = "response"  # drop: "request" (before upstream) or "response"
    code: str | None = None  # status: the S3 error code in the body
    message: str = "injected by FaultProxy"  # status: the error message in the body


class FaultSchedule:
    """Thread-safe list of pending faults, taken by the serving side per request."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.hits: Counter[str] = Counter()
        # a fault for method M also hits these methods (GCS uploads are POSTs)
        self.aliases: dict[str, tuple[str, ...]] = {}
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def fail_next(
        self,
        k: int = 1,
        *,
        status: int = 503,
        method: str | None = None,
        code: str | None = None,
        message: str = "injected by FaultProxy",
    ) -> None:
        """Answer the next ``k`` (matching) requests with an error (``status`` over HTTP)."""
        self._add(Fault("status", k, method, status=status, code=code, message=message))

    def drop_next(
        self,
        k: int = 1,
        *,
        after_bytes: int = 0,
        method: str | None = None,
        stage: str = "response",
    ) -> None:
        """Close the connection: before forwarding (stage="request") or after sending
        ``after_bytes`` bytes of the response."""
        self._add(Fault("drop", k, method, after_bytes=after_bytes, stage=stage))

    def stall_next(self, k: int = 1, *, seconds: float = 5.0, method: str | None = None) -> None:
        """Hold the response for ``seconds`` before sending it."""
        self._add(Fault("stall", k, method, seconds=seconds))

    def flip_next(self, k: int = 1, *, method: str | None = "GET") -> None:
        """Flip one byte in the middle of the next ``k`` non-empty response bodies."""
        self._add(Fault("flip", k, method))

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self.counts.clear()
            self.hits.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)

    def take(self, method: str, *, kinds: tuple[str, ...] = ALL_KINDS) -> Fault | None:
        """Count a ``method`` request and hand it the first pending fault of ``kinds``."""
        with self._lock:
            self.counts[method] += 1
            for fault in self._faults:
                matches = fault.method in (None, method) or method in self.aliases.get(
                    fault.method, ()
                )
                if fault.remaining <= 0 or not matches or fault.kind not in kinds:
                    continue
                fault.remaining -= 1
                self.hits[fault.kind] += 1
                return fault
            return None
