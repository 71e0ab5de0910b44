"""Statistics of any tabular dataset version, at a bounded cost (for commit metadata).

The same profiles as a data guard's reference statistics (:mod:`gitml.guards.stats`),
for every tracked Parquet/CSV/TSV/JSONL/Feather dataset, so a dataset review can
compare two versions without reading either. Cost is bounded: at most
:data:`MAX_PROFILE_ROWS` rows are read (the first ones; ``truncated`` says so),
at most :data:`MAX_PROFILED_COLUMNS` columns. Parquet footers give the exact row
count and, where every row group has them, exact null counts and min/max.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from gitml.guards.readers import DataUnreadable, detect_format, open_dataset, parquet_summary
from gitml.guards.stats import MAX_PROFILED_COLUMNS, assemble, column_kind, new_profile

MAX_PROFILE_ROWS = 1_000_000
BATCH_ROWS = 65_536


def is_tabular(name: str) -> bool:
    return detect_format(name) is not None


def profile_data(root: Path, rel: str, *, max_rows: int = MAX_PROFILE_ROWS) -> dict[str, Any]:
    """The statistics document of the data at ``root/rel`` (DataUnreadable if it
    cannot be read: a folder of non-tabular files, a malformed file)."""
    opened = open_dataset(root, rel, None)
    schema = opened.dataset.schema
    names = list(schema.names)[:MAX_PROFILED_COLUMNS]
    profiles = {c: new_profile(schema.field(c).type) for c in names}
    summary = parquet_summary(opened) if opened.format == "parquet" else None
    read = 0
    truncated = False
    try:
        for batch in opened.dataset.to_batches(
            columns=names, batch_size=BATCH_ROWS, batch_readahead=1, fragment_readahead=1
        ):
            if read + batch.num_rows > max_rows:
                batch = batch.slice(0, max_rows - read)
                truncated = True
            read += batch.num_rows
            for i, name in enumerate(batch.schema.names):
                profiles[name].update(batch.column(i))
            if truncated:
                break
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise DataUnreadable(f"cannot read {rel}: {opened.describe(exc)}") from None
    doc = assemble(read, profiles)
    doc["format"] = opened.format
    doc["rows_read"] = read
    doc["truncated"] = truncated
    doc["rows"] = summary.rows if summary is not None else (None if truncated else read)
    if summary is not None and summary.rows:
        for name, column in doc["columns"].items():
            if name in summary.nulls:  # exact, from every footer
                column["nulls"] = summary.nulls[name]
                column["null_fraction"] = round(summary.nulls[name] / summary.rows, 6)
            found = summary.minmax.get(name)
            if found is not None and column_kind(schema.field(name).type) == "numeric":
                lo, hi = found
                if isinstance(lo, int | float) and isinstance(hi, int | float):
                    column["min"], column["max"] = float(lo), float(hi)
    return doc
