"""What is in the workspace now, with as few reads as possible.

A file whose (inode, size, mtime_ns, ctime_ns) match the stat index — and is
not racy — keeps its recorded oid without being read. Only the others are hashed (or, for
``add``, hashed while being copied into the cache, so each byte is read once).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gitml.context import RepoContext
from gitml.errors import IndexReadOnlyError, InputError, PointerError, UsageError
from gitml.store.manifest import Entry
from gitml.store.stat_index import RACY_NS, StatRow
from gitml.workspace.walk import FileStat, cache_link_oid, file_stat, walk_tree

# (absolute path, lstat) → (oid, size); hash_file for status, Batch.add_file for add.
# Both raise InputError if the file changed between the lstat and the end of the read.
Hasher = Callable[[str, FileStat], tuple[str, int]]


# A file's state is its manifest entry (path relative to the tracked folder, ""
# for a tracked file): add and status encode them as they are, no second object.
FileState = Entry


@dataclass
class TreeScan:
    """The workspace state of one tracked path.

    ``files`` (every file's oid, size and mode) is built on first use: a clean
    ``status`` of a big folder only needs to know that nothing changed, and a
    state object per file cost more than the walk's comparison itself.
    """

    exists: bool
    is_dir: bool
    rows: list[StatRow] = field(default_factory=list)  # stat rows to record
    gone: list[str] = field(default_factory=list)  # index keys whose file no longer exists
    prior: dict[str, StatRow | None] = field(default_factory=dict)  # hashed rel → its old row
    refreshed: list[StatRow] = field(default_factory=list)  # re-read, content unchanged
    hashed: int = 0  # files that had to be read
    skipped: list[str] = field(default_factory=list)
    all_fresh: bool = False  # every file matched the index and no file came or went
    # What `files` is built from; released once it is.
    stats: dict[str, FileStat] = field(default_factory=dict)
    linked: dict[str, str] = field(default_factory=dict)
    recorded_oids: Callable[[], dict[str, str]] = dict  # rel → oid the index recorded
    read: dict[str, FileState] = field(default_factory=dict)  # rel → state of files read
    _files: dict[str, FileState] | None = None

    @property
    def files(self) -> dict[str, FileState]:
        """rel → state for every file ("" for a tracked file)."""
        if self._files is None:
            read, linked = self.read, self.linked
            oids = self.recorded_oids() if len(read) < len(self.stats) else {}
            out: dict[str, FileState] = {}
            for rel, st in self.stats.items():
                state = read.get(rel)
                if state is None:
                    if linked and rel in linked:
                        state = FileState(rel, linked[rel], st[1], False)
                    else:
                        state = FileState(rel, oids[rel], st[1], bool(st[3] & 0o111))
                out[rel] = state
            self._files = out
            self.stats = {}
        return self._files

    def refreshed_rows(self) -> list[StatRow]:
        """Rows of re-read files whose content and exec bit did not change.
        Read-only commands record only these: the index must keep describing the
        tree gitml last wrote or added (its per-path state), or a modified file
        would look clean. (A row from before modes were recorded takes the
        current exec bit: that gitml did not see a chmod either.)"""
        return self.refreshed


def _check_in_place_edit(ctx: RepoContext, path: str, oid: str, st: FileStat) -> None:
    """In hardlink mode a workspace file *is* its cache object: an in-place
    edit changes both. Say so loudly instead of letting it pass silently (DVC
    deletes such an object); checkout and fsck quarantine it when they meet it."""
    try:
        same = os.stat(ctx.store.object_path(oid)).st_ino == st[0]
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
    # Rows of this scan count as recorded when it started, before any lstat: the
    # racy-git rule must never trust a row more than the moment of its stat allows.
    started_ns = time.time_ns()
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
    known = ctx.index.rows_under(tracked)
    if stat.S_ISDIR(st_top.st_mode) and not linked:
        walked = walk_tree(top, tracked, cache_root, known)
        files, linked, skipped, is_dir = walked.files, walked.linked, walked.skipped, True
    elif stat.S_ISREG(st_top.st_mode):
        files, skipped, is_dir = {"": file_stat(st_top)}, [], False
    else:
        raise InputError(
            f"{tracked} is not a regular file or folder", "gitml skips FIFOs and devices"
        )
    result = TreeScan(
        exists=True,
        is_dir=is_dir,
        skipped=skipped,
        stats=files,
        linked=linked,
        recorded_oids=lambda: ctx.index.oids_under(tracked),
    )
    changed: list[str] = []
    fresh_count = 0
    # The hot loop of status and add: one dict lookup and five comparisons per
    # file, no calls, no objects. ctime catches an edit whose mtime was put back
    # and a chmod. A row is trusted only if the file's mtime is more than
    # RACY_NS older than the moment the row was recorded (racy git).
    for rel, st in files.items():
        if linked and rel in linked:  # symlink mode: the workspace file is the cache object
            fresh_count += 1
            continue
        row = known.get(rel)
        if row is not None:
            mtime = st[2]
            if (
                row[1] == st[0]
                and row[2] == st[1]
                and row[3] == mtime
                and row[5] == st[5]
                and mtime < row[4] - RACY_NS
            ):
                fresh_count += 1
                continue
        changed.append(rel)
    had_rows = [rel for rel in changed if rel in known]
    _hash_changed(ctx, tracked, top, changed, had_rows, hasher, result, task, started_ns)
    gone = known.keys() - files.keys()
    result.gone = sorted(_row_key(tracked, rel) for rel in gone)
    result.all_fresh = fresh_count == len(files) == len(known)
    return result


def _hash_changed(
    ctx: RepoContext,
    tracked: str,
    top: Path,
    changed: list[str],
    had_rows: list[str],
    hasher: Hasher,
    result: TreeScan,
    task: str,
    started_ns: int,
) -> None:
    """Read the files the stat index could not vouch for, in path order."""
    reporter = ctx.reporter
    hardlink = ctx.config.link == "hardlink"
    pending_bytes = 0
    files = result.stats
    top_str = os.fspath(top)
    # The rows of re-read files that had one, in batched queries (their oids).
    olds = ctx.index.rows_of(_row_key(tracked, rel) for rel in had_rows)
    for rel in sorted(changed):
        st = files[rel]
        key = _row_key(tracked, rel)
        row = olds.get(key)
        oid, size = hasher(f"{top_str}/{rel}" if rel else top_str, st)
        if row is not None and hardlink and row.ino == st[0] and row.oid != oid:
            # Only new bytes are an edit: a file re-read because it is racy (just
            # added) or because linking it into the cache changed its ctime is not.
            _check_in_place_edit(ctx, key, row.oid, st)
        result.prior[rel] = row
        result.hashed += 1
        pending_bytes += size
        executable = bool(st[3] & 0o111)
        result.read[rel] = FileState(rel, oid, size, executable)
        # The hasher checked that the file did not change after this lstat, so the
        # lstat describes the bytes hashed (no second lstat per file).
        new_row = StatRow(key, st[0], st[1], st[2], st[5], st[3], oid, started_ns)
        result.rows.append(new_row)
        if row is not None and row.oid == oid and row.executable in (None, executable):
            result.refreshed.append(new_row)
        if task and result.hashed % 256 == 0:
            reporter.advance(task, 256, pending_bytes)
            pending_bytes = 0
    if task:
        reporter.advance(task, result.hashed % 256, pending_bytes)


def _hash_only(path: str, _st: FileStat) -> tuple[str, int]:
    from gitml.store.hashing import hash_file

    return hash_file(path)


def observe(ctx: RepoContext, tracked: str) -> TreeScan:
    """Scan for a command that only looks (status, diff, hooks, pipelines):
    changed files are hashed, nothing is stored, and only rows of re-read but
    unchanged files are recorded, so the stat index keeps describing the tree
    gitml last wrote or added."""
    result = scan(ctx, tracked, _hash_only)
    try:
        ctx.index.put_many(result.refreshed_rows())
    except IndexReadOnlyError:
        pass  # only a cache: the next look reads these files again
    return result


def record_checkout(
    ctx: RepoContext, tracked: str, oid: str, source: str, subpath: str, wrote: bool
) -> None:
    """Record what a checkout of ``oid`` (from the pointer at ``source``,
    "workspace" or a revision) left at ``tracked``.

    All of it: the tree ``oid``, synced with the workspace pointer (for a
    revision, the workspace now deliberately holds another version: status
    says *modified*, and add records it). Only ``subpath``: the tree is one no
    pointer names, so the folder's recorded tree is dropped and status stops
    trusting it (it compares the folder file by file), except when the files
    came from the very pointer whose tree the index holds (the stat rows then
    still describe that tree plus the user's edits).
    """
    index = ctx.index
    if source == "workspace":
        followed: str | None = oid
    else:
        from gitml.workspace.tracked import read_pointer

        try:
            followed = read_pointer(ctx, tracked).oid
        except (PointerError, UsageError):
            followed = None  # no (readable) pointer in the workspace
    if not subpath:
        index.set_state(tracked, oid, followed or oid)
        return
    prior = index.state(tracked)
    if not wrote or (prior is not None and source == "workspace" and prior.oid == oid):
        return
    synced = prior.pointer if prior is not None else followed
    index.set_state(tracked, None, synced)


def restat_chmodded(ctx: RepoContext, paths: list[str]) -> None:
    """A checkout changed only the mode of these files: record their new ctime
    and mode (content, inode, size and mtime are those of their row), or the
    next status would read them again and call them modified."""
    if not paths:
        return
    olds = ctx.index.rows_of(paths)
    rows: list[StatRow] = []
    for path, row in olds.items():
        try:
            st = os.lstat(ctx.root / path)
        except OSError:
            continue
        if (st.st_ino, st.st_size, st.st_mtime_ns) == (row.ino, row.size, row.mtime_ns):
            rows.append(StatRow.of(path, st, row.oid, row.recorded_ns))
    ctx.index.put_many(rows)
