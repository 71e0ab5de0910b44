"""Statistics of every tracked tabular dataset, recorded in each commit's note.

``datasets: {path: {"oid", "size", "stats"}}``. A dataset whose pointer did not
change since the previous note keeps the statistics recorded there (no data is
read); a new or changed one is profiled from the commit's object in the cache
(:func:`gitml.guards.profile.profile_data`, bounded rows and columns). So any
two notes hold what ``gitml review`` compares, and a review never reads data.
"""

from __future__ import annotations

from typing import Any

from gitml.errors import GitmlError
from gitml.progress import Reporter
from gitml.workspace.pointer import Pointer
from gitml.workspace.snapshot import Snapshot

MAX_DIR_FILES = 1_000  # a folder of more files is not profiled at commit time
MAX_NEW_PER_COMMIT = 50  # datasets profiled in one commit (the rest: gitml review says so)


def _candidate(tracked: str, pointer: Pointer) -> bool:
    from gitml.guards.profile import is_tabular

    if pointer.kind == "file":
        return is_tabular(tracked)
    return (pointer.nfiles or 0) <= MAX_DIR_FILES


def collect_datasets(
    snapshot: Snapshot, previous: dict[str, Any] | None, reporter: Reporter | None = None
) -> dict[str, Any]:
    """``path -> {oid, size, stats}`` for the tabular datasets of ``snapshot``."""
    reporter = reporter or Reporter()
    before = (previous or {}).get("datasets")
    before = before if isinstance(before, dict) else {}
    out: dict[str, Any] = {}
    todo: list[str] = []
    pointers = snapshot.pointers()
    for tracked, pointer in pointers.items():
        if not _candidate(tracked, pointer):
            continue
        old = before.get(tracked)
        if isinstance(old, dict) and old.get("oid") == pointer.oid and "stats" in old:
            out[tracked] = old
        elif len(todo) < MAX_NEW_PER_COMMIT:
            todo.append(tracked)
    if not todo:
        return out
    from gitml.guards.profile import profile_data
    from gitml.guards.readers import DataUnreadable

    with snapshot.view(todo) as view:
        for tracked in todo:
            if tracked in view.missing:
                continue
            try:
                stats = profile_data(view.root, tracked)
            except (DataUnreadable, GitmlError):
                continue  # not a table (a folder of images, a model file): nothing to keep
            except Exception as exc:  # never fail a commit's note over statistics
                reporter.warning(f"{tracked}: no statistics recorded ({type(exc).__name__})")
                continue
            pointer = pointers[tracked]
            out[tracked] = {"oid": pointer.oid, "size": pointer.size, "stats": stats}
    return out
