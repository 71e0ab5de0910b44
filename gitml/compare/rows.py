"""Row-level diff of one table (Parquet, CSV, TSV, JSONL, Feather) between two versions.

With a key (one or more columns), rows are matched by key: a key only in the
old version is a removed row, only in the new one an added row, in both a row
whose other columns are compared cell by cell (``old -> new``). Without a key a
row is its values: the diff is the multiset difference of the rows (a row
present twice before and three times after is one added row), and no row is
"changed". Only the columns both versions have are compared; columns added,
removed or retyped are listed on their own. How rows are matched and values
compared: :mod:`gitml.compare.rowmatch`.

Two versions whose estimated size in memory (Parquet footers' uncompressed
sizes, else the files' sizes) is at most IN_MEMORY_MAX are read whole; bigger
ones are hash-partitioned on disk and matched one partition at a time
(:mod:`gitml.compare.partition`), with the same result. The data comes from
the cache, fetched from the data remote when missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.compare.rowmatch import match, plan, split_columns
from gitml.compare.sides import Side, open_side
from gitml.context import RepoContext
from gitml.errors import InputError, UsageError
from gitml.registry.revision import Resolver

DEFAULT_LIMIT = 10
IN_MEMORY_MAX = 256 << 20  # estimated bytes of both versions; above: hash partitions
BATCH_ROWS = 1 << 16  # rows per record batch when streaming
COMPRESSED_TEXT_FACTOR = 4  # a compressed CSV/JSONL file's size in memory, roughly


@dataclass
class RowDiff:
    path: str
    old: Side
    new: Side
    key: list[str] | None
    format: str
    rows: dict[str, int]
    columns: dict[str, Any]
    counts: dict[str, int]
    changed_columns: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[Any]] = field(default_factory=dict)
    limit: int = DEFAULT_LIMIT

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "gitml.diff-rows/1",
            "path": self.path,
            "format": self.format,
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "key": self.key,
            "rows": self.rows,
            "columns": self.columns,
            "counts": self.counts,
            "changed_columns": self.changed_columns,
            "examples": self.examples,
            "limit": self.limit,
        }


# -- reading ------------------------------------------------------------------------


@dataclass
class Source:
    """One version of the table, opened lazily (a pyarrow dataset)."""

    path: str
    label: str
    format: str
    dataset: Any
    root: Path

    def failed(self, exc: BaseException) -> InputError:
        """pyarrow's many error types as one line, no traceback."""
        from gitml.guards.readers import describe

        return InputError(f"{self.path} at {self.label} cannot be read: {describe(self.root, exc)}")

    def table(self) -> Any:
        try:
            return self.dataset.to_table()
        except Exception as exc:
            raise self.failed(exc) from None

    def batches(self, columns: list[str]) -> Iterator[Any]:
        """The ``columns`` in record batches of BATCH_ROWS rows, none read ahead
        (Parquet: a row group's pages at a time, not the whole file pre-buffered)."""
        import pyarrow.dataset as ds

        options = (
            ds.ParquetFragmentScanOptions(pre_buffer=False) if self.format == "parquet" else None
        )
        try:
            scanner = self.dataset.scanner(
                columns=columns,
                batch_size=BATCH_ROWS,
                batch_readahead=0,
                fragment_readahead=0,
                use_threads=False,
                fragment_scan_options=options,
            )
            batches = iter(scanner.to_batches())
        except Exception as exc:
            raise self.failed(exc) from None
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except Exception as exc:
                raise self.failed(exc) from None
            yield batch

    def estimated_bytes(self) -> int:
        """Size in memory, roughly: for Parquet the rows (footers) times the Arrow
        bytes per row of the first file's first 4,096 rows (footer sizes miss what dictionary
        encoding saves), else the files' sizes (compressed text times
        COMPRESSED_TEXT_FACTOR)."""
        from gitml.guards.readers import COMPRESSED

        total = 0
        try:
            fragments = list(self.dataset.get_fragments())
            if self.format == "parquet":
                rows = sum(f.metadata.num_rows for f in fragments)
                footers = sum(
                    f.metadata.row_group(i).total_byte_size
                    for f in fragments
                    for i in range(f.metadata.num_row_groups)
                )
                per_row = _bytes_per_row(fragments[0].path) if fragments else 0.0
                return max(int(footers), int(rows * per_row))
            for frag in fragments:
                size = os.stat(frag.path).st_size
                packed = frag.path.lower().endswith(COMPRESSED)
                total += size * (COMPRESSED_TEXT_FACTOR if packed else 1)
        except Exception as exc:
            raise self.failed(exc) from None
        return total


def _bytes_per_row(path: str) -> float:
    """Arrow bytes per row of a Parquet file's first 4,096 rows (read directly:
    ``Dataset.head`` leaves pyarrow 26 crashing at exit)."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path, pre_buffer=False) as pf:
        sample = next(pf.iter_batches(batch_size=4096), None)
    return sample.nbytes / sample.num_rows if sample is not None and sample.num_rows else 0.0


@contextmanager
def _opened(ctx: RepoContext, side: Side, path: str) -> Iterator[Source]:
    """``path`` at ``side``; tracked data that the cache lacks is fetched from the
    default data remote first."""
    from gitml.guards.readers import DataUnreadable, open_dataset

    snapshot = side.snapshot
    if side.commit is not None:
        owner = next(
            (t for t in snapshot.pointers() if path == t or path.startswith(t + "/")), None
        )
        if owner is not None:
            from gitml.remotes.workflow import fetch_missing

            pointer = snapshot.pointers()[owner]
            fetch_missing(ctx, {f"{owner}.gitml@{side.label}": pointer})
        elif not snapshot.blobs(path):
            raise UsageError(
                f"{path} is not in {side.label}",
                hint="name a table that both versions hold (gitml diff lists tracked changes)",
            )
    with snapshot.view([path]) as view:
        problem = view.missing.get(path) or next(
            (why for name, why in view.missing.items() if path.startswith(name + "/")), None
        )
        if problem is not None:
            raise InputError(f"{path} at {side.label} {problem}")
        try:
            opened = open_dataset(view.root, path, None)
        except DataUnreadable as exc:
            raise InputError(f"{side.label}: {exc}") from None
        yield Source(path, side.label, opened.format, opened.dataset, view.root)


def _column_changes(old: Any, new: Any) -> dict[str, Any]:
    """Columns added, removed and retyped between two schemas."""
    old_names, new_names = old.names, new.names
    retyped = [
        {"column": n, "old": str(old.field(n).type), "new": str(new.field(n).type)}
        for n in old_names
        if n in new_names and old.field(n).type != new.field(n).type
    ]
    return {
        "added": [n for n in new_names if n not in old_names],
        "removed": [n for n in old_names if n not in new_names],
        "retyped": retyped,
    }


def _unique_names(schema: Any, where: str) -> None:
    names = schema.names
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{where} has the column {dup[0]!r} more than once")


def diff_tables(old: Any, new: Any, key: list[str] | None, limit: int) -> dict[str, Any]:
    """counts, changed_columns and examples of ``old`` vs ``new`` (pyarrow Tables)."""
    key_cols, others = split_columns(old.schema.names, new.schema.names, key)
    compared = key_cols + others
    found = match(old, new, key_cols, others, limit, plan(old, new, compared))
    return found.result(key, others)


def _compare(
    ctx: RepoContext,
    old: Source,
    new: Source,
    key: list[str] | None,
    limit: int,
    in_memory_max: int | None,
    partitions: int | None,
) -> tuple[dict[str, int], dict[str, Any]]:
    """(rows per version, counts/changed_columns/examples): in memory or partitioned."""
    import tempfile

    from gitml.compare.partition import diff_partitioned, partitions_for

    key_cols, others = split_columns(old.dataset.schema.names, new.dataset.schema.names, key)
    size = old.estimated_bytes() + new.estimated_bytes()
    if size <= (IN_MEMORY_MAX if in_memory_max is None else in_memory_max):
        old_table, new_table = old.table(), new.table()
        rows = {"old": old_table.num_rows, "new": new_table.num_rows}
        return rows, diff_tables(old_table, new_table, key, limit)
    ctx.gitml_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rows-", dir=ctx.gitml_dir) as scratch:
        rows, found = diff_partitioned(
            old.batches,
            new.batches,
            (old.dataset.schema, new.dataset.schema),
            key_cols,
            others,
            limit,
            Path(scratch),
            partitions or partitions_for(size),
        )
    return rows, found.result(key, others)


def row_diff(
    ctx: RepoContext,
    path: str,
    old_rev: str | None = "HEAD",
    new_rev: str | None = None,
    *,
    key: list[str] | None = None,
    limit: int = DEFAULT_LIMIT,
    in_memory_max: int | None = None,
    partitions: int | None = None,
) -> RowDiff:
    """The rows of the table at ``path`` added, removed and changed from
    ``old_rev`` to ``new_rev`` (None: the workspace). Versions estimated above
    ``in_memory_max`` bytes (default IN_MEMORY_MAX) are compared through
    ``partitions`` hash partitions (default: from the size)."""
    if limit < 0:
        raise UsageError("--limit must be 0 or more", "gitml diff data.csv --rows --limit 5")
    resolver = Resolver(ctx)
    old_side = open_side(ctx, resolver, old_rev)
    new_side = open_side(ctx, resolver, new_rev)
    with _opened(ctx, old_side, path) as old, _opened(ctx, new_side, path) as new:
        old_schema, new_schema = old.dataset.schema, new.dataset.schema
        _unique_names(old_schema, f"{path} at {old_side.label}")
        _unique_names(new_schema, f"{path} at {new_side.label}")
        rows, found = _compare(ctx, old, new, key or None, limit, in_memory_max, partitions)
        return RowDiff(
            path=path,
            old=old_side,
            new=new_side,
            key=key or None,
            format=old.format,
            rows=rows,
            columns=_column_changes(old_schema, new_schema),
            counts=found["counts"],
            changed_columns=found["changed_columns"],
            examples=found["examples"],
            limit=limit,
        )
