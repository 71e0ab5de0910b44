"""Open a guard's data (a file or a directory of files) as a pyarrow dataset.

Formats come from the extension (or the guard's ``format:``): Parquet
(``.parquet .pq .parq``), CSV (``.csv``), TSV (``.tsv``), JSON lines
(``.jsonl .ndjson``), Arrow IPC/Feather v2 (``.feather .arrow .ipc``); CSV,
TSV and JSON lines may be compressed (``.gz .bz2 .zst .lz4``). In a directory,
files and folders starting with ``.`` or ``_`` are ignored (``_SUCCESS``,
``.DS_Store``), as are files of unknown extension (README); ``key=value``
folders become (Hive) partition columns. A directory mixing formats needs
``format:``. Parquet footers are summarised here so rules can be answered
without reading rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

EXTENSIONS = {
    ".parquet": "parquet", ".pq": "parquet", ".parq": "parquet",
    ".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".feather": "feather", ".arrow": "feather", ".ipc": "feather",
}  # fmt: skip
COMPRESSED = (".gz", ".bz2", ".zst", ".lz4")
TEXT_FORMATS = ("csv", "tsv", "jsonl")


class DataUnreadable(Exception):
    """The data cannot be opened or read; becomes an "error" result."""


@dataclass(frozen=True, slots=True)
class OpenedData:
    dataset: Any  # pyarrow.dataset.Dataset
    format: str
    files: list[str]  # paths relative to the guard's data path ("" for a single file)
    root: Path

    def describe(self, exc: BaseException) -> str:
        """The exception's text with the repo root removed (messages show repo paths)."""
        return describe(self.root, exc)


def describe(root: Path, exc: BaseException) -> str:
    return str(exc).replace(f"{root}{os.sep}", "").replace(str(root), ".")


@dataclass(slots=True)
class ParquetSummary:
    """What Parquet footers say, without reading rows.

    ``nulls``/``minmax`` only hold columns for which *every* row group of every
    file has that statistic; ``divergent`` is the first file per column whose
    type differs from the dataset's (files written with different schemas).
    """

    rows: int = 0
    nulls: dict[str, int] = field(default_factory=dict)
    minmax: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    divergent: dict[str, tuple[str, str]] = field(default_factory=dict)


def detect_format(name: str) -> str | None:
    lower = name.lower()
    for suffix in COMPRESSED:
        if lower.endswith(suffix):
            fmt = EXTENSIONS.get(os.path.splitext(lower[: -len(suffix)])[1])
            return fmt if fmt in TEXT_FORMATS else None
    return EXTENSIONS.get(os.path.splitext(lower)[1])


def _walk(top: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        out += [Path(dirpath) / f for f in sorted(filenames) if not f.startswith((".", "_"))]
    return out


def list_files(root: Path, rel: str, fmt: str | None) -> tuple[str, list[Path]]:
    """(format, files) of the data at ``root/rel``; DataUnreadable if there are none."""
    path = root / rel
    if not path.exists():
        hint = " (not checked out? run gitml checkout)" if (root / f"{rel}.gitml").exists() else ""
        raise DataUnreadable(f"{rel} does not exist{hint}")
    if path.is_file():
        found = fmt or detect_format(path.name)
        if found is None:
            raise DataUnreadable(f"{rel}: unknown data format; set format: in the guard")
        return found, [path]
    files = _walk(path)
    if fmt is None:
        formats = {f: detect_format(f.name) for f in files}
        kinds = sorted({k for k in formats.values() if k is not None})
        if len(kinds) > 1:
            raise DataUnreadable(f"{rel} mixes formats ({', '.join(kinds)}); set format:")
        if not kinds:
            raise DataUnreadable(f"{rel} holds no data files of a known format")
        fmt = kinds[0]
        files = [f for f in files if formats[f] == fmt]
    if not files:
        raise DataUnreadable(f"{rel} holds no data files")
    return fmt, files


def file_format(fmt: str) -> Any:
    if fmt == "parquet":
        return ds.ParquetFileFormat()
    if fmt == "csv":
        return ds.CsvFileFormat()
    if fmt == "tsv":
        import pyarrow.csv as pacsv

        return ds.CsvFileFormat(parse_options=pacsv.ParseOptions(delimiter="\t"))
    if fmt == "jsonl":
        return ds.JsonFileFormat()
    return ds.IpcFileFormat()


def open_dataset(root: Path, rel: str, fmt: str | None) -> OpenedData:
    """Open the data lazily (schema only; for Parquet just the first footer)."""
    fmt, files = list_files(root, rel, fmt)
    base = root / rel
    try:
        if base.is_dir():
            dataset = ds.dataset(
                [str(f) for f in files],
                format=file_format(fmt),
                partitioning="hive",
                partition_base_dir=str(base),
            )
            names = [f.relative_to(base).as_posix() for f in files]
        else:
            dataset = ds.dataset(str(base), format=file_format(fmt))
            names = [""]
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataUnreadable(f"cannot open {rel}: {describe(root, exc)}") from None
    return OpenedData(dataset, fmt, names, root)


def parquet_summary(opened: OpenedData) -> ParquetSummary:
    """Row count, null counts, min/max and schema divergence from the footers only."""
    summary = ParquetSummary()
    schema = opened.dataset.schema
    nulls: dict[str, int | None] = {}
    minmax: dict[str, tuple[Any, Any] | None] = {}
    try:
        for frag, name in zip(opened.dataset.get_fragments(), opened.files, strict=True):
            meta = frag.metadata
            summary.rows += meta.num_rows
            physical = frag.physical_schema
            for col in physical.names:
                if col in schema.names and not physical.field(col).type.equals(
                    schema.field(col).type
                ):
                    summary.divergent.setdefault(col, (name, str(physical.field(col).type)))
            index = _leaf_columns(meta, physical)
            for col in schema.names:
                if col not in physical.names:  # column absent from this file: all nulls
                    nulls[col] = None
                    minmax[col] = None
                    continue
                for rg in range(meta.num_row_groups):
                    chunk = meta.row_group(rg).column(index[col]) if col in index else None
                    stats = chunk.statistics if chunk is not None else None
                    _merge_stats(col, stats, nulls, minmax)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataUnreadable(f"cannot read Parquet footers: {opened.describe(exc)}") from None
    summary.nulls = {c: n for c, n in nulls.items() if n is not None}
    summary.minmax = {c: m for c, m in minmax.items() if m is not None}
    return summary


def _leaf_columns(meta: Any, physical: Any) -> dict[str, int]:
    """Top-level primitive columns → their column-chunk index in row groups."""
    if meta.num_row_groups == 0:
        return {}
    rg = meta.row_group(0)
    paths = [rg.column(i).path_in_schema for i in range(rg.num_columns)]
    out = {}
    for col in physical.names:
        if pa.types.is_nested(physical.field(col).type) or paths.count(col) != 1:
            continue
        out[col] = paths.index(col)
    return out


def _merge_stats(
    col: str,
    stats: Any,
    nulls: dict[str, int | None],
    minmax: dict[str, tuple[Any, Any] | None],
) -> None:
    if stats is None or not stats.has_null_count:
        nulls[col] = None
    elif nulls.get(col, 0) is not None:
        nulls[col] = (nulls.get(col) or 0) + stats.null_count
    if stats is None or not stats.has_min_max:
        # A row group of only nulls has no min/max but does not widen the range.
        if stats is None or stats.num_values != 0:
            minmax[col] = None
        return
    if col in minmax and minmax[col] is None:
        return
    current = minmax.get(col)
    lo, hi = stats.min, stats.max
    if current is not None:
        lo, hi = min(current[0], lo), max(current[1], hi)
    minmax[col] = (lo, hi)
