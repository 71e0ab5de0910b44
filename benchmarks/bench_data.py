"""Deterministic synthetic datasets, and helpers to modify and verify copies of them.

* ``many``: 100,000 files of 1-8 KiB laid out as 100 dirs x 10 subdirs x 100 files
  (scaled: the file count is ``round(100_000 * scale)``, filled in the same order).
* ``big``: 8 files of 256 MiB each (scaled: each file is ``round(256 MiB * scale)``).

Contents come from ``random.Random(seed)``, so the same seed and scale give the same
bytes on every machine. A built dataset is kept under ``<workdir>/data/`` and reused
(a ``.done`` marker beside it records the parameters).
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20
MANY_FILES = 100_000
MANY_DIRS, MANY_SUBDIRS, MANY_PER_DIR = 100, 10, 100
MANY_MIN, MANY_MAX = 1024, 8192
BIG_FILES = 8
BIG_SIZE = 256 * MIB
CHUNK = MIB


@dataclass(frozen=True, slots=True)
class Dataset:
    kind: str  # "many" | "big"
    scale: float
    seed: int
    path: Path  # the source tree
    nfiles: int
    nbytes: int

    @property
    def modified_relpath(self) -> str:
        """The file that the "one change" steps edit in place."""
        return relpaths(self.kind, self.scale)[self.nfiles // 2]


def many_count(scale: float) -> int:
    return max(1, round(MANY_FILES * scale))


def big_size(scale: float) -> int:
    return max(1, round(BIG_SIZE * scale))


def relpaths(kind: str, scale: float) -> list[str]:
    if kind == "big":
        return [f"part-{i:02d}.bin" for i in range(BIG_FILES)]
    out = []
    for n in range(many_count(scale)):
        d, rest = divmod(n, MANY_SUBDIRS * MANY_PER_DIR)
        s, f = divmod(rest, MANY_PER_DIR)
        out.append(f"d{d:03d}/s{s:02d}/f{f:03d}.bin")
    return out


def _scale_tag(scale: float) -> str:
    return f"{scale:g}".replace(".", "p")


def build(kind: str, scale: float, seed: int, data_root: Path, log: object = None) -> Dataset:
    """Build (or reuse) the dataset and return its description."""
    name = f"{kind}-s{_scale_tag(scale)}-seed{seed}"
    path = data_root / name
    marker = data_root / f"{name}.done"
    params = {"kind": kind, "scale": scale, "seed": seed, "version": 1}
    if marker.exists() and path.is_dir():
        info = json.loads(marker.read_text())
        if info.get("params") == params:
            return Dataset(kind, scale, seed, path, info["nfiles"], info["nbytes"])
    if path.exists():
        shutil.rmtree(path)
    marker.unlink(missing_ok=True)
    tmp = data_root / f"{name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    rng = random.Random(f"gitml-bench/{kind}/{seed}")
    nbytes = 0
    names = relpaths(kind, scale)
    made: set[str] = set()
    for rel in names:
        dest = tmp / rel
        parent = os.path.dirname(rel)
        if parent and parent not in made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            made.add(parent)
        if kind == "big":
            size = big_size(scale)
            with open(dest, "wb") as fh:
                left = size
                while left:
                    n = min(CHUNK, left)
                    fh.write(rng.randbytes(n))
                    left -= n
        else:
            size = rng.randint(MANY_MIN, MANY_MAX)
            with open(dest, "wb") as fh:
                fh.write(rng.randbytes(size))
        nbytes += size
    os.sync()
    tmp.rename(path)
    marker.write_text(json.dumps({"params": params, "nfiles": len(names), "nbytes": nbytes}))
    return Dataset(kind, scale, seed, path, len(names), nbytes)


def change_bytes(ds: Dataset) -> bytes:
    """The 16 bytes written at offset 0 of the modified file (same for both tools)."""
    return random.Random(f"gitml-bench/change/{ds.seed}").randbytes(16)


def modify_one(tree: Path, ds: Dataset) -> None:
    """Overwrite the first 16 bytes of one file in place (size unchanged, new mtime)."""
    with open(tree / ds.modified_relpath, "r+b") as fh:
        fh.write(change_bytes(ds))


def _listing(root: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    stack = [root]
    while stack:
        top = stack.pop()
        with os.scandir(top) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    rel = os.path.relpath(entry.path, root).replace(os.sep, "/")
                    out[rel] = entry.stat().st_size  # follows links: content is what counts
    return out


def _same_content(a: Path, b: Path, size: int, expect_head: bytes | None) -> bool:
    """Compare whole files up to 1 MiB, else the first and last MiB."""
    with open(a, "rb") as fa, open(b, "rb") as fb:
        if size <= 2 * MIB:
            da, db = fa.read(), fb.read()
        else:
            da = fa.read(MIB)
            db = fb.read(MIB)
            fa.seek(-MIB, os.SEEK_END)
            fb.seek(-MIB, os.SEEK_END)
            da += fa.read()
            db += fb.read()
    if expect_head is not None:
        da = expect_head + da[len(expect_head) :]
    return da == db


def verify(tree: Path, ds: Dataset, *, modified: bool, samples: int = 25) -> str | None:
    """None if ``tree`` matches the dataset (names, sizes, sampled contents), else why not."""
    if not tree.is_dir():
        return f"{tree.name}/ is missing"
    got = _listing(tree)
    want_names = relpaths(ds.kind, ds.scale)
    if len(got) != len(want_names):
        return f"{len(got)} files instead of {len(want_names)}"
    rng = random.Random(f"gitml-bench/verify/{ds.seed}")
    picks = set(rng.sample(want_names, min(samples, len(want_names))))
    picks.add(ds.modified_relpath)
    for rel in want_names:
        if rel not in got:
            return f"{rel} is missing"
    for rel in sorted(picks):
        src = ds.path / rel
        size = src.stat().st_size
        if got[rel] != size:
            return f"{rel}: size {got[rel]} instead of {size}"
        head = change_bytes(ds) if modified and rel == ds.modified_relpath else None
        if not _same_content(src, tree / rel, size, head):
            return f"{rel}: content differs"
    return None
