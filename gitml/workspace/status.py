"""``gitml status``: the workspace against its pointers, file by file.

Reads no file whose (inode, size, mtime) match the stat index; for a folder
whose every file matches, not even the manifest is loaded.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from gitml.context import RepoContext
from gitml.errors import ObjectMissingError
from gitml.store.hashing import hash_bytes
from gitml.store.manifest import encode_manifest
from gitml.workspace.compare import FileChange, Sized, compare, load_entries
from gitml.workspace.pointer import Pointer
from gitml.workspace.scan import TreeScan, observe
from gitml.workspace.tracked import read_pointer

State = Literal["clean", "modified", "stale", "missing", "not-in-cache"]


@dataclass(frozen=True, slots=True)
class PathStatus:
    path: str
    kind: str
    state: State
    changes: list[FileChange] = field(default_factory=list)
    message: str = ""
    source: str | None = None  # an import's source repository (gitml.import_status)


def workspace_oid(result: TreeScan) -> str:
    """The oid the workspace version would get if added now."""
    if not result.is_dir:
        return result.files[""].oid
    return hash_bytes(encode_manifest(result.files.values()))


def workspace_files(result: TreeScan) -> dict[str, Sized]:
    """The workspace version as ``compare`` takes it: a folder's files with their
    exec bit (its manifest records it), a tracked file without (its pointer does not)."""
    if not result.is_dir:
        return {rel: Sized(s.oid, s.size) for rel, s in result.files.items()}
    return {rel: Sized(s.oid, s.size, s.executable) for rel, s in result.files.items()}


def status_one(ctx: RepoContext, tracked: str) -> PathStatus:
    pointer = read_pointer(ctx, tracked)
    out = status_of(ctx, tracked, pointer)
    if pointer.source is None:
        return out
    return dataclasses.replace(out, source=pointer.source.url)


def status_of(ctx: RepoContext, tracked: str, pointer: Pointer) -> PathStatus:
    """The workspace data of ``tracked`` against ``pointer`` (e.g. the staged one)."""
    result = observe(ctx, tracked)
    synced = ctx.index.state(tracked)
    last = synced.oid if synced is not None else None
    # The pointer changed since gitml last added or wrote this path (git moved it
    # and its data was not checked out): the workspace is behind it, not ahead.
    moved = synced is not None and synced.pointer != pointer.oid
    if not result.exists:
        if not ctx.store.has(pointer.oid):
            return PathStatus(tracked, pointer.kind, "not-in-cache", message="gitml pull")
        return PathStatus(tracked, pointer.kind, "missing", message="gitml checkout")
    if result.is_dir != (pointer.kind == "dir"):
        return PathStatus(
            tracked, pointer.kind, "modified", message="a file replaced a folder or back"
        )
    if last is not None and last == pointer.oid and result.is_dir:
        return _against_state(ctx, tracked, pointer, result)
    current = last if (result.all_fresh and last is not None) else workspace_oid(result)
    if current == pointer.oid:
        if not ctx.store.has(pointer.oid):
            return PathStatus(
                tracked, pointer.kind, "not-in-cache", message="gitml pull or gitml add"
            )
        return PathStatus(tracked, pointer.kind, "clean")
    state: State = "stale" if moved else "modified"
    if state == "modified":
        hint = "gitml add"
    elif current == last:
        hint = "gitml checkout"
    else:
        hint = "edited since: gitml add --force keeps the edits, gitml checkout --force drops them"
    new = workspace_files(result)
    try:
        old = load_entries(ctx, pointer, tracked, "pointer")
    except ObjectMissingError:
        return PathStatus(tracked, pointer.kind, "not-in-cache", message="gitml pull")
    return PathStatus(
        tracked,
        pointer.kind,
        state,
        compare(tracked, old, new),
        hint,
    )


def _against_state(
    ctx: RepoContext, tracked: str, pointer: Pointer, result: TreeScan
) -> PathStatus:
    """The pointer names the tree gitml last wrote or added here, and the stat
    index describes exactly that tree: the changes are the files that were
    re-read with new content or exec bit (ctime sends a chmod-ed file there),
    the new files and the vanished ones. No manifest
    is read and nothing is re-encoded, however large the folder."""
    changes: list[FileChange] = []
    for rel, old in result.prior.items():
        new = result.read[rel]  # re-read files only: `files` would build every entry
        full = f"{tracked}/{rel}"
        if old is None:
            changes.append(FileChange(full, "added", None, new.size))
        elif old.oid != new.oid or old.executable not in (None, new.executable):
            changes.append(FileChange(full, "modified", old.size, new.size))
    known = ctx.index.rows_of(result.gone)
    for key in result.gone:
        row = known.get(key)
        changes.append(FileChange(key, "deleted", row.size if row else None, None))
    if not changes:
        if not ctx.store.has(pointer.oid):
            return PathStatus(
                tracked, pointer.kind, "not-in-cache", message="gitml pull or gitml add"
            )
        return PathStatus(tracked, pointer.kind, "clean")
    changes.sort(key=lambda c: c.path.encode("utf-8"))
    return PathStatus(tracked, pointer.kind, "modified", changes, "gitml add")


def status(ctx: RepoContext, tracked: list[str]) -> list[PathStatus]:
    return [status_one(ctx, t) for t in tracked]
