"""Issue 14, dataset (a): a binary file (1 GiB at scale 1) with 1 MiB overwritten
in the middle, added as a second version: chunked cache vs whole objects.

Measured per mode: the two adds and a checkout (seconds, peak memory: one child
process each, as every other step) and the bytes the second version added to
the cache (``gitml du --json``: stored before and after). The number that
matters is new bytes / changed bytes (target <= 1.5).

Each version is also pushed to a folder remote (``gitml push --json``: the
bytes that travelled, and the time): the second push of a chunked file sends
only the chunks the remote lacks (targets: second push <= 0.1x the first's
time, bytes pushed <= 1.5x the bytes changed).
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


def _pushed(log_prefix: Path) -> int:
    """Bytes a measured ``gitml push --json`` sent (from its logged stdout)."""
    out = log_prefix.with_name(log_prefix.name + ".out").read_text()
    return int(json.loads(out)["objects"]["bytes"])


def _push(
    gitml: Sequence[str], repo: Path, env: Mapping[str, str], timeout: float, logs: Path
) -> tuple[Sample, int | None]:
    sample = measure(
        [*gitml, "push", "--json"], cwd=repo, env=env, timeout=timeout, log_prefix=logs
    )
    return sample, (_pushed(logs) if sample.ok else None)


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
    push_rows: list[str] = []
    results: dict[str, dict[str, float | int | None]] = {}
    for mode, setting in (("chunked", threshold), ("whole objects", 0)):
        repo = root / mode.replace(" ", "-")
        repo.mkdir()
        for argv in (
            ["git", "init", "-q"],
            [*gitml, "init", "--no-hooks"],
            [*gitml, "config", "set", "--local", "cache.chunk_min_file", str(setting)],
            [*gitml, "config", "set", "--local", "cache.link", "copy"],
            [*gitml, "remote", "add", "origin", str(root / f"remote-{mode.split()[0]}")],
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
        push1, sent1 = _push(gitml, repo, env, timeout, logs / f"chunks-{tag}-push1")
        _overwrite(data, patch)
        second = measure(
            [*gitml, "add", "data.bin"],
            cwd=repo,
            env=env,
            timeout=timeout,
            log_prefix=logs / f"chunks-{tag}-add2",
        )
        stored2 = _stored(gitml, repo, env)
        push2, sent2 = _push(gitml, repo, env, timeout, logs / f"chunks-{tag}-push2")
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
        push_rows.append(_push_row(mode, push1, sent1, push2, sent2))
        results[mode]["push1"] = push1.seconds
        results[mode]["push2"] = push2.seconds
    shutil.rmtree(root, ignore_errors=True)
    ratio_add = _ratio(results["whole objects"]["add1"], results["chunked"]["add1"])
    ratio_co = _ratio(results["chunked"]["checkout"], results["whole objects"]["checkout"])
    push_ratio = _ratio(results["chunked"]["push2"], results["chunked"]["push1"])
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
            "| mode (push to a folder remote) | push v1 s | push v2 s | v2 / v1 time | "
            "bytes pushed v1 | bytes pushed v2 | pushed v2 / changed |",
            "|---|---|---|---|---|---|---|",
            *push_rows,
            "",
            f"- second push time / first, chunked: {push_ratio} (target <= 0.1)",
            "- pushed v2 / changed target: <= 1.5 for the chunked cache",
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


def _push_row(
    mode: str, first: Sample, sent1: int | None, second: Sample, sent2: int | None
) -> str:
    def s(x: Sample) -> str:
        return f"{x.seconds:.2f}" if x.ok and x.seconds is not None else f"error ({x.error})"

    def mib(n: int | None) -> str:
        return f"{n / MIB:.2f} MiB" if n is not None else "n/a"

    ratio = _ratio(second.seconds, first.seconds) if first.ok and second.ok else "n/a"
    per_change = f"{sent2 / CHANGED:.2f}" if sent2 is not None else "n/a"
    return (
        f"| {mode} | {s(first)} | {s(second)} | {ratio} | {mib(sent1)} | {mib(sent2)} | "
        f"{per_change} |"
    )
