"""``gitml ls``: what a repository holds at a commit, git files and tracked data.

Like ``dvc ls``: the entries directly under a folder (or every file below it,
``recursive``), each a git file, a folder, or gitml-tracked data with its size;
pointer files themselves are not shown, their data is. A tracked folder is one
entry unless the listing goes into it (``recursive``, or a path inside it),
which needs its manifest (fetched, like any object). Registered models are
listed beside the files.
"""

from __future__ import annotations

import posixpath
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from gitml.access.fetching import ensure_objects
from gitml.access.place import Place
from gitml.config import GITML_DIR
from gitml.errors import UsageError
from gitml.safepath import check_relpath
from gitml.store.manifest import decode_manifest_files
from gitml.workspace.pointer import POINTER_SUFFIX, Pointer
from gitml.workspace.revisions import pointers_at

EntryKind = Literal["git", "folder", "file", "dir"]


@dataclass(frozen=True)
class ListedEntry:
    path: str  # repository-relative
    kind: EntryKind  # git file, git folder, tracked file, tracked folder
    size: int | None  # None: a folder, or a git file of a network source
    tracked: bool  # gitml-tracked data (or inside it)
    oid: str = ""


@dataclass(frozen=True)
class ListedModel:
    name: str
    version: str  # the newest registered version
    commit: str
    stages: dict[str, str] = field(default_factory=dict)  # stage -> version


@dataclass
class Listing:
    repo: str
    rev: str
    commit: str
    path: str
    entries: list[ListedEntry]
    models: list[ListedModel]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "gitml.ls/1",
            "repo": self.repo,
            "rev": self.rev,
            "commit": self.commit,
            "path": self.path,
            "entries": [asdict(e) for e in self.entries],
            "models": [asdict(m) for m in self.models],
        }


def list_place(place: Place, path: str, *, recursive: bool) -> Listing:
    folder = "" if path in ("", ".", "/") else check_relpath(posixpath.normpath(path.strip("/")))
    pointers = pointers_at(place.ctx, place.commit)
    files = _git_files(place, folder)
    entries: dict[str, ListedEntry] = {}
    for tracked, pointer in pointers.items():
        if _below(tracked, folder) or _below(folder, tracked):
            _add_tracked(place, entries, tracked, pointer, folder, recursive)
    for name, size in files.items():
        if not name.endswith(POINTER_SUFFIX) and not any(_below(name, t) for t in pointers):
            _add(entries, folder, ListedEntry(name, "git", size, False), recursive)
    if folder and not entries and folder not in pointers:
        raise UsageError(
            f"{folder} does not exist at {place.revision.text} in {place.where}",
            "gitml ls without a path shows the top of the repository",
        )
    return Listing(
        place.where,
        place.revision.text,
        place.commit,
        folder,
        sorted(entries.values(), key=lambda e: e.path),
        _models(place),
    )


def _below(path: str, folder: str) -> bool:
    return not folder or path == folder or path.startswith(folder + "/")


def _git_files(place: Place, folder: str) -> dict[str, int | None]:
    """Git's files under ``folder`` with their sizes; none from a network source,
    whose clone has no blobs (asking would download each one)."""
    specs = (folder,) if folder else ()
    blobs = [
        e
        for e in place.ctx.git.ls_tree_entries(place.commit, *specs)
        if e.is_file and not e.path.startswith(f"{GITML_DIR}/")  # gitml's own files
    ]
    partial = place.source is not None and place.source.local_root is None
    sizes = {} if partial else place.ctx.git.blob_sizes([e.sha for e in blobs])
    return {e.path: sizes.get(e.sha) for e in blobs}


def _add(entries: dict[str, ListedEntry], folder: str, entry: ListedEntry, recursive: bool) -> None:
    """``entry``, or the folder directly under ``folder`` that holds it."""
    if recursive or entry.path == folder:
        entries[entry.path] = entry
        return
    rest = entry.path[len(folder) + 1 :] if folder else entry.path
    if "/" not in rest:
        entries[entry.path] = entry
        return
    top = (f"{folder}/" if folder else "") + rest.partition("/")[0]
    if top not in entries:
        entries[top] = ListedEntry(top, "folder", None, entry.tracked)


def _add_tracked(
    place: Place,
    entries: dict[str, ListedEntry],
    tracked: str,
    pointer: Pointer,
    folder: str,
    recursive: bool,
) -> None:
    inside = _below(folder, tracked) and folder != tracked
    if pointer.kind == "file" or not (recursive or inside or folder == tracked):
        entry = ListedEntry(tracked, pointer.kind, pointer.size, True, pointer.oid)
        _add(entries, folder, entry, recursive)
        return
    ensure_objects(
        place.ctx, {pointer.oid: tracked}, where=place.where, local_cache=place.local_cache
    )
    manifest = decode_manifest_files(place.ctx.store.read_bytes(pointer.oid), source=tracked)
    for rel, ref in manifest.items():
        entry = ListedEntry(f"{tracked}/{rel}", "file", ref.size, True, ref.oid)
        if _below(entry.path, folder):
            _add(entries, folder, entry, recursive)


def _models(place: Place) -> list[ListedModel]:
    from gitml.registry.service import read_state

    out = []
    for name, artifact in sorted(read_state(place.ctx).artifacts.items()):
        latest = artifact.latest()
        if latest is None:
            continue
        out.append(ListedModel(name, str(latest.version), latest.commit, artifact.stage_versions()))
    return out
