"""``gitml show`` and ``gitml log``: metadata read back from notes.

The whole history is one ``git log`` plus one batched read of the notes,
never a process per commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitml.context import RepoContext
from gitml.errors import UsageError
from gitml.git.notes import read_note
from gitml.meta.document import parse_note
from gitml.progress import Callback, Reporter


@dataclass
class LogRow:
    commit: str
    date: int
    author: str
    subject: str
    verified: bool | None
    values: dict[str, Any] = field(default_factory=dict)


def show(ctx: RepoContext, rev: str = "HEAD") -> dict[str, Any]:
    sha = ctx.git.rev_parse(rev)
    bad: list[str] = []
    doc = parse_note(read_note(ctx.git, sha), on_bad=bad.append)
    if bad:
        raise UsageError(
            f"commit {sha[:12]}: its gitml note cannot be read: {bad[0]}",
            f"notes are shared by push/pull; see it with: git notes --ref=gitml show {sha[:12]}",
        )
    if doc is None:
        raise UsageError(
            f"commit {sha[:12]} has no gitml metadata",
            "metadata is attached by the post-commit hook (gitml hooks install); "
            "fetch others' with gitml pull",
        )
    return {"commit": sha, **doc}


def flatten(prefix: str, value: Any, out: dict[str, Any], *, keep_lists: bool = False) -> None:
    """Nested mappings as dotted keys (``eval.auc``); other containers are left
    out, or kept whole as one value with ``keep_lists`` (params such as layer sizes)."""
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flatten(name, item, out, keep_lists=keep_lists)
    elif _leaf(value) or (keep_lists and isinstance(value, list)):
        out[prefix] = value


def _leaf(value: Any) -> bool:
    return isinstance(value, int | float | str | bool) or value is None


def log(
    ctx: RepoContext,
    path: str | None = None,
    *,
    metrics: bool = False,
    rev: str = "HEAD",
    max_count: int | None = None,
    callback: Callback | None = None,
) -> list[LogRow]:
    report = Reporter(callback)
    if ctx.git.try_rev_parse(rev) is None:
        return []
    records = ctx.git.log_records(rev, max_count=max_count, notes=True)
    rows: list[LogRow] = []
    for rec in records:
        bad: list[str] = []
        doc = parse_note(rec.note, on_bad=bad.append)
        if bad:  # someone pushed a note we cannot read: this commit only, and say so
            report.warning(f"commit {rec.sha[:12]}: its gitml note was skipped: {bad[0]}")
        values: dict[str, Any] = {}
        if doc is not None:
            if path is not None:
                entry = (doc.get("data") or {}).get(path)
                if entry is None:
                    for name, body in (doc.get("metrics") or {}).items():
                        if name == path:
                            flatten("", body, values)
                else:
                    values = dict(entry)
            if metrics or path is None:
                for body in (doc.get("metrics") or {}).values():
                    flatten("", body, values)
        if path is not None and not values:
            continue
        rows.append(
            LogRow(
                rec.sha,
                rec.author_time,
                rec.author_name,
                rec.subject,
                None if doc is None else bool(doc.get("verified")),
                values,
            )
        )
    return rows
