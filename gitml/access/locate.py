"""What a path is at a commit: a git file, a tracked file or folder, or a file
or folder inside a tracked folder."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gitml.access.fetching import ensure_objects
from gitml.context import RepoContext
from gitml.errors import UsageError
from gitml.safepath import check_relpath
from gitml.store.manifest import decode_manifest_files
from gitml.workspace.pointer import Pointer
from gitml.workspace.revisions import pointers_at

Kind = Literal["git", "file", "dir"]


@dataclass(frozen=True)
class Located:
    path: str  # repository-relative, as asked
    commit: str
    kind: Kind  # "git": a file git tracks; "file"/"dir": gitml-tracked data
    oid: str = ""  # the object (file) or manifest (dir); the blob sha for "git"
    size: int = 0
    tracked: str = ""  # the tracked path holding it
    pointer: Pointer | None = None
    subpath: str = ""  # inside ``tracked`` ("" = all of it)


def _parents(path: str) -> list[str]:
    out = [path]
    while "/" in path:
        path = path.rpartition("/")[0]
        out.append(path)
    return out


def locate(
    ctx: RepoContext, commit: str, path: str, *, rev: str, where: str, local_cache: Path | None
) -> Located:
    """``path`` at ``commit`` (``rev`` is the user's text, for errors). A file
    inside a tracked folder needs the folder's manifest: it is fetched."""
    path = check_relpath(posixpath.normpath(path.strip("/") or "."), what="path")
    pointers = pointers_at(ctx, commit, _parents(path))
    owner = next((p for p in _parents(path) if p in pointers), None)
    if owner is not None:
        pointer = pointers[owner]
        if owner == path:
            return Located(path, commit, pointer.kind, pointer.oid, pointer.size, owner, pointer)
        if pointer.kind == "dir":
            return _inside(ctx, commit, path, owner, pointer, rev, where, local_cache)
    blobs = {e.path: e for e in ctx.git.ls_tree_entries(commit, path)}
    entry = blobs.get(path)
    if entry is not None and entry.is_file:
        size = len(ctx.git.read_blobs([entry.sha])[entry.sha])
        return Located(path, commit, "git", entry.sha, size)
    if blobs:
        raise UsageError(
            f"{path} is a folder in git at {rev}, not a file or tracked data",
            "name a file in it (gitml ls shows what is there)",
        )
    raise UsageError(f"{path} does not exist at {rev} in {where}", "gitml ls shows what is there")


def _inside(
    ctx: RepoContext,
    commit: str,
    path: str,
    owner: str,
    pointer: Pointer,
    rev: str,
    where: str,
    local_cache: Path | None,
) -> Located:
    ensure_objects(ctx, {pointer.oid: owner}, where=where, local_cache=local_cache)
    files = decode_manifest_files(ctx.store.read_bytes(pointer.oid), source=owner)
    sub = path[len(owner) + 1 :]
    ref = files.get(sub)
    if ref is not None:
        return Located(path, commit, "file", ref.oid, ref.size, owner, pointer, sub)
    inside = [r for p, r in files.items() if p.startswith(sub + "/")]
    if inside:
        size = sum(r.size for r in inside)
        return Located(path, commit, "dir", pointer.oid, size, owner, pointer, sub)
    raise UsageError(
        f"{path} does not exist at {rev} in {where} ({owner} is tracked, without it)",
        "gitml ls shows what is there",
    )
