"""Copies and imports: data of another repository (or any version) brought here.

``get`` copies a file or folder out, untracked; ``import_data`` copies it and
tracks where it came from; ``update`` moves such an import; ``import_status``
says which sources moved on; :func:`restore_from_sources` is what ``pull`` and
``checkout`` use when the data remote lacks an import. Revisions, ``repo`` and
caches as in :mod:`gitml.api.access`.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitml.api.access import open_place_for
from gitml.errors import GitmlError, UsageError
from gitml.progress import Callback
from gitml.safepath import UserPath, as_path

if TYPE_CHECKING:
    from gitml.access.copying import Copied
    from gitml.access.imports import Imported
    from gitml.access.place import Place
    from gitml.access.restore import Restored
    from gitml.context import RepoContext
    from gitml.workspace.pointer import ImportSource, Pointer

__all__ = ["ImportState", "get", "import_data", "import_status", "update"]

STATUS_TIMEOUT = 30.0  # seconds gitml status waits for one import's source
_base = as_path


def get(
    repo: UserPath,
    path: str,
    out: UserPath | None = None,
    rev: str | None = None,
    *,
    force: bool = False,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> Copied:
    """Copy ``path`` (a file or folder) of ``repo`` at ``rev`` to ``out``
    (default: its name, in ``cwd``); not tracked. A different file already at
    ``out`` is refused unless ``force``.

    >>> gitml.get("git@host:team/registry.git", "data/customers.csv", rev="v2")
    """
    from gitml.access.copying import copy_out

    with open_place_for(repo, rev, cwd, callback) as place:
        located = place.locate(path)
        name = out if out is not None else posixpath.basename(located.path)
        dest = Path(os.path.abspath(_base(cwd) / name))
        return copy_out(place, located, dest, force=force)


def import_data(
    repo: UserPath,
    path: str,
    out: UserPath | None = None,
    rev: str | None = None,
    *,
    force: bool = False,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> Imported:
    """Copy ``path`` of ``repo`` at ``rev`` into this repository at ``out``
    (default: its name, in ``cwd``) and track it: its pointer records the source
    (URL, path, ``rev``, the locked commit) and is staged.

    >>> gitml.import_data("../registry", "data/customers.csv", out="data/customers.csv")
    """
    from gitml.access.imports import bring, check_new_target, install, recorded_url
    from gitml.access.place import place_in
    from gitml.context import session
    from gitml.git.clone import check_url
    from gitml.workspace.pointer import ImportSource

    base = _base(cwd)
    url = check_url(os.fspath(repo))  # before anything else: it may be hostile
    with session(base, callback, write=True) as caller:
        target = caller.relpath(out if out is not None else posixpath.basename(path), cwd=base)
        check_new_target(caller, target, force=force)
        with place_in(caller, url, rev, base=base, reporter=caller.reporter) as place:
            located = place.locate(path)
            pointer = bring(place, located)
            source = ImportSource(recorded_url(url, caller.root, base), located.path, rev,
                                  place.commit)  # fmt: skip
        return install(caller, target, pointer, source, force=force)


def update(
    paths: Sequence[UserPath] | None = None,
    rev: str | None = None,
    *,
    force: bool = False,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> list[Imported]:
    """Move imports (``paths``, default all) to their source's newest commit at
    the revision they follow, or to ``rev``. Unsaved changes to imported data
    are refused unless ``force``.

    >>> gitml.update(["data/customers.csv"], rev="v3")
    """
    from gitml.access.imports import Imported, install
    from gitml.access.place import place_in
    from gitml.context import session
    from gitml.workspace.pointer import ImportSource

    base = _base(cwd)
    with session(base, callback, write=True) as caller:
        done: list[Imported] = []
        for tracked, source in _imports(caller, paths, base):
            want = rev if rev is not None else source.rev
            with place_in(caller, source.url, want, base=caller.root,
                          reporter=caller.reporter) as place:  # fmt: skip
                if place.commit == source.commit and want == source.rev:
                    pointer = _pointer(caller, tracked)
                    done.append(Imported(tracked, source, pointer.oid, pointer.size, False))
                    continue
                pointer = bring_any(caller, place, source.path, tracked)
            moved = ImportSource(source.url, source.path, want, place.commit)
            done.append(install(caller, tracked, pointer, moved, force=force))
        return done


def bring_any(caller: RepoContext, place: Place, path: str, tracked: str) -> Pointer:
    """The data of ``path`` at the place: gitml-tracked, or tracked by DVC in a
    DVC data registry (a converted ``dvc import``; read by DVC itself)."""
    from gitml.access.imports import bring

    try:
        return bring(place, place.locate(path))
    except UsageError:
        from gitml.interop.dvcsource import bring_from_dvc, is_dvc_repository

        if place.source is None or not is_dvc_repository(place.ctx, place.commit):
            raise
        name = tracked.rpartition("/")[2]
        return bring_from_dvc(caller, place.source.location, path, place.commit, name)


@dataclass(frozen=True)
class ImportState:
    """An import against its source: ``newest`` is the commit its revision names
    now (None with ``error`` when the source could not be read)."""

    path: str
    url: str
    rev: str | None
    locked: str
    newest: str | None
    error: str | None = None

    @property
    def moved(self) -> bool:
        return self.newest is not None and self.newest != self.locked


def import_status(
    paths: Sequence[UserPath] | None = None,
    *,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> list[ImportState]:
    """For each import (``paths``, default all), whether its source moved on
    (one ``git fetch`` per source, :data:`STATUS_TIMEOUT` at most). An
    unreachable source is reported, not raised.

    >>> [s.path for s in gitml.import_status() if s.moved]
    """
    from gitml.access.source import open_source
    from gitml.context import session
    from gitml.registry.revision import Resolver

    base = _base(cwd)
    out: list[ImportState] = []
    newest: dict[tuple[str, str | None], str | GitmlError] = {}  # one fetch per source
    with session(base, callback, write=False) as caller:
        imports = _imports(caller, paths, base, only_imports=True)
        for tracked, source in imports:
            key = (source.url, source.rev)
            if key not in newest:
                try:
                    src = open_source(source.url, base=caller.root,
                                      cache_dir=caller.config.cache_dir,
                                      chunk_min_file=caller.config.chunk_min_file,
                                      reporter=caller.reporter,
                                      timeout=STATUS_TIMEOUT)  # fmt: skip
                    try:
                        newest[key] = Resolver(src.ctx).resolve(source.rev or "HEAD").commit
                    finally:
                        src.close()
                except GitmlError as exc:
                    newest[key] = exc
            found = newest[key]
            if isinstance(found, GitmlError):
                out.append(ImportState(tracked, source.url, source.rev, source.commit, None,
                                       found.message))  # fmt: skip
            else:
                out.append(ImportState(tracked, source.url, source.rev, source.commit, found))
    return out


def _imports(caller: RepoContext, paths: Sequence[UserPath] | None, base: Path, *,
             only_imports: bool = False) -> list[tuple[str, ImportSource]]:  # fmt: skip
    """(tracked path, its ImportSource) of the named imports, or of all."""
    from gitml.workspace.tracked import resolve_targets, tracked_paths

    names = [os.fspath(p) for p in paths] if paths else []
    targets = resolve_targets(caller, names, base) if names else tracked_paths(caller)
    out: list[tuple[str, ImportSource]] = []
    for tracked in targets:
        source = _pointer(caller, tracked).source
        if source is not None:
            out.append((tracked, source))
        elif names and not only_imports:
            raise UsageError(f"{tracked} is not an import", "gitml import URL PATH makes one")
    return out


def _pointer(caller: RepoContext, tracked: str) -> Pointer:
    from gitml.workspace.tracked import read_pointer

    return read_pointer(caller, tracked)


def restore_from_sources(ctx: RepoContext, imports: dict[str, Pointer]) -> Restored:
    """What the cache lacks of ``imports``, from their sources (gitml or DVC)."""
    from functools import partial

    from gitml.access.restore import restore_imports

    return restore_imports(ctx, imports, bring_from=partial(bring_any, ctx))
