"""Command-line options of the benchmark and the method notes printed with the table."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
USAGE = "gitml vs DVC benchmark: one command, same data, fresh repositories, medians."


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    venv_bin = Path(sys.executable).parent
    p = argparse.ArgumentParser(description=USAGE)
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="dataset size factor (1: 100,000 small files, 8 x 256 MiB)",
    )
    p.add_argument("--repeat", type=int, default=3, help="repeats per step; medians are shown")
    p.add_argument(
        "--dvc-repeat",
        type=int,
        default=None,
        help="repeats of DVC's steps on 'many' (default: 1 at scale >= 0.5, "
        "else --repeat): DVC needs minutes per repeat there",
    )
    p.add_argument(
        "--only",
        choices=["many", "big", "pipeline", "chunks", "rows", "review"],
        action="append",
        help="run only this dataset (may be given more than once); chunks: issue 14's "
        "dataset (a), chunked cache vs whole objects; rows: issue 13's row diff of two "
        "10-million-row Parquet files vs a pyarrow join; review: gitml review of 100,000 "
        "files and 10 tables",
    )
    p.add_argument("--tools", default="gitml,dvc", help="comma list of gitml,dvc")
    p.add_argument("--remotes", action="store_true", help="also push/pull to a local folder")
    p.add_argument("--s3", action="store_true", help="also push/pull to a moto S3 server")
    p.add_argument("--workdir", type=Path, default=REPO_ROOT / ".bench")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="Markdown report (default WORKDIR/results.md; JSON beside it)",
    )
    p.add_argument("--timeout", type=float, default=900, help="per-command timeout, s")
    p.add_argument(
        "--budget",
        type=float,
        default=3600,
        help="whole-run time budget, s: later steps are reported as not run",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", action="store_true", help="keep the run folders")
    p.add_argument(
        "--drop-caches",
        action="store_true",
        help="write 3 to /proc/sys/vm/drop_caches before each step (root only; "
        "slows everything on a shared machine)",
    )
    p.add_argument("--gitml", default=None, help="gitml command (default: VENV/bin/gitml)")
    p.add_argument("--dvc", default=str(venv_bin / "dvc"), help="dvc command")
    args = p.parse_args(argv)
    if args.gitml is None:
        exe = venv_bin / "gitml"
        args.gitml = str(exe) if exe.exists() else f"{sys.executable} -m gitml"
    return args


METHOD_NOTES = [
    "- Same bytes for both tools (seeded generator); each repeat uses fresh `git init` "
    "repositories and empty caches. Both tools copy into their cache (gitml "
    '`cache.link = "copy"`, DVC `cache.type copy`) except in the hardlink row.',
    "- The OS page cache is not dropped (shared machine; see --drop-caches): the data was "
    "just copied into each workspace, so 'cold' means an empty tool cache and no "
    "tool state, with the data files in RAM, for both tools alike.",
    "- `os.sync()` runs before every measured command; `cp -r` is timed with `sync` "
    "included. The walk baseline is a separate Python process (start-up included).",
    "- 'one file modified': 16 bytes overwritten in place at the start of one file "
    "(same size, new mtime). status accepts exit code 0 or 1.",
    "- checkout: `data/` is moved away, then `gitml checkout` / `dvc checkout`; the result "
    "is checked (file names, sizes, sampled contents) and a wrong result counts as an error.",
]
