"""Row-level diff of one table (Parquet, CSV, TSV, JSONL, Feather) between two versions.

With a key (one or more columns), rows are matched by key: a key only in the
old version is a removed row, only in the new one an added row, in both a row
whose other columns are compared cell by cell (``old -> new``). Without a key a
row is its values: the diff is the multiset difference of the rows (a row
present twice before and three times after is one added row), and no row is
"changed". Only the columns both versions have are compared; columns added,
removed or retyped are listed on their own.

Equality is exact and type-aware: every compared column is turned into integer
codes (one dictionary-encode over both versions, nulls as -1; NaN equals NaN),
so the join and the comparisons run on integers. A retyped column is compared
after casting the old values to the new type when that is lossless (``1`` vs
``1.0`` is no change), else both as text. Both versions are read into memory
(the data comes from the cache, fetched from the data remote when missing).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gitml.compare.sides import Side, open_side
from gitml.context import RepoContext
from gitml.errors import InputError, UsageError
from gitml.registry.revision import Resolver

DEFAULT_LIMIT = 10


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


@contextmanager
def _opened(ctx: RepoContext, side: Side, path: str) -> Iterator[tuple[str, Any]]:
    """(format, pyarrow Table) of ``path`` at ``side``; tracked data that the
    cache lacks is fetched from the default data remote first."""
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
            table = opened.dataset.to_table()
        except DataUnreadable as exc:
            raise InputError(f"{side.label}: {exc}") from None
        except Exception as exc:  # pyarrow's many error types: one line, no traceback
            from gitml.guards.readers import describe

            raise InputError(
                f"{path} at {side.label} cannot be read: {describe(view.root, exc)}"
            ) from None
        yield opened.format, table


# -- comparing ----------------------------------------------------------------------


def _comparable(old: Any, new: Any) -> tuple[Any, Any]:
    """Both columns in one type: the new one's when the old values cast to it
    without loss, else text; None when neither works (nested types: compared
    through their Python values)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if old.type == new.type:
        return old, new
    for target in (new.type, pa.large_string()):
        try:
            return pc.cast(old, target, safe=True), pc.cast(new, target, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return None, None


def _python_codes(values: list[Any]) -> list[int]:
    seen: dict[str, int] = {}
    return [-1 if v is None else seen.setdefault(repr(v), len(seen)) for v in values]


def codes(old: Any, new: Any) -> tuple[Any, Any]:
    """Integer codes for two columns: equal values get equal codes across both
    versions, null is -1, NaN equals NaN."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(old.type):  # compare values, not each file's dictionary
        old = pc.cast(old, old.type.value_type)
    if pa.types.is_dictionary(new.type):
        new = pc.cast(new, new.type.value_type)
    a, b = _comparable(old, new)
    if a is not None:
        both = pa.chunked_array(list(a.chunks) + list(b.chunks), type=a.type).combine_chunks()
        try:
            encoded = pc.dictionary_encode(both)
            ints = np.asarray(encoded.indices.fill_null(-1).to_numpy(), dtype=np.int64)
            return ints[: len(old)], ints[len(old) :]
        except pa.ArrowNotImplementedError:
            pass
    ints = np.asarray(_python_codes(old.to_pylist() + new.to_pylist()), dtype=np.int64)
    return ints[: len(old)], ints[len(old) :]


def _jsonable(value: Any) -> Any:
    """A cell as JSON: numbers, text, booleans, null; NaN/inf and others as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _rows(table: Any, indices: Any, columns: list[str]) -> list[dict[str, Any]]:
    import pyarrow as pa

    if len(indices) == 0:
        return []
    picked = table.select(columns).take(pa.array(indices, type=pa.int64()))
    return [{k: _jsonable(v) for k, v in row.items()} for row in picked.to_pylist()]


def _column_changes(old: Any, new: Any) -> dict[str, Any]:
    old_names, new_names = old.schema.names, new.schema.names
    retyped = [
        {"column": n, "old": str(old.schema.field(n).type), "new": str(new.schema.field(n).type)}
        for n in old_names
        if n in new_names and old.schema.field(n).type != new.schema.field(n).type
    ]
    return {
        "added": [n for n in new_names if n not in old_names],
        "removed": [n for n in old_names if n not in new_names],
        "retyped": retyped,
    }


def _unique_names(table: Any, where: str) -> None:
    names = table.schema.names
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{where} has the column {dup[0]!r} more than once")


def diff_tables(old: Any, new: Any, key: list[str] | None, limit: int) -> dict[str, Any]:
    """counts, changed_columns and examples of ``old`` vs ``new`` (pyarrow Tables)."""
    common = [n for n in old.schema.names if n in new.schema.names]
    if key:
        missing = [k for k in key if k not in common]
        if missing:
            where = "either version" if all(k not in old.schema.names for k in missing) else "both"
            raise UsageError(
                f"key column {missing[0]!r} is not in {where}",
                hint="columns in both versions: " + (", ".join(common[:20]) or "none"),
            )
        return _keyed(old, new, key, [c for c in common if c not in key], limit)
    if not common:
        raise InputError("the two versions have no column in common: nothing to match rows on")
    return _whole_rows(old, new, common, limit)


def _keyed(old: Any, new: Any, key: list[str], others: list[str], limit: int) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa

    key_codes = [codes(old.column(k), new.column(k)) for k in key]
    names = [f"k{i}" for i in range(len(key))]
    left = pa.table({**{n: c[0] for n, c in zip(names, key_codes, strict=True)},
                     "o": np.arange(old.num_rows, dtype=np.int64)})  # fmt: skip
    right = pa.table({**{n: c[1] for n, c in zip(names, key_codes, strict=True)},
                      "n": np.arange(new.num_rows, dtype=np.int64)})  # fmt: skip
    for side, label in ((left, "old"), (right, "new")):
        counted = side.group_by(names).aggregate([(names[0], "count")])
        dups = int(np.sum(counted.column(f"{names[0]}_count").to_numpy() > 1))
        if dups:
            raise InputError(
                f"the key {', '.join(key)} is not unique in the {label} version "
                f"({dups} values occur more than once)",
                hint="name more key columns (--key a --key b), or leave --key out",
            )
    joined = left.join(right, keys=names, join_type="full outer")
    o = joined.column("o").to_numpy(zero_copy_only=False)
    n = joined.column("n").to_numpy(zero_copy_only=False)
    o_null = joined.column("o").is_null().to_numpy(zero_copy_only=False)
    n_null = joined.column("n").is_null().to_numpy(zero_copy_only=False)
    added = np.sort(n[o_null].astype(np.int64))
    removed = np.sort(o[n_null].astype(np.int64))
    both = ~(o_null | n_null)
    pairs = np.stack([o[both].astype(np.int64), n[both].astype(np.int64)], axis=1)
    pairs = pairs[np.argsort(pairs[:, 0], kind="stable")] if len(pairs) else pairs.reshape(0, 2)
    changed_any = np.zeros(len(pairs), dtype=bool)
    masks: dict[str, Any] = {}
    for col in others:
        a, b = codes(old.column(col), new.column(col))
        mask = a[pairs[:, 0]] != b[pairs[:, 1]]
        if mask.any():
            masks[col] = mask
            changed_any |= mask
    changed = pairs[changed_any]
    examples_changed = []
    if limit and len(changed):
        old_rows = _rows(old, changed[:limit, 0], key + list(masks))
        new_rows = _rows(new, changed[:limit, 1], list(masks))
        chosen = np.flatnonzero(changed_any)[:limit]
        for idx, before, after in zip(chosen, old_rows, new_rows, strict=True):
            cells = {
                col: {"old": before[col], "new": after[col]} for col in masks if masks[col][idx]
            }
            examples_changed.append({"key": {k: before[k] for k in key}, "cells": cells})
    columns = key + others
    return {
        "counts": {
            "added": len(added),
            "removed": len(removed),
            "changed": int(changed_any.sum()),
            "unchanged": int(len(pairs) - changed_any.sum()),
        },
        "changed_columns": {col: int(mask.sum()) for col, mask in masks.items()},
        "examples": {
            "added": _rows(new, added[:limit], columns),
            "removed": _rows(old, removed[:limit], columns),
            "changed": examples_changed,
        },
    }


def _whole_rows(old: Any, new: Any, columns: list[str], limit: int) -> dict[str, Any]:
    import numpy as np

    pairs = [codes(old.column(c), new.column(c)) for c in columns]
    matrix = np.stack([np.concatenate([a, b]) for a, b in pairs], axis=1)
    _uniq, ids = np.unique(matrix, axis=0, return_inverse=True)
    ids = ids.reshape(-1)
    old_ids, new_ids = ids[: old.num_rows], ids[old.num_rows :]
    size = int(ids.max()) + 1 if len(ids) else 0
    old_count = np.bincount(old_ids, minlength=size)
    new_count = np.bincount(new_ids, minlength=size)

    def extra(mine: Any, theirs_count: Any) -> Any:
        """Row indices beyond the other side's count of the same row (the surplus)."""
        order = np.argsort(mine, kind="stable")
        sorted_ids = mine[order]
        starts = np.searchsorted(sorted_ids, sorted_ids, side="left")
        rank = np.arange(len(mine)) - starts
        surplus = order[rank >= theirs_count[sorted_ids]]
        return np.sort(surplus)

    added = extra(new_ids, old_count)
    removed = extra(old_ids, new_count)
    return {
        "counts": {
            "added": len(added),
            "removed": len(removed),
            "changed": 0,
            "unchanged": int(np.minimum(old_count, new_count).sum()),
        },
        "changed_columns": {},
        "examples": {
            "added": _rows(new, added[:limit], columns),
            "removed": _rows(old, removed[:limit], columns),
            "changed": [],
        },
    }


def row_diff(
    ctx: RepoContext,
    path: str,
    old_rev: str | None = "HEAD",
    new_rev: str | None = None,
    *,
    key: list[str] | None = None,
    limit: int = DEFAULT_LIMIT,
) -> RowDiff:
    """The rows of the table at ``path`` added, removed and changed from
    ``old_rev`` to ``new_rev`` (None: the workspace)."""
    if limit < 0:
        raise UsageError("--limit must be 0 or more", "gitml diff data.csv --rows --limit 5")
    resolver = Resolver(ctx)
    old_side = open_side(ctx, resolver, old_rev)
    new_side = open_side(ctx, resolver, new_rev)
    with _opened(ctx, old_side, path) as (fmt, old), _opened(ctx, new_side, path) as (_f, new):
        _unique_names(old, f"{path} at {old_side.label}")
        _unique_names(new, f"{path} at {new_side.label}")
        found = diff_tables(old, new, key or None, limit)
        return RowDiff(
            path=path,
            old=old_side,
            new=new_side,
            key=key or None,
            format=fmt,
            rows={"old": old.num_rows, "new": new.num_rows},
            columns=_column_changes(old, new),
            counts=found["counts"],
            changed_columns=found["changed_columns"],
            examples=found["examples"],
            limit=limit,
        )
