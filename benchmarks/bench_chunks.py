"""Issue 14, dataset (a): a binary file (1 GiB at scale 1) with 1 MiB overwritten
in the middle, added as a second version: chunked cache vs whole objects.

Measured per mode: the two adds and a checkout (seconds, peak memory: one child
process each, as every other step) and the bytes the second version added to
the cache (``gitml du --json``: stored before and after). The number that
matters is new bytes / changed bytes (target <= 1.5).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench_proc import Sample, measure

MIB = 1 << 20
CHANGED = MIB


def _write_dataset(path: Path, size: int, seed: int) -> bytes:
    """Seeded random bytes at ``path``; returns the CHANGED bytes the second version
    has overwritten in the middle."""
    rng = random.Random(seed)
    step = 16 * MIB
    with open(path, "wb") as fh:
        left = size
        while left:
            fh.write(rng.randbytes(min(step, left)))
            left -= min(step, left)
    return rng.randbytes(CHANGED)


def _overwrite(path: Path, patch: bytes) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.seek(max(0, size // 2 - len(patch) // 2))
        fh.write(patch)


def _stored(gitml: Sequence[str], repo: Path, env: Mapping[str, str]) -> int:
    out = subprocess.run(
        [*gitml, "du", "--json"], cwd=repo, env=dict(env), capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(f"gitml du failed: {out.stderr.strip()[-300:]}")
    return int(json.loads(out.stdout)["stored"])


def run(
    gitml: Sequence[str],
    workdir: Path,
    scale: float,
    seed: int,
    env: Mapping[str, str],
    timeout: float,
    logs: Path,
) -> str:
    """Run both modes; return a Markdown section for the report."""
    size = max(4 * MIB, int((1 << 30) * scale))
    root = workdir / "runs" / "chunks"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    source = root / "v1.bin"
    patch = _write_dataset(source, size, seed)
    # the default threshold (16 MiB) is lowered at small scales so the file is chunked
    threshold = min(16 * MIB, size // 2)
    rows: list[str] = []
    results: dict[str, dict[str, float | int | None]] = {}
    for mode, setting in (("chunked", threshold), ("whole objects", 0)):
        repo = root / mode.replace(" ", "-")
        repo.mkdir()
        for argv in (
            ["git", "init", "-q"],
            [*gitml, "init", "--no-hooks"],
            [*gitml, "config", "set", "--local", "cache.chunk_min_file", str(setting)],
            [*gitml, "config", "set", "--local", "cache.link", "copy"],
        ):
            subprocess.run(argv, cwd=repo, env=dict(env), check=True, capture_output=True)
        data = repo / "data.bin"
        shutil.copyfile(source, data)
        tag = mode.split()[0]
        first = measure(
            [*gitml, "add", "data.bin"],
            cwd=repo,
            env=env,
            timeout=timeout,
            log_prefix=logs / f"chunks-{tag}-add1",
        )
        stored1 = _stored(gitml, repo, env)
        _overwrite(data, patch)
        second = measure(
            [*gitml, "add", "data.bin"],
            cwd=repo,
            env=env,
            timeout=timeout,
            log_prefix=logs / f"chunks-{tag}-add2",
        )
        stored2 = _stored(gitml, repo, env)
        data.unlink()
        checkout = measure(
            [*gitml, "checkout", "data.bin"],
            cwd=repo,
            env=env,
            timeout=timeout,
            log_prefix=logs / f"chunks-{tag}-checkout",
        )
        results[mode] = {
            "add1": first.seconds,
            "add2": second.seconds,
            "checkout": checkout.seconds,
            "new": stored2 - stored1,
            "peak": max((s.peak_kib or 0) for s in (first, second, checkout)),
        }
        rows.append(_row(mode, first, second, checkout, stored2 - stored1))
    shutil.rmtree(root, ignore_errors=True)
    ratio_add = _ratio(results["whole objects"]["add1"], results["chunked"]["add1"])
    ratio_co = _ratio(results["chunked"]["checkout"], results["whole objects"]["checkout"])
    return "\n".join(
        [
            f"## Chunk dedup (issue 14, dataset a: {size / MIB:.0f} MiB binary, "
            f"1 MiB overwritten in the middle; chunk_min_file {threshold / MIB:.0f} MiB)",
            "",
            "| mode | add v1 s | add v2 s | checkout s | new bytes for v2 | "
            "new / changed | peak MiB |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"- add v1 speed, chunked vs whole: {ratio_add} (target >= 0.8)",
            f"- checkout time, chunked / whole: {ratio_co} (target <= 1.3)",
            "- new / changed target: <= 1.5 for the chunked cache",
            "",
        ]
    )


def _ratio(a: float | int | None, b: float | int | None) -> str:
    return f"{a / b:.2f}" if a and b else "n/a"


def _row(mode: str, first: Sample, second: Sample, checkout: Sample, new: int) -> str:
    def s(x: Sample) -> str:
        return f"{x.seconds:.2f}" if x.ok and x.seconds is not None else f"error ({x.error})"

    peak = max((x.peak_kib or 0) for x in (first, second, checkout)) / 1024
    return (
        f"| {mode} | {s(first)} | {s(second)} | {s(checkout)} | {new / MIB:.2f} MiB | "
        f"{new / CHANGED:.2f} | {peak:.0f} |"
    )
