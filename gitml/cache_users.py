"""Which repositories use a cache: gc of a shared cache needs all their roots.

A cache configured outside the repository (``cache.dir``) may serve several
repositories; collecting it from one repository's roots would delete what the
others need. So every write command (add, pull, checkout, push, gc...) of a
repository whose cache lies outside it records the repository in the cache::

    <cache>/repos/<sha256 of the git common dir, 32 hex>   {"git_dir": ..., "root": ...}

one small JSON file per repository, written crash-safely (temp, fsync, rename,
fsync the folder) and rewritten only when its content changes. gc reads them
all, whatever the cache's location (a cache inside repository A may still be
used by B), and collects with every recorded repository's roots
(:func:`gitml.remotes.maintenance.gc`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from gitml.progress import Reporter
from gitml.store.durable import write_file_atomic

REPOS = "repos"
_MAX_RECORD = 1 << 16


@dataclass(frozen=True, slots=True)
class CacheUser:
    key: str  # file name under repos/
    git_dir: Path  # absolute git common dir
    root: Path  # a work tree of that repository


def cache_is_outside(cache_dir: Path, root: Path) -> bool:
    """Whether the resolved cache folder lies outside the work tree ``root``."""
    cache = Path(os.path.realpath(cache_dir))
    real_root = Path(os.path.realpath(root))
    return cache != real_root and real_root not in cache.parents


def _key(git_dir: Path) -> str:
    return hashlib.sha256(os.fsencode(os.path.realpath(git_dir))).hexdigest()[:32]


def record_user(cache_dir: Path, root: Path, git_dir: Path, reporter: Reporter) -> bool:
    """Record the repository (work tree ``root``, git common dir ``git_dir``) in
    its cache ``cache_dir`` when the cache is outside it. Called by
    :func:`gitml.context.session`, below which this module sits.

    Returns True when a record was written. A cache that cannot be written is
    reported as a warning: the command itself goes on (it would fail on its
    own writes if it needed any)."""
    if not cache_is_outside(cache_dir, root):
        return False
    git_dir = Path(os.path.realpath(git_dir))
    body = json.dumps(
        {"git_dir": str(git_dir), "root": os.path.realpath(root)}, sort_keys=True
    ).encode()
    folder = cache_dir / REPOS
    path = folder / _key(git_dir)
    try:
        with open(path, "rb") as fh:
            if fh.read(_MAX_RECORD) == body:
                return False
    except OSError:
        pass
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_file_atomic(path, body)
    except OSError as exc:
        reporter.warning(
            f"cannot record this repository in the shared cache {folder}: {exc.strerror}; "
            "gc run from another repository sharing it cannot see what this one needs"
        )
        return False
    return True


def recorded_users(cache_dir: Path) -> tuple[list[CacheUser], list[str]]:
    """The recorded users of a cache, and the names of unreadable records."""
    folder = cache_dir / REPOS
    users: list[CacheUser] = []
    bad: list[str] = []
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return [], []
    for name in names:
        if name.startswith("."):
            continue  # a temp file of a write in flight
        try:
            with open(folder / name, "rb") as fh:
                data = json.loads(fh.read(_MAX_RECORD))
            git_dir, root = Path(data["git_dir"]), Path(data["root"])
            if not (git_dir.is_absolute() and root.is_absolute()):
                raise ValueError("relative path")
        except (OSError, ValueError, KeyError, TypeError):
            bad.append(name)
            continue
        users.append(CacheUser(name, git_dir, root))
    return users, bad


def forget_user(cache_dir: Path, user: CacheUser) -> None:
    """Remove the record of a repository that no longer exists (``--forget-missing``)."""
    try:
        (cache_dir / REPOS / user.key).unlink()
    except FileNotFoundError:
        return
