"""Progress reporting: the library never prints, it calls a callback.

The CLI turns these events into Rich progress bars and messages; library users
may pass their own callback or none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

EventKind = Literal["start", "advance", "done", "info", "warning"]


@dataclass(frozen=True, slots=True)
class Event:
    """One progress event.

    ``start``: a task named ``task`` begins, ``total`` items/bytes expected (0 = unknown).
    ``advance``: ``count`` items and ``nbytes`` bytes done since the last event.
    ``done``: the task is finished.  ``info``/``warning``: a message for the user.
    """

    kind: EventKind
    task: str = ""
    total: int = 0
    count: int = 0
    nbytes: int = 0
    message: str = ""


Callback = Callable[[Event], None]


def null_callback(_event: Event) -> None:
    """The default: report nothing."""


class Reporter:
    """Small convenience wrapper so domain code reads well."""

    __slots__ = ("_cb",)

    def __init__(self, callback: Callback | None = None) -> None:
        self._cb: Callback = callback or null_callback

    def start(self, task: str, total: int = 0) -> None:
        self._cb(Event("start", task=task, total=total))

    def advance(self, task: str, count: int = 1, nbytes: int = 0) -> None:
        self._cb(Event("advance", task=task, count=count, nbytes=nbytes))

    def done(self, task: str) -> None:
        self._cb(Event("done", task=task))

    def info(self, message: str) -> None:
        self._cb(Event("info", message=message))

    def warning(self, message: str) -> None:
        self._cb(Event("warning", message=message))


def human_size(size: int) -> str:
    """``1234567`` -> ``1.2 MB``: the one size format of every message and table
    (decimal units, like most file browsers)."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if round(value, 1) < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"
