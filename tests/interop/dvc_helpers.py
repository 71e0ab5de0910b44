"""Helpers for the import-dvc tests: reading what gitml wrote, snapshots, DVC paths."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import blake3

from gitml.store.manifest import decode_manifest
from gitml.store.objects import ObjectStore
from gitml.workspace.pointer import Pointer, parse_pointer
from tests.conftest import git


def b3(data: bytes) -> str:
    return str(blake3.blake3(data).hexdigest())


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def pointer(root: Path, tracked: str) -> Pointer:
    return parse_pointer((root / f"{tracked}.gitml").read_bytes(), source=tracked)


def store(root: Path) -> ObjectStore:
    return ObjectStore(root / ".gitml" / "cache")


def tracked_files(root: Path, tracked: str) -> dict[str, bytes]:
    """Every file a pointer names, read back from gitml's cache (verified), by workspace path."""
    p = pointer(root, tracked)
    objects = store(root)
    if p.kind == "file":
        return {tracked: objects.read_bytes(p.oid)}
    entries = decode_manifest(objects.read_bytes(p.oid), source=tracked)
    return {f"{tracked}/{e.path}": objects.read_bytes(e.oid) for e in entries}


def snapshot(root: Path) -> dict[str, tuple[bytes | str, int]]:
    """Every file below ``root`` (bytes, or a link target) with its mode, outside .git."""
    out: dict[str, tuple[bytes | str, int]] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not (Path(folder) == root and d == ".git")]
        for name in [*files, *[d for d in dirs if os.path.islink(os.path.join(folder, d))]]:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            content = os.readlink(path) if path.is_symlink() else path.read_bytes()
            out[rel] = (content, st.st_mode)
    return out


def index_state(root: Path) -> str:
    return git(root, "ls-files", "-s")


def staged_changes(root: Path) -> dict[str, str]:
    """``git diff --cached --name-status`` as path → status letter."""
    out = {}
    for line in git(root, "diff", "--cached", "--name-status").splitlines():
        status, path = line.split("\t", 1)
        out[path] = status
    return out


def dvc_object(root: Path, digest: str, *, legacy: bool = False) -> Path:
    cache = root / ".dvc" / "cache"
    return (cache if legacy else cache / "files" / "md5") / digest[:2] / digest[2:]


def put_dvc_object(root: Path, digest: str, data: bytes, *, legacy: bool = False) -> None:
    path = dvc_object(root, digest, legacy=legacy)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def dvc_md5(data: bytes, *, legacy: bool) -> str:
    """The MD5 DVC itself records (its own code: md5-dos2unix for 2.x records)."""
    from dvc_data.hashfile.hash import fobj_md5

    return str(fobj_md5(io.BytesIO(data), name="md5-dos2unix" if legacy else "md5"))


def dir_listing(entries: dict[str, bytes], *, legacy: bool = False) -> bytes:
    """A DVC ``.dir`` object for these files (as DVC writes it: sorted, json.dumps)."""
    items = [
        {"md5": dvc_md5(data, legacy=legacy), "relpath": rel}
        for rel, data in sorted(entries.items())
    ]
    return json.dumps(items, sort_keys=True).encode()
