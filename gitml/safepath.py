"""Validation of paths that come from untrusted input.

Pointers, manifests, remotes and tags arrive with a cloned repository and are
attacker-controlled. Every relative path read from them passes through
:func:`check_relpath` before anything is written, and every write into the
workspace goes through :func:`safe_parent`, which never follows a symlinked
parent directory (git-lfs CVE-2025-26625, DVC #11101).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from gitml.errors import UnsafePathError

_FORBIDDEN_CHARS = ("\x00", "\n", "\r", "\\")
_RESERVED = (".git", ".gitml")
MAX_COMPONENT_BYTES = 255
# One search finds every character check_name refuses: the forbidden ones, the
# separator, and lone surrogates (os.scandir's spelling of bytes that are not UTF-8).
_BAD_NAME_CHAR = re.compile(r"[\x00\n\r\\/\ud800-\udfff]")


def _is_reserved(part: str) -> bool:
    # Windows and macOS clients fold case and strip trailing dots/spaces, and
    # NTFS knows "git~1" and alternate streams: refuse every spelling of .git.
    folded = part.rstrip(". ").lower()
    if folded in _RESERVED or folded == "git~1":
        return True
    return folded.startswith(".git:") or folded.startswith(".git::")


def check_relpath(path: str, *, what: str = "path") -> str:
    """Return ``path`` if it is a safe POSIX relative path, else raise.

    Safe means: non-empty, relative, '/'-separated, no empty, '.' or '..'
    parts, no backslash, NUL, CR or LF, valid UTF-8, parts of at most 255
    bytes, and no part naming .git or .gitml in any spelling.
    """
    if not isinstance(path, str) or not path:
        raise UnsafePathError(f"{what} is empty")
    for ch in _FORBIDDEN_CHARS:
        if ch in path:
            raise UnsafePathError(
                f"{what} {path!r} contains a forbidden character {ch!r}",
                "gitml refuses backslashes, NUL, CR and LF in tracked names",
            )
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafePathError(
            f"{what} {path!r} is not valid UTF-8", "rename the file to a UTF-8 name"
        ) from None
    if path.startswith("/"):
        raise UnsafePathError(f"{what} {path!r} is absolute")
    for part in path.split("/"):
        if part in ("", ".", ".."):
            raise UnsafePathError(f"{what} {path!r} has an empty, '.' or '..' part")
        if _is_reserved(part):
            raise UnsafePathError(f"{what} {path!r} points into .git or .gitml")
        if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
            raise UnsafePathError(f"{what} {path!r} has a part longer than 255 bytes")
    return path


def check_name(name: str, *, what: str) -> str:
    """One path component: the per-part rules of :func:`check_relpath`, for
    walkers that validate a tree one directory entry at a time (O(1) per file
    instead of re-checking every parent). Runs once per file of every walk, so
    the common case is one regex search and two comparisons."""
    if _BAD_NAME_CHAR.search(name) is None and name not in ("", ".", ".."):
        # 63 characters are at most 252 UTF-8 bytes: only longer names need encoding.
        if len(name) > 63 and len(name.encode("utf-8")) > MAX_COMPONENT_BYTES:
            raise UnsafePathError(f"{what} has a part longer than 255 bytes")
        if name[0] in ".gG" and _is_reserved(name):
            raise UnsafePathError(f"{what} points into .git or .gitml")
        return name
    return _refuse_name(name, what)


def _refuse_name(name: str, what: str) -> str:
    if name in ("", ".", "..") or "/" in name:
        raise UnsafePathError(f"{what} has an empty, '.' or '..' part")
    for ch in _FORBIDDEN_CHARS:
        if ch in name:
            raise UnsafePathError(
                f"{what} contains a forbidden character {ch!r}",
                "gitml refuses backslashes, NUL, CR and LF in tracked names",
            )
    raise UnsafePathError(f"{what} is not valid UTF-8", "rename the file")


def safe_parent(root: Path, relpath: str, *, create: bool = True) -> Path:
    """Return the absolute parent directory of ``root/relpath``.

    Each existing ancestor below ``root`` must be a real directory (not a
    symlink, not a file); missing ones are created when ``create`` is true.
    Raises :class:`UnsafePathError` otherwise. ``relpath`` must already have
    passed :func:`check_relpath`.
    """
    current = root
    for part in relpath.split("/")[:-1]:
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            if not create:
                return root / relpath.rsplit("/", 1)[0] if "/" in relpath else root
            try:
                os.mkdir(current)
            except FileExistsError:
                st = os.lstat(current)
            else:
                continue
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePathError(
                f"refusing to write through symlinked directory {current}",
                "replace the symlink with a real directory",
            )
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafePathError(
                f"{current} is a file where a directory is needed",
                "move it away or use --force",
            )
    return current


def relpath_key(path: str) -> bytes:
    """Sort key used by every canonical listing: the path's UTF-8 bytes."""
    return path.encode("utf-8")


UserPath = str | os.PathLike[str]
"""What a caller may give for a folder (``cwd``) or file: text or a path."""


def as_path(value: UserPath | None) -> Path:
    """``value`` as an absolute :class:`Path` (None: the current directory)."""
    return Path(os.path.abspath(os.fspath(value))) if value is not None else Path.cwd()
