"""Walking a tracked directory: regular files only, never following links.

One ``os.scandir`` per folder and one ``lstat`` per file: the stat result is
needed anyway to consult the stat index, and nothing here reads file contents.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from gitml.errors import InputError, UnsafePathError
from gitml.safepath import check_relpath


@dataclass
class WalkResult:
    files: dict[str, os.stat_result] = field(default_factory=dict)  # relpath inside dir → lstat
    skipped: list[str] = field(default_factory=list)  # FIFOs, sockets, devices (warned)


def walk_tree(top: Path, display: str) -> WalkResult:
    """All regular files below ``top`` keyed by their '/'-joined relative path.

    Symlinks are refused with a clear error: following them could ingest data
    from outside the repository, and recording them is not supported yet.
    ``display`` is the tracked path, used in messages.
    """
    result = WalkResult()
    stack: list[tuple[str, str]] = [(os.fspath(top), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except PermissionError:
            raise InputError(
                f"cannot read folder {display}/{prefix}", "check its permissions"
            ) from None
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_symlink():
                raise InputError(
                    f"{display}/{rel} is a symlink; gitml does not follow or store symlinks",
                    "replace it with the file it points to, or move it out of the folder",
                )
            try:
                check_relpath(rel, what=f"name {display}/{rel}")
            except UnsafePathError as exc:
                raise InputError(exc.message, "rename the file") from None
            if entry.is_dir(follow_symlinks=False):
                stack.append((entry.path, rel + "/"))
                continue
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode):
                result.files[rel] = st
            else:
                result.skipped.append(f"{display}/{rel}")
    return result
