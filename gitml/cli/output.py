"""Everything the CLI shows: Rich console, JSON, and the progress bridge.

The library reports through :class:`gitml.progress.Event` callbacks; here they
become Rich progress bars (files/s, MB/s) on a TTY and nothing otherwise.
"""

from __future__ import annotations

import re
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


_EMOJI = re.compile(r":\S*?:")  # a superset of Rich's emoji codes


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
    """A Rich table with these column headers: boxed on a terminal, plain
    space-separated columns when stdout is a pipe or a file (grep, awk, logs)."""
    from rich.table import Table

    if console().is_terminal:
        return Table(*headers)
    return Table(*headers, box=None, show_edge=False, pad_edge=False, header_style=None)


def iso_time(when: float | str | None) -> str:
    """One date format for people too: ISO 8601 in UTC to the second
    (``2026-05-01T09:30:00Z``), from a Unix time or an ISO string."""
    import datetime as dt

    if when is None or when == "":
        return "-"
    if isinstance(when, str):
        return when
    moment = dt.datetime.fromtimestamp(when, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


JSON_HELP = "Machine-readable output (shape: docs/JSON.md)."
REMOTE_CLOUD_HELP = "Which data remote (implies --cloud; default: core.remote)."


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


def print_json(value: Any, *, schema: str | None = None) -> None:
    """``value`` as JSON on stdout. With ``schema`` (``gitml.COMMAND/N``, see
    docs/JSON.md) the document is an object whose ``schema`` field names its
    shape: ``value``'s fields, or ``{"schema": ..., "items": [...]}`` for a list."""
    import json

    data = to_jsonable(value)
    if schema is not None:
        data = {"schema": schema, **(data if isinstance(data, dict) else {"items": data})}
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def say(message: str) -> None:
    if settings.quiet:
        return
    if _plain(message):  # what Rich would print anyway: no need to import it (~12 ms)
        sys.stdout.write(message + "\n")
        return
    console().print(message)


def _plain(message: str) -> bool:
    """True if Rich would print ``message`` unchanged: printable text with no markup
    (``[``) and no emoji code (``:name:``). The console soft-wraps, so it adds no
    line breaks of its own."""
    if "[" in message or (message.count(":") > 1 and _EMOJI.search(message)):
        return False
    return message.replace("\n", "").isprintable()


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


def plain(value: Any) -> str:
    """A value from a document as people read it, never a Python repr:
    ``{'a': {'b': 1}, 'c': [1, 2]}`` -> ``a.b: 1, c: 1, 2``; None -> ``-``."""
    if isinstance(value, dict):
        return ", ".join(_flat(value, "")) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) or "-"
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _flat(mapping: dict[Any, Any], prefix: str) -> Iterator[str]:
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from _flat(value, name + ".")
        else:
            yield f"{name}: {plain(value)}"


def human_size(n: int | None) -> str:
    """:func:`gitml.progress.human_size` (the one size format); ``-`` for unknown."""
    from gitml.progress import human_size as size

    return "-" if n is None else size(n)
