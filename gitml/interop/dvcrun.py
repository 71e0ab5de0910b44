"""Does DVC's record of a stage run (``dvc.lock``) still hold for the workspace?

If it does — same command, every dep with the MD5 DVC recorded, every param
with the recorded value, every cached out imported — the converted stage gets
a ``gitml.lock`` entry and ``gitml repro`` sees it up to date: a migration
never re-runs a training stage. Otherwise the entry is not written and the
stage runs on the next ``gitml repro`` (the reason is reported). Deps are
checked as DVC hashes them: a file's MD5 (dos2unix for 2.x records), a
folder's ``.dir`` MD5 (the MD5 of the sorted JSON listing of its files); a
dep that is an output imported in this run with that very MD5 is not re-read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gitml.bounded import read_capped
from gitml.errors import GitmlError
from gitml.interop.dvcfiles import resolve
from gitml.interop.md5 import CHUNK, DvcMd5, dvc_md5_bytes
from gitml.interop.stages import StageSpec
from gitml.interop.yaml12 import MAX_BYTES, load_yaml
from gitml.workspace.walk import walk_tree


def _file_md5(path: Path, *, legacy: bool) -> DvcMd5 | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    digest = DvcMd5(legacy=legacy)
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest


def _dir_matches(path: Path, recorded: str, *, legacy: bool) -> bool:
    """DVC's ``.dir`` MD5 of a folder: the MD5 of ``json.dumps`` of the sorted
    ``{"md5", "relpath"}`` list (one listing per MD5 flavour DVC has used)."""
    try:
        files = walk_tree(path, path.name).files
    except GitmlError:
        return False
    flavours: list[list[dict[str, str]]] = [[], []] if legacy else [[]]
    for rel in sorted(files):
        digest = _file_md5(path / rel, legacy=legacy)
        if digest is None:
            return False
        for listing, value in zip(flavours, digest.flavours(), strict=True):
            listing.append({"md5": value, "relpath": rel})
    return any(
        dvc_md5_bytes(json.dumps(listing, sort_keys=True).encode(), legacy=legacy).matches(recorded)
        for listing in flavours
    )


def _dep_holds(root: Path, path: str, entry: dict[str, Any], imported: dict[str, str]) -> bool:
    md5 = entry.get("md5")
    if not isinstance(md5, str) or not md5:
        return False
    legacy = "hash" not in entry
    if imported.get(path) == md5:
        return True
    if md5.endswith(".dir"):
        return (root / path).is_dir() and _dir_matches(root / path, md5, legacy=legacy)
    digest = _file_md5(root / path, legacy=legacy)
    return digest is not None and digest.matches(md5)


def _param_value(root: Path, file: str, key: str) -> Any:
    try:
        node: Any = load_yaml(
            read_capped(root / file, source=file, max_bytes=MAX_BYTES), source=file
        )
    except (OSError, GitmlError):  # missing, unreadable, too big or deep: cannot match
        return _MISSING
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


_MISSING = object()


def run_still_holds(root: Path, spec: StageSpec, imported: dict[str, str]) -> str:
    """ "" if DVC's recorded run matches the workspace, else the reason it does not.

    ``imported``: output path → the DVC MD5 it was imported (and verified) with.
    """
    lock = spec.dvc.lock
    if lock is None:
        return "DVC never ran it (no dvc.lock entry)"
    if lock.get("cmd") != spec.dvc.body.get("cmd"):
        return "its command changed since DVC ran it"
    source = spec.dvc.source
    recorded: dict[str, dict[str, Any]] = {}
    for entry in lock.get("deps") or []:
        if not isinstance(entry, dict):
            return "dvc.lock lists a dep it cannot read"
        try:
            path = resolve(spec.wdir, entry.get("path"), source=source, what="dep")
        except GitmlError as exc:
            return exc.message
        if path is None:
            return "it has an external dep"
        recorded[path] = entry
    if set(recorded) != set(spec.spec.get("deps", [])):
        return "its deps changed since DVC ran it"
    for path, entry in recorded.items():
        if not _dep_holds(root, path, entry, imported):
            return f"dep {path} changed since DVC ran it"
    locked_params = lock.get("params") or {}
    for key, (file, dvc_key) in spec.params.items():
        raw_file = os.path.relpath(file, spec.wdir or ".") if spec.wdir else file
        values = locked_params.get(raw_file) if isinstance(locked_params, dict) else None
        if not isinstance(values, dict) or dvc_key not in values:
            return f"param {key} is not in dvc.lock"
        if _param_value(root, file, dvc_key) != values[dvc_key]:
            return f"param {key} changed since DVC ran it"
    for out in spec.spec.get("outs", []):
        if out not in imported:
            return f"out {out} was not imported"
    return ""
