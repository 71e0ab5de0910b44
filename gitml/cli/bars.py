"""Rich progress bars for library progress events, on a terminal only.

Imported by :func:`gitml.cli.output.progress` when the first task starts, so
commands that draw no bar never import ``rich.progress``.
"""

from __future__ import annotations

from rich.console import Console
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

from gitml.progress import Event


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


class Bars:
    """One command's bars: live from construction until :meth:`close`."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RatesColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}
        self._bar.start()

    def handle(self, event: Event) -> None:
        """A ``start``, ``advance`` or ``done`` event (others are ignored)."""
        bar, tasks = self._bar, self._tasks
        if event.kind == "start":
            tasks[event.task] = bar.add_task(event.task, total=event.total or None, nbytes=0)
        elif event.kind == "advance" and event.task in tasks:
            task_id = tasks[event.task]
            done = bar.tasks[bar.task_ids.index(task_id)].fields.get("nbytes", 0)
            bar.update(task_id, advance=event.count, nbytes=done + event.nbytes)
        elif event.kind == "done" and event.task in tasks:
            bar.remove_task(tasks.pop(event.task))

    def close(self) -> None:
        self._bar.stop()
