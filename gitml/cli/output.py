"""Everything the CLI shows: Rich console, JSON, and the progress bridge.

The library reports through :class:`gitml.progress.Event` callbacks; here they
become Rich progress bars (files/s, MB/s) on a TTY and nothing otherwise.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

# Rich is imported when something is first shown, not when the CLI starts:
# `gitml --help`, usage errors and silent commands never pay for it.
if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from gitml.cli.bars import Bars
    from gitml.progress import Callback, Event


class Settings:
    quiet: bool = False
    verbose: bool = False
    traceback: bool = False


settings = Settings()


def _make_console(*, stderr: bool) -> Console:
    from rich.console import Console

    # Captured output (CI logs, hooks) is read by people too: no 80-column squeeze.
    made = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not made.is_terminal:
        made.width = 160
    return made


@cache
def console() -> Console:
    """The stdout console, made on first use (one per process)."""
    return _make_console(stderr=False)


@cache
def err_console() -> Console:
    """The stderr console, made on first use (one per process)."""
    return _make_console(stderr=True)


def table(*headers: str) -> Table:
    """A Rich table with these column headers."""
    from rich.table import Table

    return Table(*headers)


def to_jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in asdict(value).items() if not k.startswith("_")}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "__fspath__"):
        return str(value)
    return value


def print_json(value: Any) -> None:
    import json

    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n")


def say(message: str) -> None:
    if not settings.quiet:
        console().print(message)


def warn(message: str) -> None:
    from rich.markup import escape

    # library messages are plain text: "[remote.s3]" must not be read as a style
    err_console().print(f"[yellow]warning:[/] {escape(message)}", markup=True)


@contextmanager
def progress() -> Iterator[Callback]:
    """A callback that renders library progress events, for one command."""
    # Bars (and rich.progress) are set up when the first task starts, and only
    # on a terminal: most commands finish in milliseconds or run in hooks/CI.
    bars: Bars | None = None
    show: bool | None = None
    first_start = threading.Lock()  # events may come from worker threads

    def callback(event: Event) -> None:
        nonlocal bars, show
        if event.kind in ("start", "advance", "done"):
            if show is None and event.kind == "start":
                with first_start:
                    if show is None:
                        visible = err_console().is_terminal and not settings.quiet
                        if visible:
                            from gitml.cli.bars import Bars

                            bars = Bars(err_console())
                        show = visible  # last: whoever sees it set also sees the bars
            if bars is not None:
                bars.handle(event)
        elif event.kind == "warning":
            warn(event.message)
        elif event.kind == "info" and (settings.verbose or "waiting" in event.message):
            err_console().print(event.message, markup=False)

    try:
        yield callback
    finally:
        if bars is not None:
            bars.close()


def human_size(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"
