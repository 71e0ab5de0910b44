"""An import whose source is a DVC repository (``import-dvc`` of a ``dvc import``).

``gitml update`` resolves the source's revision as for any import (gitml's
clone and resolver: branches, tags, registry references); when the source
tracks the path with DVC rather than gitml, DVC itself downloads it at that
commit into a temporary folder of this repository, and each file is hashed
into the cache as it is stored. The pointer is then written like any import's.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.store.manifest import Entry, encode_manifest
from gitml.workspace.pointer import Pointer


def is_dvc_repository(ctx: RepoContext, commit: str) -> bool:
    """Whether the tree at ``commit`` (of the source's clone) is a DVC project."""
    return bool(ctx.git.ls_tree(commit, ".dvc/config"))


def bring_from_dvc(
    caller: RepoContext, location: str, path: str, commit: str, name: str
) -> Pointer:
    """``path`` of the DVC repository ``location`` at ``commit`` into the caller's
    cache; the pointer (named ``name``, without source) that names it."""
    from gitml.interop.dvcremote import download_from_repo

    tmp = caller.gitml_dir / "tmp" / f"dvc-import-{secrets.token_hex(6)}"
    tmp.mkdir(parents=True)
    try:
        dest = tmp / "data"
        download_from_repo(location, path, commit, dest, caller.reporter)
        return _store(caller, dest, name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _store(caller: RepoContext, dest: Path, name: str) -> Pointer:
    if dest.is_symlink():
        raise GitmlError(f"DVC wrote a symlink for {name}; refused")
    with caller.store.batch() as batch:
        if dest.is_file():
            oid, size = batch.add_file(dest)
            return Pointer(name, "file", oid, size)
        entries = []
        for folder, _dirs, files in os.walk(dest):
            for file in files:
                full = Path(folder) / file
                if full.is_symlink() or not full.is_file():
                    continue
                oid, size = batch.add_file(full)
                rel = full.relative_to(dest).as_posix()
                entries.append(Entry(rel, oid, size, os.access(full, os.X_OK)))
        entries.sort(key=lambda e: e.path)
        oid = batch.add_bytes(encode_manifest(entries))
    return Pointer(name, "dir", oid, sum(e.size for e in entries), len(entries))
