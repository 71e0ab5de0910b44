"""A 64-bit hash per row of some columns, vectorised (numpy), for hash partitioning.

Rows that :mod:`gitml.compare.rowmatch` calls equal must get the same hash, so
a column is hashed in the form it is compared in (its planned type) and the
same way its codes are made: by bit pattern where dictionary-encode works for
the type (NaN payloads and ``-0.0`` kept apart, as there), through ``repr`` of
the Python value otherwise. Null is one fixed hash. Unequal rows may share a
hash; that only puts them in the same partition. The hash is only used inside
one process (``repr`` hashes use Python's salted ``hash``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
NULL_HASH = np.uint64(0x6A09E667F3BCC909)
_POWERS = 4096  # byte weights repeat every 4096 bytes (a hash, not an identity)
_CHUNK = 1 << 18  # string bytes hashed per step: bounds the temporary arrays
_MASK = (1 << 64) - 1


def _mix(x: Any) -> Any:
    """splitmix64's finaliser on a uint64 array."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


@cache
def _powers() -> Any:
    prime = 0x100000001B3
    return np.array([pow(prime, i, 1 << 64) for i in range(_POWERS)], dtype=np.uint64)


@cache
def _by_bits(t: Any) -> bool:
    """True if dictionary-encode works for ``t`` (then codes compare bit patterns)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.dictionary_encode(pa.array([], type=t))
    except pa.ArrowNotImplementedError:
        return False
    return True


def combine(h: Any, column: Any) -> Any:
    """The running row hash ``h`` extended by one more column's hashes."""
    return _mix(h * _GOLD + column)


def column_hash(arr: Any, *, by_value: bool = False) -> Any:
    """uint64 hash per value of a pyarrow Array; ``by_value``: through ``repr``
    (the column is compared through Python values)."""
    import pyarrow as pa

    n = len(arr)
    t = arr.type
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    if pa.types.is_null(t):
        return np.full(n, NULL_HASH, dtype=np.uint64)
    if by_value or not _by_bits(t):
        h = _repr_hash(arr)
    elif pa.types.is_string_view(t) or pa.types.is_binary_view(t):
        return column_hash(arr.cast(pa.large_binary()))
    elif pa.types.is_boolean(t):
        bits = np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.uint64)
        h = _mix(bits + np.uint64(1))
    elif pa.types.is_string(t) or pa.types.is_binary(t):
        h = _bytes_hash(arr, np.int32)
    elif pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        h = _bytes_hash(arr, np.int64)
    else:
        h = _fixed_hash(arr)
    if arr.null_count:
        valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        h[~valid] = NULL_HASH
    return h


def _repr_hash(arr: Any) -> Any:
    return np.array([hash(repr(v)) & _MASK for v in arr.to_pylist()], dtype=np.uint64)


def _fixed_hash(arr: Any) -> Any:
    try:
        width = arr.type.bit_width
    except ValueError:
        width = 0
    n, start = len(arr), arr.offset
    data = arr.buffers()[1]
    if width in (8, 16, 32, 64):
        words = np.frombuffer(data, dtype=f"u{width // 8}", count=start + n)[start:]
        return _mix(words.astype(np.uint64) + np.uint64(1))
    if width and width % 64 == 0:
        k = width // 64
        words = np.frombuffer(data, dtype=np.uint64, count=(start + n) * k)[start * k :]
        h = np.zeros(n, dtype=np.uint64)
        for part in words.reshape(n, k).T:
            h = combine(h, part)
        return h
    return _repr_hash(arr)  # odd widths (fixed_size_binary[3]): rare


def _bytes_hash(arr: Any, offset_type: Any) -> Any:
    """Polynomial hash of each value's bytes (weights repeat every _POWERS bytes)."""
    n = len(arr)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type, count=arr.offset + n + 1)
    offsets = offsets[arr.offset :].astype(np.int64)
    lengths = np.diff(offsets)
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None
        else np.zeros(0, np.uint8)
    )
    powers = _powers()
    sums = np.zeros(n, dtype=np.uint64)
    row = 0
    while row < n:
        end = int(np.searchsorted(offsets, offsets[row] + _CHUNK, side="right")) - 1
        end = min(max(end, row + 1), n)
        lo, hi = int(offsets[row]), int(offsets[end])
        if hi > lo:
            lens = lengths[row:end]
            starts = offsets[row:end] - lo
            rel = np.arange(hi - lo, dtype=np.int64) - np.repeat(starts, lens)
            contrib = (data[lo:hi].astype(np.uint64) + np.uint64(1)) * powers[rel % _POWERS]
            nonempty = lens > 0
            part = np.zeros(end - row, dtype=np.uint64)
            part[nonempty] = np.add.reduceat(contrib, starts[nonempty])
            sums[row:end] = part
        row = end
    return _mix(sums ^ (lengths.astype(np.uint64) * _GOLD))
