"""Named fault points for crash tests.

``GITML_FAULT=name[,name...]`` makes the process SIGKILL itself when it reaches
one of those points; ``GITML_FAULT=name:N`` does so the N-th time it is
reached. Tests use real kills, never mocks, to prove crash safety. Costs one
dict lookup when unset.
"""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def _targets() -> dict[str, int]:
    spec = os.environ.get("GITML_FAULT", "")
    out: dict[str, int] = {}
    for item in filter(None, spec.split(",")):
        name, _, nth = item.partition(":")
        out[name] = int(nth) if nth.isdigit() else 1
    return out


_TARGETS = _targets()


def fault_point(name: str) -> None:
    """SIGKILL this process here if the environment asks for it."""
    if not _TARGETS:
        return
    nth = _TARGETS.get(name)
    if nth is None:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= nth:
        os.kill(os.getpid(), signal.SIGKILL)
