"""Everything the CLI shows: Rich console, JSON, and the progress bridge.

The library reports through :class:`gitml.progress.Event` callbacks; here they
become Rich progress bars (files/s, MB/s) on a TTY and nothing otherwise.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from typing import Any

from rich.console import Console

from gitml.progress import Callback, Event


class Settings:
    quiet: bool = False
    verbose: bool = False
    traceback: bool = False


settings = Settings()
# Captured output (CI logs, hooks) is read by people too: no 80-column squeeze.
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
for _c in (console, err_console):
    if not _c.is_terminal:
        _c.width = 160


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
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n")


def say(message: str) -> None:
    if not settings.quiet:
        console.print(message)


def warn(message: str) -> None:
    err_console.print(f"[yellow]warning:[/] {message}", markup=True)


@contextmanager
def progress() -> Iterator[Callback]:
    """A callback that renders library progress events, for one command."""
    # rich.progress is imported here, not at start-up: most commands that
    # finish in milliseconds never draw a bar.
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class RatesColumn(ProgressColumn):
        """items/s and MB/s: the library reports both counts and bytes."""

        def render(self, task: Task) -> Text:
            elapsed = task.elapsed or 0.0
            if elapsed <= 0:
                return Text("")
            items = task.completed / elapsed
            mbytes = float(task.fields.get("nbytes", 0)) / elapsed / 1e6
            text = f"{items:,.0f}/s" + (f" {mbytes:,.1f} MB/s" if mbytes else "")
            return Text(text, style="progress.data.speed")

    show = err_console.is_terminal and not settings.quiet
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RatesColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not show,
    )
    tasks: dict[str, TaskID] = {}

    def callback(event: Event) -> None:
        if event.kind == "start":
            tasks[event.task] = bar.add_task(event.task, total=event.total or None, nbytes=0)
        elif event.kind == "advance" and event.task in tasks:
            task_id = tasks[event.task]
            done = bar.tasks[bar.task_ids.index(task_id)].fields.get("nbytes", 0)
            bar.update(task_id, advance=event.count, nbytes=done + event.nbytes)
        elif event.kind == "done" and event.task in tasks:
            bar.remove_task(tasks.pop(event.task))
        elif event.kind == "warning":
            warn(event.message)
        elif event.kind == "info" and (settings.verbose or "waiting" in event.message):
            err_console.print(event.message, markup=False)

    with bar:
        yield callback


def human_size(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"
