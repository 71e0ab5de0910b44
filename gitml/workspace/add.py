"""``gitml add``: snapshot files and folders into the cache and write pointers.

Order (crash safety): all file objects in one batch (one sync), then the
manifest in a second batch, then the pointer (temp + rename), then the stat
index, .gitignore and ``git add``. A kill at any point leaves either the old
pointer or the new one, and every object a pointer names is complete.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from gitml.context import RepoContext
from gitml.errors import (
    InputError,
    PointerConflictError,
    PointerError,
    UsageError,
    WorkspaceConflictError,
)
from gitml.faults import fault_point
from gitml.safepath import UserPath
from gitml.store.durable import write_file_atomic
from gitml.store.fsutil import LStat
from gitml.store.manifest import Entry, encode_manifest
from gitml.store.objects import Batch
from gitml.store.stat_index import StatRow
from gitml.workspace.ignore import add_ignore
from gitml.workspace.materialize import JOURNAL as CHECKOUT_JOURNAL
from gitml.workspace.pointer import POINTER_SUFFIX, Pointer, format_pointer, pointer_name
from gitml.workspace.scan import TreeScan, scan
from gitml.workspace.tracked import owning_tracked, read_pointer, tracked_paths
from gitml.workspace.walk import FileStat


@dataclass(frozen=True, slots=True)
class Added:
    path: str
    kind: str
    oid: str
    size: int
    nfiles: int
    hashed: int  # files actually read (the rest came from the stat index)
    changed: bool


@dataclass
class AddResult:
    added: list[Added] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # FIFOs, sockets (warned)
    staged: list[str] = field(default_factory=list)  # files given to `git add`


def plan_add_targets(ctx: RepoContext, targets: list[str], cwd: UserPath | None) -> list[str]:
    """User targets → tracked paths to (re)snapshot. A path inside a tracked
    folder updates that folder; a pointer name means its data."""
    if not targets:
        raise UsageError("name at least one file or folder to add", "gitml add data/")
    tracked = tracked_paths(ctx)
    out: list[str] = []
    for target in targets:
        rel = ctx.relpath(target, cwd=cwd)
        if rel.endswith(POINTER_SUFFIX):
            rel = rel[: -len(POINTER_SUFFIX)]
        owner = owning_tracked(rel, tracked)
        if owner is None:
            nested = [t for t in tracked if t.startswith(rel + "/")]
            if nested:
                raise UsageError(
                    f"{rel} contains paths gitml already tracks: {', '.join(nested[:3])}",
                    f"gitml rm {nested[0]} first, then add the whole folder",
                )
            if not os.path.lexists(ctx.root / rel):
                raise InputError(f"{target} does not exist")
        out.append(owner or rel)
    in_git = ctx.git.ls_files(*out)
    if in_git:
        raise UsageError(
            f"{in_git[0]} is tracked by git itself",
            f"stop tracking it in git first: git rm -r --cached -- {in_git[0]}",
        )
    return sorted(set(out))


def check_pointer_followed(ctx: RepoContext, tracked: str) -> None:
    """Refuse to add over a pointer the workspace does not follow.

    ``add`` replaces the pointer with the workspace data. That is only a new
    version of what the pointer names if the workspace holds that version (plus
    edits). After a ``git checkout``/``git pull`` whose data could not be
    fetched the workspace still holds the older files: recording them would
    silently revert the other side's change. The same for a pointer a merge
    left in conflict: recording the workspace would silently pick one side.
    """
    name = pointer_name(tracked)
    if not os.path.isfile(ctx.root / name) or not os.path.lexists(ctx.root / tracked):
        return  # a first add, or nothing to add (add_one says so)
    try:
        pointer = read_pointer(ctx, tracked)
    except PointerConflictError:
        raise WorkspaceConflictError(
            f"{name} has unresolved merge conflict markers: adding would replace both sides "
            f"with the workspace data",
            f"keep one side first (git checkout --ours -- {name}, or --theirs; git add {name}; "
            f"gitml checkout {tracked}), or gitml add --force {tracked} to record the workspace",
        ) from None
    except PointerError:
        return  # a damaged pointer: the workspace data replaces it, as it always did
    synced = ctx.index.state(tracked)
    # With no record of this path, the data the pointer names was never here
    # if it is not in the cache.
    behind = synced.pointer != pointer.oid if synced else not ctx.store.has(pointer.oid)
    if behind:
        raise WorkspaceConflictError(
            f"{name} changed since gitml last wrote {tracked} (a git checkout or pull whose "
            f"data was not fetched): adding would record the older files and revert that change",
            f"gitml pull {tracked} (or gitml checkout {tracked}) first, "
            f"or gitml add --force {tracked} to record the workspace as it is",
        )


def _relinked(root: Path, rows: list[StatRow]) -> list[StatRow]:
    """Rows of files that hardlink mode just linked into the cache and made
    read-only: both changed the inode's ctime (and mode). Record the new ones
    while inode, size and mtime are still those hashed, or every later status
    would re-read every file once more."""
    out: list[StatRow] = []
    for row in rows:
        try:
            st = os.lstat(root / row.path)
        except OSError:
            st = None
        if st is not None and (st.st_ino, st.st_size, st.st_mtime_ns) == (
            row.ino,
            row.size,
            row.mtime_ns,
        ):
            row = StatRow.of(row.path, st, row.oid, row.recorded_ns)
        out.append(row)
    return out


def add_one(
    ctx: RepoContext, tracked: str, batch: Batch, link: str
) -> tuple[TreeScan, list[Entry]]:
    """Store every changed file of ``tracked``; return the scan and its manifest entries."""
    store = ctx.store

    def store_file(path: str, st: FileStat) -> tuple[str, int]:
        # The walk's lstat spares add_file one (100,000 lstats on a big folder).
        return batch.add_file(path, link=link, st=LStat(st[3], st[0], st[4], st[1], st[2]))

    result = scan(ctx, tracked, store_file, task="add")
    if not result.exists:
        raise InputError(f"{tracked} does not exist")
    # Files known from the stat index must still have their object (it may
    # have been garbage-collected or quarantined since). Files read just now
    # were stored by this batch.
    top = ctx.root / tracked
    by_oid: dict[str, list[str]] = {}
    for rel, entry in result.files.items():
        if rel not in result.read:
            by_oid.setdefault(entry.oid, []).append(rel)
    for oid_was in store.missing(by_oid):  # one listing per cache folder, not a stat each
        for rel in by_oid[oid_was]:
            oid, _ = batch.add_file(top / rel if rel else top, link=link)
            if oid != oid_was:
                raise InputError(
                    f"{tracked}/{rel} changed while being added", "run gitml add again"
                )
    entries = list(result.files.values())
    return result, entries


def add(
    ctx: RepoContext, targets: list[str], *, cwd: UserPath | None = None, force: bool = False
) -> AddResult:
    """Snapshot ``targets``. ``force``: record the workspace even over a pointer it
    does not follow (see :func:`check_pointer_followed`)."""
    tracked_list = plan_add_targets(ctx, targets, cwd)
    # A killed checkout may have left a file it had not finished (mode 000, named
    # by the checkout journal); root can read it and would snapshot it truncated.
    if (ctx.gitml_dir / CHECKOUT_JOURNAL).exists():
        raise WorkspaceConflictError(
            "an interrupted gitml checkout left files unfinished",
            "run gitml checkout to complete it, then add",
        )
    if not force:
        for tracked in tracked_list:
            check_pointer_followed(ctx, tracked)
    ctx.index.check_writable()  # before storing anything it could not record
    link = ctx.config.link
    out = AddResult()
    scans: dict[str, tuple[TreeScan, list[Entry]]] = {}
    ctx.reporter.start("add", 0)
    with ctx.store.batch() as batch:
        for tracked in tracked_list:
            scans[tracked] = add_one(ctx, tracked, batch, link)
            fault_point("add.after-store")
    ctx.reporter.done("add")
    pointers: dict[str, Pointer] = {}
    with ctx.store.batch() as batch:
        for tracked, (result, entries) in scans.items():
            name = tracked.rpartition("/")[2]
            size = sum(e.size for e in entries)
            if result.is_dir:
                oid = batch.add_bytes(encode_manifest(entries))
                pointers[tracked] = Pointer(name, "dir", oid, size, len(entries))
            else:
                pointers[tracked] = Pointer(name, "file", entries[0].oid, size)
    fault_point("add.before-pointer")
    to_stage: list[str] = []
    for tracked, pointer in pointers.items():
        result, _ = scans[tracked]
        ptr_path = ctx.root / pointer_name(tracked)
        data = format_pointer(pointer)
        try:
            changed = ptr_path.read_bytes() != data
        except FileNotFoundError:
            changed = True
        if changed:
            write_file_atomic(ptr_path, data)
        fault_point("add.after-pointer")
        ctx.index.drop_paths(result.gone)
        rows = _relinked(ctx.root, result.rows) if link == "hardlink" else result.rows
        ctx.index.put_many(rows)
        ctx.index.set_state(tracked, pointer.oid)
        to_stage += [pointer_name(tracked), add_ignore(ctx.root, tracked)]
        out.added.append(
            Added(
                tracked,
                pointer.kind,
                pointer.oid,
                pointer.size,
                pointer.nfiles,
                result.hashed,
                changed,
            )
        )
        out.skipped += result.skipped
    for path in out.skipped:
        ctx.reporter.warning(f"skipped {path}: not a regular file")
    ctx.git.add(to_stage)
    out.staged = sorted(set(to_stage))
    return out
