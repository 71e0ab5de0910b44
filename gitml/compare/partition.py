"""Row diff in bounded memory: hash partitioning of both versions.

For tables too big to hold (``rows.IN_MEMORY_MAX``), both versions are read in
record batches, in three passes:

1. (only if a column was retyped) the old version's retyped columns, to find
   the type each is compared in, as :func:`gitml.compare.rowmatch.plan` does
   on whole columns (the cast must work for every value);
2. each version once: every row goes to one of N partition files (Arrow IPC,
   in a scratch folder) by a hash of its key (without a key: of the whole
   row), with its position in its version. Rows that compare equal hash
   alike (:mod:`gitml.compare.rowhash`), so each key, or each distinct row,
   lies in one partition of each version, and a partition keeps the rows'
   order;
3. partition by partition, both sides are matched in memory by
   :func:`gitml.compare.rowmatch.match`; counts add up, examples are merged
   by position (at most ``limit`` per kind are kept).

The result is the one the whole tables give. Memory: one record batch while
partitioning, one partition of each version while matching (N is chosen so a
partition is about PARTITION_BYTES).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gitml.compare.rowhash import column_hash, combine
from gitml.compare.rowmatch import (
    Found,
    candidates,
    castable,
    decoded,
    duplicates,
    match,
    prepared,
)

PARTITION_BYTES = 32 << 20  # estimated size of a partition (both versions, in memory)
MAX_PARTITIONS = 256  # files open at once while one version is written

Batches = Callable[[list[str]], Iterator[Any]]  # columns -> record batches of one version


def partitions_for(estimated_bytes: int) -> int:
    return max(2, min(MAX_PARTITIONS, math.ceil(estimated_bytes / PARTITION_BYTES)))


def stream_plan(
    old_batches: Batches, new_batches: Batches, old_schema: Any, new_schema: Any, columns: list[str]
) -> dict[str, Any]:
    """The type each column is compared in (None: Python values), as ``plan`` finds
    on whole tables, from batches: only retyped columns are read."""
    import pyarrow as pa

    types: dict[str, Any] = {}
    open_: dict[str, list[Any]] = {}
    for name in columns:
        found = candidates(old_schema.field(name).type, new_schema.field(name).type)
        if len(found) == 1:
            types[name] = found[0]
        else:
            open_[name] = found
    if open_:
        for batch in old_batches(list(open_)):
            for name, left in open_.items():
                left[:] = [t for t in left if castable(batch.column(name), t)]
        text = pa.large_string()
        as_text = [n for n, left in open_.items() if left and left[0] == text]
        if as_text:  # the new values must cast to text too
            for batch in new_batches(as_text):
                for name in as_text:
                    if open_[name] and not castable(batch.column(name), text):
                        open_[name] = []
        for name, left in open_.items():
            types[name] = left[0] if left else None
    return types


def diff_partitioned(
    old_batches: Batches,
    new_batches: Batches,
    schemas: tuple[Any, Any],
    key: list[str],
    others: list[str],
    limit: int,
    scratch: Path,
    parts: int,
) -> tuple[dict[str, int], Found]:
    """(rows per version, Found) of the two versions, through ``parts`` partitions
    written under ``scratch`` (removed as they are used)."""
    compared = key + others
    types = stream_plan(old_batches, new_batches, schemas[0], schemas[1], compared)
    hashed = key or compared
    rows: dict[str, int] = {}
    sides = (("old", old_batches, schemas[0]), ("new", new_batches, schemas[1]))
    for label, batches, schema in sides:
        folder = scratch / label
        rows[label] = _write(batches(compared), schema, compared, hashed, types, parts, folder)
    total = Found()
    for p in range(parts):
        old, old_pos = _read(scratch / "old" / f"{p}.arrow")
        new, new_pos = _read(scratch / "new" / f"{p}.arrow")
        if any(total.duplicates):  # refused in the end: only count the rest
            total.absorb(Found(duplicates=duplicates(old, new, key, types)), limit)
        elif old.num_rows or new.num_rows:
            found = match(old, new, key, others, limit, types, (old_pos, new_pos))
            total.absorb(found, limit)
        del old, new
    return rows, total


def _part_schema(schema: Any, columns: list[str]) -> Any:
    import pyarrow as pa

    from gitml.compare.rowmatch import value_type

    fields = [pa.field(n, value_type(schema.field(n).type)) for n in columns]
    return pa.schema([*fields, pa.field("position", pa.int64())])


def _write(
    batches: Iterator[Any],
    schema: Any,
    columns: list[str],
    hashed: list[str],
    types: dict[str, Any],
    parts: int,
    folder: Path,
) -> int:
    """Spread the rows over ``parts`` IPC files; returns the number of rows."""
    import numpy as np
    import pyarrow as pa

    folder.mkdir()
    out_schema = _part_schema(schema, columns)
    sinks = [pa.OSFile(str(folder / f"{p}.arrow"), "wb") for p in range(parts)]
    writers = [pa.ipc.new_file(s, out_schema) for s in sinks]
    at = {n: i for i, n in enumerate(columns)}
    rows = 0
    try:
        for batch in batches:
            n = batch.num_rows
            if not n:
                continue
            cols = [decoded(batch.column(i)) for i in range(len(columns))]
            h = np.zeros(n, dtype=np.uint64)
            for name in hashed:
                target = types[name]
                values = column_hash(prepared(cols[at[name]], target), by_value=target is None)
                h = combine(h, values)
            pid = (h % np.uint64(parts)).astype(np.uint16)
            order = np.argsort(pid, kind="stable")
            counts = np.bincount(pid, minlength=parts)
            index = pa.array(order, type=pa.int64())
            arrays = [c.take(index) for c in cols] + [pa.array(order + rows, type=pa.int64())]
            spread = pa.RecordBatch.from_arrays(arrays, schema=out_schema)
            start = 0
            for p, count in enumerate(counts.tolist()):
                if count:
                    writers[p].write_batch(spread.slice(start, count))
                start += count
            rows += n
    finally:
        for w in writers:
            w.close()
        for s in sinks:
            s.close()
    return rows


def _read(path: Path) -> tuple[Any, Any]:
    """(table without the position column, positions) of one partition file; the
    file is removed once read."""
    import numpy as np
    import pyarrow as pa

    with pa.OSFile(str(path), "rb") as fh:
        table = pa.ipc.open_file(fh).read_all()
    path.unlink()
    last = table.num_columns - 1
    positions = np.asarray(table.column(last).to_numpy(), dtype=np.int64)
    return table.remove_column(last), positions
