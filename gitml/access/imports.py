"""Import pointers: data copied from another repository, tracked with its origin.

``gitml import URL PATH`` writes a normal pointer plus a ``source`` (URL, path,
revision asked for, locked commit; see :mod:`gitml.workspace.pointer`), checks
the data out through the one checkout writer, ignores it in git and stages the
pointer. ``gitml update`` resolves the source revision again and moves the
pointer and the data when it changed. The data goes first and the pointer last:
a kill in between leaves files that no pointer claims yet, never a pointer
whose data is half there.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from gitml.access.locate import Located
from gitml.access.place import Place
from gitml.context import RepoContext
from gitml.errors import UsageError, WorkspaceConflictError
from gitml.git.clone import is_network_url
from gitml.store.durable import write_file_atomic
from gitml.store.manifest import Entry, decode_manifest, encode_manifest
from gitml.workspace.checkout import Target, checkout
from gitml.workspace.ignore import add_ignore
from gitml.workspace.pointer import ImportSource, Pointer, format_pointer, pointer_name


@dataclass
class Imported:
    path: str  # tracked path in the caller's repository
    source: ImportSource
    oid: str
    size: int
    changed: bool  # the pointer (or its data) changed
    written: list[str] = field(default_factory=list)


def recorded_url(url: str, root: Path, cwd: Path) -> str:
    """What an import pointer keeps: a network URL as given; a local path relative
    to the repository root when it was given relative (the pointer then works in
    every clone that has the source at the same place), else absolute."""
    if is_network_url(url) or url.startswith("file://") or os.path.isabs(url):
        return url
    return os.path.relpath(os.path.normpath(cwd / os.path.expanduser(url)), root)


def needed_objects(place: Place, located: Located) -> tuple[Pointer, dict[str, str]]:
    """The pointer that names ``located`` (without source) and the objects it
    needs. A sub-folder of a tracked folder gets a manifest of its own."""
    name = located.path.rpartition("/")[2]
    if located.kind == "file":
        return Pointer(name, "file", located.oid, located.size), {located.oid: located.path}
    place.fetch({located.oid: located.tracked})
    store = place.ctx.store
    entries = decode_manifest(store.read_bytes(located.oid), source=located.tracked)
    if located.subpath:
        prefix = located.subpath + "/"
        entries = [
            Entry(e.path[len(prefix) :], e.oid, e.size, e.executable)
            for e in entries
            if e.path.startswith(prefix)
        ]
    wanted = {e.oid: f"{located.path}/{e.path}" for e in entries}
    with store.batch() as batch:
        oid = batch.add_bytes(encode_manifest(entries))
    size = sum(e.size for e in entries)
    return Pointer(name, "dir", oid, size, len(entries)), wanted


def bring(place: Place, located: Located) -> Pointer:
    """The objects of ``located`` into the cache (the caller's: every place
    writes there); the pointer naming them. A git file becomes an object."""
    if located.kind == "git":
        data = place.ctx.git.read_blobs([located.oid])[located.oid]
        with place.ctx.store.batch() as batch:
            oid = batch.add_bytes(data)
        return Pointer(located.path.rpartition("/")[2], "file", oid, len(data))
    pointer, wanted = needed_objects(place, located)
    place.fetch(wanted)
    return pointer


def install(
    caller: RepoContext, out: str, pointer: Pointer, source: ImportSource, *, force: bool
) -> Imported:
    """Check the data out at ``out``, then write and stage its import pointer."""
    pointer = Pointer(
        out.rpartition("/")[2], pointer.kind, pointer.oid, pointer.size, pointer.nfiles, source
    )
    ptr_path = caller.root / pointer_name(out)
    try:
        old = ptr_path.read_bytes()
    except FileNotFoundError:
        old = None
    data = format_pointer(pointer)
    done = checkout(caller, [Target(out, pointer, "import")], force=force)
    if old != data:
        write_file_atomic(ptr_path, data)
    caller.index.set_state(out, pointer.oid)
    caller.git.add([pointer_name(out), add_ignore(caller.root, out)])
    return Imported(out, source, pointer.oid, pointer.size, old != data, done.written)


def check_new_target(caller: RepoContext, out: str, *, force: bool) -> None:
    """``gitml import`` onto a path: refuse one that git tracks, or that gitml
    tracks from elsewhere (unless ``force``); ``update`` moves imports."""
    if caller.git.ls_files(out):
        raise UsageError(f"{out} is tracked by git", "give another -o PATH, or git rm it first")
    ptr = caller.root / pointer_name(out)
    if ptr.exists() and not force:
        raise WorkspaceConflictError(
            f"{pointer_name(out)} already exists",
            f"gitml update {out} moves an import; --force replaces it",
        )
    parent = posixpath.dirname(out)
    if parent:
        (caller.root / parent).mkdir(parents=True, exist_ok=True)
