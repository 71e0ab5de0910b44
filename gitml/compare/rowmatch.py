"""Matching the rows of two in-memory tables: the algorithm behind ``diff --rows``.

Equality is exact and type-aware: every compared column is turned into integer
codes (one dictionary-encode over both versions, nulls as -1), so the join and
the comparisons run on integers. Dictionary-encode compares bit patterns: NaN
equals NaN (the same NaN), ``-0.0`` is not ``0.0``. A retyped column is
compared in one type (its :func:`plan`): the new one's when every old value
casts to it without loss (``1`` vs ``1.0`` is no change), else both as text,
else (nested types) through the values' ``repr``.

The functions here see one pair of tables: both whole versions, or one hash
partition of each (:mod:`gitml.compare.partition`). Each example carries its
position (row number in its version) so that partitions can be merged into the
result the whole tables give: examples of each kind in row order (changed rows
in the old version's order), the first ``limit`` kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from gitml.errors import InputError, UsageError

KINDS = ("added", "removed", "changed")


def value_type(t: Any) -> Any:
    """The type values are compared in: a dictionary's value type, else ``t``."""
    import pyarrow as pa

    return t.value_type if pa.types.is_dictionary(t) else t


def candidates(old_type: Any, new_type: Any) -> list[Any]:
    """The types a column may be compared in, best first (one: not retyped)."""
    import pyarrow as pa

    a, b = value_type(old_type), value_type(new_type)
    return [a] if a == b else [b, pa.large_string()]


def castable(values: Any, target: Any) -> bool:
    """True if every value casts to ``target`` without loss."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.cast(decoded(values), target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def plan(old: Any, new: Any, columns: list[str]) -> dict[str, Any]:
    """column -> the type both versions are compared in (None: through Python values)."""
    out: dict[str, Any] = {}
    for name in columns:
        a, b = old.column(name), new.column(name)
        found = candidates(a.type, b.type)
        if len(found) == 1:
            out[name] = found[0]
            continue
        out[name] = next((t for t in found if castable(a, t) and castable(b, t)), None)
    return out


def decoded(col: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.cast(col, col.type.value_type) if pa.types.is_dictionary(col.type) else col


def prepared(col: Any, target: Any) -> Any:
    """``col`` as compared: dictionary decoded, cast to ``target`` (None: as is)."""
    import pyarrow.compute as pc

    col = decoded(col)
    if target is not None and col.type != target:
        col = pc.cast(col, target, safe=True)
    return col


def _python_codes(values: list[Any]) -> list[int]:
    seen: dict[str, int] = {}
    return [-1 if v is None else seen.setdefault(repr(v), len(seen)) for v in values]


def codes(old: Any, new: Any, target: Any) -> tuple[Any, Any]:
    """Integer codes for two columns compared in ``target`` (see :func:`plan`):
    equal values get equal codes across both versions, null is -1."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    a, b = prepared(old, target), prepared(new, target)
    if target is not None:
        chunks = [*_chunks(a), *_chunks(b)]
        both = pa.chunked_array(chunks, type=a.type).combine_chunks()
        try:
            encoded = pc.dictionary_encode(both)
            ints = np.asarray(encoded.indices.fill_null(-1).to_numpy(), dtype=np.int64)
            return ints[: len(a)], ints[len(a) :]
        except pa.ArrowNotImplementedError:
            pass
    ints = np.asarray(_python_codes(a.to_pylist() + b.to_pylist()), dtype=np.int64)
    return ints[: len(a)], ints[len(a) :]


def _chunks(col: Any) -> list[Any]:
    return list(col.chunks) if hasattr(col, "chunks") else [col]


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


# -- results ------------------------------------------------------------------------


@dataclass
class Found:
    """What one pair of tables gave: counts, changed cells per column, and up to
    ``limit`` examples per kind as (position, example)."""

    counts: dict[str, int] = field(
        default_factory=lambda: {"added": 0, "removed": 0, "changed": 0, "unchanged": 0}
    )
    changed_columns: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[tuple[int, Any]]] = field(
        default_factory=lambda: {k: [] for k in KINDS}
    )
    duplicates: tuple[int, int] = (0, 0)  # key values occurring more than once: old, new

    def absorb(self, other: Found, limit: int) -> None:
        """Add ``other`` (a disjoint part of the same comparison) into this one."""
        for name, n in other.counts.items():
            self.counts[name] += n
        for col, n in other.changed_columns.items():
            self.changed_columns[col] = self.changed_columns.get(col, 0) + n
        for kind in KINDS:
            merged = sorted(self.examples[kind] + other.examples[kind], key=lambda e: e[0])
            self.examples[kind] = merged[:limit]
        self.duplicates = (
            self.duplicates[0] + other.duplicates[0],
            self.duplicates[1] + other.duplicates[1],
        )

    def result(self, key: list[str] | None, others: list[str]) -> dict[str, Any]:
        """counts, changed_columns (in column order) and examples; refuses a
        key that is not unique."""
        for dups, label in zip(self.duplicates, ("old", "new"), strict=True):
            if dups and key:
                raise InputError(
                    f"the key {', '.join(key)} is not unique in the {label} version "
                    f"({dups} values occur more than once)",
                    hint="name more key columns (--key a --key b), or leave --key out",
                )
        return {
            "counts": dict(self.counts),
            "changed_columns": {
                c: self.changed_columns[c] for c in others if self.changed_columns.get(c)
            },
            "examples": {k: [e for _pos, e in self.examples[k]] for k in KINDS},
        }


def split_columns(
    old_names: list[str], new_names: list[str], key: list[str] | None
) -> tuple[list[str], list[str]]:
    """(key columns, other compared columns); without a key, ([], all common columns)."""
    common = [n for n in old_names if n in new_names]
    if key:
        missing = [k for k in key if k not in common]
        if missing:
            where = "either version" if all(k not in old_names for k in missing) else "both"
            raise UsageError(
                f"key column {missing[0]!r} is not in {where}",
                hint="columns in both versions: " + (", ".join(common[:20]) or "none"),
            )
        return list(key), [c for c in common if c not in key]
    if not common:
        raise InputError("the two versions have no column in common: nothing to match rows on")
    return [], common


def _positions(indices: Any, positions: Any) -> list[int]:
    return [int(i) for i in (indices if positions is None else positions[indices])]


# -- matching -----------------------------------------------------------------------


def match(
    old: Any,
    new: Any,
    key: list[str],
    others: list[str],
    limit: int,
    types: dict[str, Any],
    positions: tuple[Any, Any] = (None, None),
) -> Found:
    """Rows of ``old`` vs ``new`` matched by ``key`` (or, empty, by whole rows).
    ``positions``: each row's position in its version (None: its index)."""
    if key:
        return _keyed(old, new, key, others, limit, types, positions)
    return _whole_rows(old, new, others, limit, types, positions)


def _keyed(
    old: Any,
    new: Any,
    key: list[str],
    others: list[str],
    limit: int,
    types: dict[str, Any],
    positions: tuple[Any, Any],
) -> Found:
    import numpy as np
    import pyarrow as pa

    key_codes = [codes(old.column(k), new.column(k), types[k]) for k in key]
    names = [f"k{i}" for i in range(len(key))]
    left = pa.table({**{n: c[0] for n, c in zip(names, key_codes, strict=True)},
                     "o": np.arange(old.num_rows, dtype=np.int64)})  # fmt: skip
    right = pa.table({**{n: c[1] for n, c in zip(names, key_codes, strict=True)},
                      "n": np.arange(new.num_rows, dtype=np.int64)})  # fmt: skip
    dups = _repeated(left, right, names)
    if any(dups):  # no join: a repeated key would multiply rows
        return Found(duplicates=dups)
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
        a, b = codes(old.column(col), new.column(col), types[col])
        mask = a[pairs[:, 0]] != b[pairs[:, 1]]
        if mask.any():
            masks[col] = mask
            changed_any |= mask
    changed = pairs[changed_any]
    found = Found()
    if limit and len(changed):
        old_rows = _rows(old, changed[:limit, 0], key + list(masks))
        new_rows = _rows(new, changed[:limit, 1], list(masks))
        chosen = np.flatnonzero(changed_any)[:limit]
        at = _positions(changed[:limit, 0], positions[0])
        for pos, idx, before, after in zip(at, chosen, old_rows, new_rows, strict=True):
            cells = {
                col: {"old": before[col], "new": after[col]} for col in masks if masks[col][idx]
            }
            found.examples["changed"].append(
                (pos, {"key": {k: before[k] for k in key}, "cells": cells})
            )
    columns = key + others
    found.counts = {
        "added": len(added),
        "removed": len(removed),
        "changed": int(changed_any.sum()),
        "unchanged": int(len(pairs) - changed_any.sum()),
    }
    found.changed_columns = {col: int(mask.sum()) for col, mask in masks.items()}
    found.examples["added"] = _examples(new, added[:limit], columns, positions[1])
    found.examples["removed"] = _examples(old, removed[:limit], columns, positions[0])
    return found


def _repeated(left: Any, right: Any, names: list[str]) -> tuple[int, int]:
    """How many key values occur more than once in each side's key codes."""
    import numpy as np

    dups = []
    for side in (left, right):
        counted = side.group_by(names).aggregate([(names[0], "count")])
        dups.append(int(np.sum(counted.column(f"{names[0]}_count").to_numpy() > 1)))
    return dups[0], dups[1]


def duplicates(old: Any, new: Any, key: list[str], types: dict[str, Any]) -> tuple[int, int]:
    """(old, new) counts of key values that occur more than once (no matching)."""
    import pyarrow as pa

    key_codes = [codes(old.column(k), new.column(k), types[k]) for k in key]
    names = [f"k{i}" for i in range(len(key))]
    left = pa.table({n: c[0] for n, c in zip(names, key_codes, strict=True)})
    right = pa.table({n: c[1] for n, c in zip(names, key_codes, strict=True)})
    return _repeated(left, right, names)


def _examples(table: Any, indices: Any, columns: list[str], positions: Any) -> list[Any]:
    rows = _rows(table, indices, columns)
    return list(zip(_positions(indices, positions), rows, strict=True))


def _whole_rows(
    old: Any,
    new: Any,
    columns: list[str],
    limit: int,
    types: dict[str, Any],
    positions: tuple[Any, Any],
) -> Found:
    import numpy as np

    pairs = [codes(old.column(c), new.column(c), types[c]) for c in columns]
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
    found = Found()
    found.counts = {
        "added": len(added),
        "removed": len(removed),
        "changed": 0,
        "unchanged": int(np.minimum(old_count, new_count).sum()),
    }
    found.examples["added"] = _examples(new, added[:limit], columns, positions[1])
    found.examples["removed"] = _examples(old, removed[:limit], columns, positions[0])
    return found
