"""What is in the workspace now, with as few reads as possible.

A file whose (inode, size, mtime_ns) match the stat index — and is not racy —
keeps its recorded oid without being read. Only the others are hashed (or, for
``add``, hashed while being copied into the cache, so each byte is read once).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gitml.context import RepoContext
from gitml.errors import InputError
from gitml.store.stat_index import StatRow
from gitml.workspace.walk import cache_link_oid, walk_tree

# (absolute path, lstat) → (oid, size); hash_file for status, Batch.add_file for add.
Hasher = Callable[[Path, os.stat_result], tuple[str, int]]


@dataclass(frozen=True, slots=True)
class FileState:
    oid: str
    size: int
    executable: bool


@dataclass
class TreeScan:
    """The workspace state of one tracked path."""

    exists: bool
    is_dir: bool
    files: dict[str, FileState] = field(default_factory=dict)  # "" for a tracked file
    rows: list[StatRow] = field(default_factory=list)  # stat rows to record
    gone: list[str] = field(default_factory=list)  # index keys whose file no longer exists
    prior: dict[str, StatRow | None] = field(default_factory=dict)  # hashed rel → its old row

    def refreshed_rows(self) -> list[StatRow]:
        """Rows of re-read files whose content did not change. Read-only commands
        record only these: the index must keep describing the tree gitml last
        wrote or added (its per-path state), or a modified file would look clean."""
        out = []
        for row in self.rows:
            rel = row.path.partition("/")[2] if self.is_dir else ""
            old = self.prior.get(rel)
            if old is not None and old.oid == row.oid:
                out.append(row)
        return out

    hashed: int = 0  # files that had to be read
    skipped: list[str] = field(default_factory=list)
    all_fresh: bool = False  # every file matched the index and no file came or went


def _check_in_place_edit(ctx: RepoContext, path: str, oid: str, st: os.stat_result) -> None:
    """In hardlink mode a workspace file *is* its cache object: an in-place
    edit changes both. Say so loudly instead of letting it pass silently (DVC
    deletes such an object); checkout and fsck quarantine it when they meet it."""
    try:
        same = os.stat(ctx.store.object_path(oid)).st_ino == st.st_ino
    except FileNotFoundError:
        return
    if same:
        ctx.reporter.warning(
            f"{path} was edited in place while hardlinked to the cache: cache object "
            f"{oid[:12]} changed with it (gitml fsck quarantines it; gitml pull restores it)"
        )


def _row_key(tracked: str, rel: str) -> str:
    return f"{tracked}/{rel}" if rel else tracked


def scan(ctx: RepoContext, tracked: str, hasher: Hasher, *, task: str = "") -> TreeScan:
    """Scan ``tracked`` (file or dir) in the workspace, hashing only changed files."""
    top = ctx.root / tracked
    try:
        st_top = os.lstat(top)
    except FileNotFoundError:
        return TreeScan(exists=False, is_dir=False)
    cache_root = ctx.config.cache_dir if ctx.config.link == "symlink" else None
    linked: dict[str, str] = {}
    if stat.S_ISLNK(st_top.st_mode):
        oid = cache_link_oid(str(top), cache_root)
        if oid is None:
            raise InputError(f"{tracked} is a symlink", "gitml tracks files and folders, not links")
        linked[""] = oid
        st_top = os.stat(top)
    if stat.S_ISDIR(st_top.st_mode) and not linked:
        walked = walk_tree(top, tracked, cache_root)
        files = walked.files
        linked = walked.linked
        skipped = walked.skipped
        known = ctx.index.lookup_prefix(tracked)
        is_dir = True
    elif stat.S_ISREG(st_top.st_mode):
        files = {"": st_top}
        skipped = []
        known = ctx.index.lookup_prefix(tracked)
        is_dir = False
    else:
        raise InputError(
            f"{tracked} is not a regular file or folder", "gitml skips FIFOs and devices"
        )
    result = TreeScan(exists=True, is_dir=is_dir, skipped=skipped)
    fresh_count = 0
    reporter = ctx.reporter
    hardlink = ctx.config.link == "hardlink"
    pending_bytes = 0
    for rel in sorted(files):
        st = files[rel]
        key = _row_key(tracked, rel)
        row = known.get(key)
        executable = bool(st.st_mode & 0o111)
        if rel in linked:  # symlink mode: the workspace file is the cache object
            result.files[rel] = FileState(linked[rel], st.st_size, False)
            fresh_count += 1
            continue
        oid = ctx.index.fresh_oid(key, st, row)
        if oid is not None:
            fresh_count += 1
            result.files[rel] = FileState(oid, st.st_size, executable)
            continue
        if row is not None and hardlink and row.ino == st.st_ino:
            _check_in_place_edit(ctx, key, row.oid, st)
        oid, size = hasher(top / rel if rel else top, st)
        result.prior[rel] = row
        result.hashed += 1
        pending_bytes += size
        result.files[rel] = FileState(oid, size, executable)
        st_after = os.lstat(top / rel if rel else top)
        result.rows.append(
            StatRow(key, st_after.st_ino, st_after.st_size, st_after.st_mtime_ns, oid)
        )
        if task and result.hashed % 256 == 0:
            reporter.advance(task, 256, pending_bytes)
            pending_bytes = 0
    if task:
        reporter.advance(task, result.hashed % 256, pending_bytes)
    current = {_row_key(tracked, rel) for rel in files}
    result.gone = [key for key in known if key not in current]
    result.all_fresh = fresh_count == len(files) == len(known)
    return result


def _hash_only(path: Path, _st: os.stat_result) -> tuple[str, int]:
    from gitml.store.hashing import hash_file

    return hash_file(path)


def observe(ctx: RepoContext, tracked: str) -> TreeScan:
    """Scan for a command that only looks (status, diff, hooks, pipelines):
    changed files are hashed, nothing is stored, and only rows of re-read but
    unchanged files are recorded, so the stat index keeps describing the tree
    gitml last wrote or added."""
    result = scan(ctx, tracked, _hash_only)
    ctx.index.put_many(result.refreshed_rows())
    return result
