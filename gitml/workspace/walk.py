"""Walking a tracked directory: regular files only, never following links.

One ``os.scandir`` per folder and one ``lstat`` per file: the stat result is
needed anyway to consult the stat index, and nothing here reads file contents.
"""

from __future__ import annotations

import os
from collections.abc import Container
from dataclasses import dataclass, field
from pathlib import Path

from gitml.errors import InputError, UnsafePathError
from gitml.safepath import check_name

# (st_ino, st_size, st_mtime_ns, st_mode, st_dev, st_ctime_ns) of a file's
# lstat, a plain tuple: a full os.stat_result costs ~700 bytes with the float
# times it carries (70 MB for 100,000 files), a NamedTuple's attribute access
# costs more than the scan's whole comparison loop.
FileStat = tuple[int, int, int, int, int, int]


def file_stat(st: os.stat_result) -> FileStat:
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode, st.st_dev, st.st_ctime_ns)


@dataclass
class WalkResult:
    files: dict[str, FileStat] = field(default_factory=dict)  # relpath inside dir → lstat
    linked: dict[str, str] = field(default_factory=dict)  # relpath → oid (symlinks into the cache)
    skipped: list[str] = field(default_factory=list)  # FIFOs, sockets, devices (warned)


def cache_link_oid(path: str, cache_root: Path | None) -> str | None:
    """The oid a symlink names when it points at an object of the cache
    (cache.link = symlink), else None."""
    if cache_root is None:
        return None
    target = Path(os.path.join(os.path.dirname(path), os.readlink(path)))
    try:
        rel = target.relative_to(cache_root)
    except ValueError:
        return None
    parts = rel.parts
    if len(parts) == 2 and len(parts[0]) == 2 and len(parts[1]) == 62:
        oid = parts[0] + parts[1]
        if all(c in "0123456789abcdef" for c in oid):
            return oid
    return None


def _check(name: str, display: str, rel: str) -> None:
    try:
        check_name(name, what=f"name {display}/{rel!r}")
    except UnsafePathError as exc:
        raise InputError(exc.message, "rename the file") from None


def walk_tree(
    top: Path, display: str, cache_root: Path | None = None, known: Container[str] = ()
) -> WalkResult:
    """All regular files below ``top`` keyed by their '/'-joined relative path.

    Symlinks are refused with a clear error: following them could ingest data
    from outside the repository, and recording them is not supported yet.
    ``display`` is the tracked path, used in messages. Names of files in
    ``known`` (relative paths the stat index recorded, i.e. that gitml itself
    validated earlier) are not checked again: that check was a quarter of a
    no-change ``status``.
    """
    result = WalkResult()
    stack: list[tuple[str, str]] = [(os.fspath(top), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except PermissionError:
            raise InputError(
                f"cannot read folder {display}/{prefix}", "check its permissions"
            ) from None
        files = result.files
        for entry in entries:
            rel = prefix + entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # deleted since the listing: as if never there
            mode = st.st_mode
            # The file type from the lstat already made (S_IFMT >> 12: 8 regular,
            # 4 folder, 10 symlink): no DirEntry method calls per file.
            kind = mode >> 12
            if kind == 8:
                if rel not in known:
                    _check(entry.name, display, rel)
                files[rel] = (
                    st.st_ino,
                    st.st_size,
                    st.st_mtime_ns,
                    mode,
                    st.st_dev,
                    st.st_ctime_ns,
                )
            elif kind == 4:
                _check(entry.name, display, rel)
                stack.append((entry.path, rel + "/"))
            elif kind == 10:
                oid = cache_link_oid(entry.path, cache_root)
                if oid is not None and os.path.isfile(entry.path):
                    files[rel] = file_stat(os.stat(entry.path))
                    result.linked[rel] = oid
                    continue
                raise InputError(
                    f"{display}/{rel} is a symlink; gitml does not follow or store symlinks",
                    "replace it with the file it points to, or move it out of the folder",
                )
            else:
                result.skipped.append(f"{display}/{rel}")
    return result
