"""Issue 16: push / pull of big files to a folder remote against ``cp -r`` + ``sync``.

Builds 8 files of 256 MiB x ``--scale`` (seeded random bytes), a repository that
tracks them (``cache.link = copy``) and a folder remote, then times, interleaved
``--repeat`` times: ``cp -r`` of the files followed by ``sync`` (the baseline),
``gitml push`` into an empty remote, and ``gitml pull`` into an empty cache and
workspace (pulled files compared byte for byte with the source). Each gitml tree
given as ``--code NAME=DIR`` runs as ``python -m gitml`` with ``PYTHONPATH=DIR``,
so two commits can be compared side by side. Before each timed command the files
it reads are read once (so every variant starts from the page cache; this shared
machine otherwise evicts them unpredictably) and ``os.sync()`` runs.

    python benchmarks/bench_transfer.py --code new=. --code old=/tmp/old --repeat 5
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def build(src: Path, scale: float) -> None:
    if src.exists():
        return
    src.mkdir(parents=True)
    rng = random.Random(0)
    step = 8 << 20
    for i in range(8):
        with open(src / f"f{i}.bin", "wb") as fh:
            for _ in range(max(1, round(32 * scale))):
                fh.write(rng.randbytes(step))


def warm(top: Path) -> None:
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as fh:
                while fh.read(8 << 20):
                    pass


def timed(cmd: list[str], cwd: Path, env: dict[str, str], reads: Path) -> float:
    warm(reads)
    os.sync()
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workdir", type=Path, default=Path("/tmp/gitml-bench-transfer"))
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--code", action="append", default=[], help="NAME=DIR of a gitml tree")
    args = p.parse_args()
    codes = dict(c.split("=", 1) for c in args.code) or {"gitml": "."}
    work: Path = args.workdir
    src, repo, remote = work / "src", work / "repo", work / "remote"
    build(src, args.scale)
    first = os.path.abspath(next(iter(codes.values())))
    gitml = [sys.executable, "-m", "gitml"]

    def env(code: str) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": os.path.abspath(code)}

    if not repo.exists():
        repo.mkdir()
        run = lambda *c: subprocess.run(c, cwd=repo, env=env(first), check=True)  # noqa: E731
        run("git", "init", "-q")
        run(*gitml, "init")
        run(*gitml, "config", "set", "--local", "cache.link", "copy")
        shutil.copytree(src, repo / "data")
        run(*gitml, "add", "data")
        run(*gitml, "remote", "add", "-d", "local", str(remote))
        run(*gitml, "push")  # so every later pull has a full remote

    def cp() -> float:
        shutil.rmtree(work / "cp", ignore_errors=True)
        os.sync()
        cmd = ["sh", "-c", f"cp -r {src} {work / 'cp'} && sync"]
        return timed(cmd, work, dict(os.environ), src)

    def push(code: str) -> float:
        shutil.rmtree(remote, ignore_errors=True)
        remote.mkdir()
        return timed([*gitml, "push"], repo, env(code), repo / ".gitml" / "cache")

    def pull(code: str) -> float:
        shutil.rmtree(repo / ".gitml" / "cache", ignore_errors=True)
        shutil.rmtree(repo / "data", ignore_errors=True)
        took = timed([*gitml, "pull"], repo, env(code), remote)
        for f in sorted(src.iterdir()):
            if (repo / "data" / f.name).read_bytes() != f.read_bytes():
                raise SystemExit(f"pull gave wrong bytes for {f.name}")
        return took

    rows: dict[str, Callable[[], float]] = {"cp -r + sync": cp}
    for name, code in codes.items():
        rows[f"push ({name})"] = lambda c=code: push(c)
    for name, code in codes.items():
        rows[f"pull ({name})"] = lambda c=code: pull(c)
    samples: dict[str, list[float]] = {k: [] for k in rows}
    for _ in range(args.repeat):
        for key, step in rows.items():
            samples[key].append(step())
    base = statistics.median(samples["cp -r + sync"])
    print("| step | median s | samples | / cp -r + sync |\n|---|---|---|---|")
    for key, got in samples.items():
        med = statistics.median(got)
        print(f"| {key} | {med:.2f} | {' / '.join(f'{x:.2f}' for x in got)} | {med / base:.2f} |")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
