"""Comparing versions (issue 13): metrics/params diffs, row diffs, the dataset
review and the HTML report. Every revision may be a git revision or a registry
reference (``churn@v1``, ``churn#prod``); None is the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gitml.context import session
from gitml.errors import UsageError
from gitml.progress import Callback
from gitml.safepath import UserPath, as_path

if TYPE_CHECKING:
    from gitml.compare.values import Kind
    from gitml.context import RepoContext


if TYPE_CHECKING:
    from gitml.compare.changes import ValuesDiff, ValuesShow


def metrics_show(
    revs: list[str] | None = None, *, files: list[str] | None = None, cwd: UserPath | None = None
) -> ValuesShow:
    """Metrics at each revision (default: the workspace), from the committed files."""
    from gitml.compare.changes import values_show

    with session(cwd, None, write=False) as ctx:
        return values_show(ctx, "metrics", revs, files=_rel_all(ctx, files, cwd))


def metrics_diff(
    old: str | None = "HEAD",
    new: str | None = None,
    *,
    files: list[str] | None = None,
    all_rows: bool = False,
    cwd: UserPath | None = None,
) -> ValuesDiff:
    """Metrics at ``old`` vs ``new`` (None: the workspace): old, new, delta, %."""
    return _values_diff("metrics", old, new, files, all_rows, cwd)


def params_diff(
    old: str | None = "HEAD",
    new: str | None = None,
    *,
    files: list[str] | None = None,
    all_rows: bool = False,
    cwd: UserPath | None = None,
) -> ValuesDiff:
    """Params at ``old`` vs ``new`` (None: the workspace); changed keys unless ``all_rows``."""
    return _values_diff("params", old, new, files, all_rows, cwd)


def _values_diff(
    kind: Kind,
    old: str | None,
    new: str | None,
    files: list[str] | None,
    all_rows: bool,
    cwd: UserPath | None,
) -> ValuesDiff:
    from gitml.compare.changes import values_diff

    with session(cwd, None, write=False) as ctx:
        return values_diff(ctx, kind, old, new, files=_rel_all(ctx, files, cwd), all_rows=all_rows)


def _rel_all(ctx: RepoContext, paths: list[str] | None, cwd: UserPath | None) -> list[str] | None:
    return [ctx.relpath(p, cwd=cwd) for p in paths] if paths else None


if TYPE_CHECKING:
    from gitml.compare.rows import RowDiff


def diff_rows(
    path: str,
    old: str | None = "HEAD",
    new: str | None = None,
    *,
    key: list[str] | None = None,
    limit: int = 10,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> RowDiff:
    """Rows of one table (Parquet/CSV/TSV/JSONL/Feather) added, removed and changed
    between ``old`` and ``new`` (None: the workspace), matched by ``key`` columns or,
    without a key, by whole-row identity. Missing data is fetched from the remote."""
    from gitml.compare.rows import row_diff

    with session(cwd, callback, write=True) as ctx:  # may fetch into the cache
        return row_diff(ctx, ctx.relpath(path, cwd=cwd), old, new, key=key, limit=limit)


if TYPE_CHECKING:
    from gitml.compare.review import Review


def review(
    old: str | None = None, new: str | None = None, *, cwd: UserPath | None = None
) -> Review:
    """Dataset review of ``old`` (default: the parent of ``new``) vs ``new`` (default
    HEAD) from the statistics stored in their notes: no data is read."""
    from gitml.compare.review import review as do_review

    with session(cwd, None, write=False) as ctx:
        return do_review(ctx, old, new)


def report(
    output: str | Path,
    spec: str | None = None,
    *,
    model: str | None = None,
    cwd: UserPath | None = None,
) -> Path:
    """Write one self-contained HTML page (metrics charts, params, registry stage
    history, dataset review, guard results) for the commits ``spec`` (``A..B``, or
    a revision's history; default HEAD's) or the versions of ``model``."""
    from gitml.compare.html import render
    from gitml.compare.report import gather
    from gitml.store.durable import write_file_atomic

    with session(cwd, None, write=False) as ctx:
        page = render(gather(ctx, spec, model=model))
    target = Path(output) if Path(output).is_absolute() else as_path(cwd) / output
    if target.is_dir():
        raise UsageError(f"{output} is a folder", "gitml report -o report.html")
    write_file_atomic(target, page.encode("utf-8"))
    return target
