"""How the chunker and chunk size were chosen (issue 14; numbers in docs/PERFORMANCE.md).

    .venv/bin/python benchmarks/chunker_choice.py [--mib 256] [--dir /tmp]

1. chunkers on a file in the page cache: pyfastcdc (cut_file, cut_stream) and, if
   installed, fastcdc (its Cython path and its pure-Python fallback), MB/s;
2. dedup of a 1 MiB overwrite in the middle per average chunk size;
3. gitml's store (imported from this checkout): add and checkout of the file,
   whole objects vs chunks, per average chunk size (median of 3).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import blake3
from pyfastcdc import FastCDC

MIB = 1 << 20


def _rate(name: str, nbytes: int, fn: Callable[[], int]) -> None:
    t = time.perf_counter()
    n = fn()
    dt = time.perf_counter() - t
    print(f"{name:55s} {nbytes / dt / 1e6:8.0f} MB/s  chunks={n}")


def chunkers(path: Path, data: bytes) -> None:
    for avg in (64 << 10, 256 << 10, 1 << 20):
        cdc = FastCDC(avg)
        _rate(
            f"pyfastcdc cut_file avg={avg >> 10}K",
            len(data),
            lambda cdc=cdc: sum(1 for _ in cdc.cut_file(path)),
        )

        def hashed(stream: bool = False, cdc: FastCDC = cdc) -> int:
            n, whole = 0, blake3.blake3()
            with open(path, "rb", buffering=0) as fh:
                pieces = cdc.cut_stream(fh) if stream else cdc.cut_file(path)
                for piece in pieces:
                    whole.update(piece.data)
                    blake3.blake3(piece.data).digest()
                    n += 1
            return n

        _rate(f"pyfastcdc cut_file avg={avg >> 10}K + hashes", len(data), hashed)
        _rate(f"pyfastcdc cut_stream avg={avg >> 10}K + hashes", len(data), lambda: hashed(True))
    try:
        from fastcdc import fastcdc_cy, fastcdc_py  # type: ignore[import-not-found]
    except ImportError:
        print("fastcdc not installed: pip install --target DIR fastcdc; PYTHONPATH=DIR")
        return
    for avg in (64 << 10, 256 << 10, 1 << 20):
        _rate(
            f"fastcdc (cython) avg={avg >> 10}K",
            len(data),
            lambda avg=avg: sum(
                1 for _ in fastcdc_cy.fastcdc_cy(data, avg_size=avg, fat=False, hf=None)
            ),
        )
    part = data[: 16 * MIB]
    _rate(
        "fastcdc pure-python avg=64K (16 MiB)",
        len(part),
        lambda: sum(1 for _ in fastcdc_py.fastcdc_py(part, avg_size=64 << 10, fat=False, hf=None)),
    )


def dedup(data: bytes) -> None:
    mod = bytearray(data)
    mid = len(data) // 2
    mod[mid : mid + MIB] = os.urandom(MIB)
    for avg in (16 << 10, 64 << 10, 256 << 10, 1 << 20):
        cdc = FastCDC(avg)
        old = {blake3.blake3(c.data).digest() for c in cdc.cut_buf(data)}
        new = {blake3.blake3(c.data).digest(): c.length for c in cdc.cut_buf(bytes(mod))}
        added = sum(n for h, n in new.items() if h not in old)
        print(
            f"dedup avg={avg >> 10}K: chunks={len(new)}, new bytes for 1 MiB: {added / MIB:.2f} MiB"
        )


def store(path: Path, scratch: Path) -> None:
    import gitml.store.chunks as ch
    from gitml.store.objects import ObjectStore

    results: dict[int, list[tuple[float, float]]] = {}
    for _rep in range(3):
        for avg in (0, 64 << 10, 256 << 10):
            ch.AVG_CHUNK = avg or ch.AVG_CHUNK
            ch.MIN_CHUNK, ch.MAX_CHUNK = ch.AVG_CHUNK // 4, ch.AVG_CHUNK * 4
            root = scratch / "cache"
            shutil.rmtree(root, ignore_errors=True)
            st = ObjectStore(root, chunk_min_file=(16 * MIB) if avg else 0)
            t = time.perf_counter()
            with st.batch() as batch:
                oid, _size = batch.add_file(path, link="copy")
            add = time.perf_counter() - t
            dest = scratch / "out"
            dest.unlink(missing_ok=True)
            t = time.perf_counter()
            st.materialize(oid, dest, link="copy")
            results.setdefault(avg, []).append((add, time.perf_counter() - t))
    mib = path.stat().st_size / MIB
    for avg, runs in results.items():
        add = statistics.median(a for a, _c in runs)
        co = statistics.median(c for _a, c in runs)
        label = f"avg={avg >> 10}K" if avg else "whole objects"
        print(f"store {label:14s} add {mib / add:5.0f} MiB/s  checkout {mib / co:5.0f} MiB/s")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mib", type=int, default=256)
    p.add_argument("--dir", type=Path, default=Path("/tmp"))
    args = p.parse_args()
    scratch = args.dir / "gitml-chunker-choice"
    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / "big.bin"
    rng = random.Random(1)
    with open(path, "wb") as fh:
        for _ in range(args.mib // 16):
            fh.write(rng.randbytes(16 * MIB))
    data = path.read_bytes()  # and into the page cache
    try:
        chunkers(path, data)
        dedup(data)
        store(path, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
