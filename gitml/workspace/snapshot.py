"""One view of the project's files as they are in the workspace, the index, or a commit.

Guards, hooks, notes and the registry read through a :class:`Snapshot` so a
pre-commit judges what is staged and a note records what was committed, never
whatever the workspace happens to hold. Git-tracked files come from their blobs;
gitml-tracked data comes from the object its pointer *in that snapshot* names,
read from the cache (:meth:`Snapshot.view` lays it out as read-only symlinks to
the cache objects, so pyarrow and friends can open it like any folder).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.safepath import check_relpath
from gitml.store.manifest import decode_manifest_files
from gitml.workspace.pointer import POINTER_SUFFIX, Pointer, parse_pointer, tracked_name

if TYPE_CHECKING:
    from gitml.store.objects import ObjectStore

Where = Literal["workspace", "index", "commit"]
MAX_READ_BYTES = 16 * 1024 * 1024
_POINTER_GLOB = f":(glob)**/*{POINTER_SUFFIX}"


def _is_pointer_name(name: str) -> bool:
    return (
        name.endswith(POINTER_SUFFIX) and name != POINTER_SUFFIX and not name.startswith(".gitml/")
    )


@dataclass
class View:
    """A folder laid out like the repository for the paths asked for.

    ``missing``: paths (or tracked data) the snapshot names but whose content
    could not be laid out, with the reason (e.g. data not in the cache).
    """

    root: Path
    missing: dict[str, str] = field(default_factory=dict)


class Snapshot:
    """The files of one state of the repository: ``workspace``, ``index`` or a commit."""

    def __init__(self, ctx: RepoContext, where: Where, rev: str | None = None) -> None:
        self.ctx = ctx
        self.where = where
        self.rev = rev
        self._pointers: dict[str, Pointer] | None = None

    @classmethod
    def workspace(cls, ctx: RepoContext) -> Snapshot:
        return cls(ctx, "workspace")

    @classmethod
    def index(cls, ctx: RepoContext) -> Snapshot:
        """What the next commit will contain (the index a hook was given)."""
        return cls(ctx, "index")

    @classmethod
    def commit(cls, ctx: RepoContext, rev: str) -> Snapshot:
        return cls(ctx, "commit", ctx.git.rev_parse(rev))

    @property
    def label(self) -> str:
        if self.where == "commit":
            return f"commit {str(self.rev)[:12]}"
        return "staged" if self.where == "index" else "workspace"

    # -- git-tracked files --------------------------------------------------
    def blobs(self, *paths: str) -> dict[str, str]:
        """``path -> blob sha`` of regular files at or below ``paths`` (index/commit only)."""
        if self.where == "index":
            return {e.path: e.sha for e in self.ctx.git.staged_entries(*paths) if e.is_file}
        if self.where == "commit":
            assert self.rev is not None
            return self.ctx.git.ls_tree(self.rev, *paths)
        raise ValueError("the workspace has no blobs")

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes | None]:
        """Content of each path (None: absent here, not a regular file, or too big)."""
        wanted = [check_relpath(p, what="path") for p in dict.fromkeys(paths)]
        if self.where == "workspace":
            return {p: _read_file(self.ctx.root / p) for p in wanted}
        if self.where == "index":
            found = self.ctx.git.staged_blobs(wanted)
        else:
            assert self.rev is not None
            found = self.ctx.git.read_files_at(self.rev, wanted)
        return {
            p: (b if b is not None and len(b) <= MAX_READ_BYTES else None) for p, b in found.items()
        }

    def read_bytes(self, path: str) -> bytes | None:
        return self.read_many([path])[path]

    def only_in_workspace(self, paths: Iterable[str]) -> list[str]:
        """Paths this snapshot lacks (no file, no tracked data) but the workspace has."""
        if self.where == "workspace":
            return []
        wanted = list(dict.fromkeys(paths))
        present = self.read_many(wanted)
        pointers = self.pointers()
        out = []
        for path in wanted:
            if present.get(path) is not None or _owner(path, pointers) is not None:
                continue
            if any(t.startswith(path + "/") for t in pointers) or self.blobs(path):
                continue  # a folder that holds staged files
            if os.path.lexists(self.ctx.root / path):
                out.append(path)
        return out

    # -- gitml-tracked data -------------------------------------------------
    def pointers(self) -> dict[str, Pointer]:
        """tracked path → the pointer this snapshot holds for it (malformed ones skipped)."""
        if self._pointers is None:
            self._pointers = self._load_pointers()
        return self._pointers

    def _load_pointers(self) -> dict[str, Pointer]:
        if self.where == "workspace":
            from gitml.workspace.tracked import read_pointer, tracked_paths

            out: dict[str, Pointer] = {}
            for tracked in tracked_paths(self.ctx):
                try:
                    out[tracked] = read_pointer(self.ctx, tracked)
                except GitmlError:
                    continue
            return out
        listing = {n: s for n, s in self.blobs(_POINTER_GLOB).items() if _is_pointer_name(n)}
        data = self.ctx.git.read_blobs(listing.values())
        found: dict[str, Pointer] = {}
        for name, sha in listing.items():
            tracked = tracked_name(name)
            try:
                pointer = parse_pointer(data[sha], source=f"{self.label} {name}")
            except GitmlError:
                continue  # reported by the checks that need it (pre-commit's pointer check)
            if pointer.path == tracked.rpartition("/")[2]:
                found[tracked] = pointer
        return dict(sorted(found.items()))

    @contextmanager
    def view(self, paths: Iterable[str]) -> Iterator[View]:
        """A folder where ``paths`` (files or folders) are as in this snapshot.

        The workspace is its own view. For the index or a commit, a temporary
        folder is filled: blobs as files, tracked data as symlinks to the cache
        objects its pointers name (nothing is copied, nothing outside the
        temporary folder is written). Removed on exit.
        """
        if self.where == "workspace":
            yield View(self.ctx.root)
            return
        with tempfile.TemporaryDirectory(prefix="gitml-view-") as tmp:
            view = View(Path(tmp))
            self._fill(view, [check_relpath(p, what="path") for p in dict.fromkeys(paths)])
            yield view

    def _fill(self, view: View, paths: list[str]) -> None:
        if not paths:
            return
        blobs = self.blobs(*paths)
        data = self.ctx.git.read_blobs(blobs.values())
        for name, sha in blobs.items():
            try:
                _write(view.root, name, data[sha])
            except OSError as exc:  # e.g. a file and a folder of the same name
                view.missing[name] = f"cannot be laid out ({exc.strerror})"
        pointers = self.pointers()
        for tracked, pointer in pointers.items():
            below = [p for p in paths if p == tracked or p.startswith(tracked + "/")]
            if below or any(tracked.startswith(p + "/") for p in paths):
                try:
                    self._link_data(view, tracked, pointer, below)
                except OSError as exc:
                    view.missing[tracked] = f"cannot be laid out ({exc.strerror})"

    def _link_data(self, view: View, tracked: str, pointer: Pointer, below: list[str]) -> None:
        store = self.ctx.store
        if not store.has(pointer.oid):
            view.missing[tracked] = f"is not in the cache ({pointer.oid[:12]}): run gitml pull"
            return
        if pointer.kind == "file":
            _link_or_copy(store, view.root, tracked, pointer.oid)
            return
        files = decode_manifest_files(store.read_bytes(pointer.oid), source=f"{tracked} manifest")
        prefixes = [p[len(tracked) + 1 :] for p in below if p != tracked]
        absent = 0
        for rel, ref in files.items():
            if prefixes and not any(rel == p or rel.startswith(p + "/") for p in prefixes):
                continue
            if not store.has(ref.oid):
                absent += 1
                continue
            _link_or_copy(store, view.root, f"{tracked}/{rel}", ref.oid)
        if absent:
            view.missing[tracked] = f"has {absent} files not in the cache: run gitml pull"


def _owner(path: str, pointers: dict[str, Pointer]) -> str | None:
    for tracked in pointers:
        if path == tracked or path.startswith(tracked + "/"):
            return tracked
    return None


def _read_file(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_READ_BYTES + 1)
    except OSError:
        return None
    return data if len(data) <= MAX_READ_BYTES else None


def _write(root: Path, rel: str, data: bytes) -> None:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _link_or_copy(store: ObjectStore, root: Path, rel: str, oid: str) -> None:
    """A symlink to the cache object; a file stored as chunks has no object to link
    to, so the view gets a verified copy (in the view's temporary folder)."""
    path = store.path_of(oid)
    if os.path.lexists(path) or store.chunk_list(oid) is None:
        _link(root, rel, path)
        return
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if not os.path.lexists(target):
        store.materialize(oid, target, link="copy")


def _link(root: Path, rel: str, object_path: str) -> None:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if not os.path.lexists(target):
        os.symlink(object_path, target)
