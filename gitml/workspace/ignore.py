"""Keep tracked data out of git: one ``/name`` line in the parent's .gitignore.

Same place DVC puts it, so a reviewer sees the pointer and the ignore rule side
by side. Names are escaped so that ``#x``, ``!x``, ``a*b`` or a trailing space
match literally.
"""

from __future__ import annotations

from pathlib import Path

from gitml.safepath import safe_parent
from gitml.store.durable import write_file_atomic

_SPECIAL = set("\\*?[#!")


def ignore_pattern(name: str) -> str:
    """The anchored gitignore pattern that matches exactly ``name``."""
    out = []
    for i, ch in enumerate(name):
        if ch in _SPECIAL and (ch not in "#!" or i == 0):
            out.append("\\" + ch)
        else:
            out.append(ch)
    text = "".join(out)
    if text.endswith(" "):
        text = text[:-1] + "\\ "
    return "/" + text


def _ignore_file(root: Path, tracked: str) -> tuple[Path, str]:
    parent, _, name = tracked.rpartition("/")
    folder = safe_parent(root, tracked) if parent else root
    return folder / ".gitignore", ignore_pattern(name)


def add_ignore(root: Path, tracked: str) -> str:
    """Ensure the rule exists; return the .gitignore's repo-relative path."""
    path, pattern = _ignore_file(root, tracked)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        text = ""
    lines = text.splitlines()
    if pattern not in lines:
        if text and not text.endswith("\n"):
            text += "\n"
        write_file_atomic(path, (text + pattern + "\n").encode("utf-8"))
    return path.relative_to(root).as_posix()


def remove_ignore(root: Path, tracked: str) -> str | None:
    """Remove the rule if present; return the .gitignore's path if it changed."""
    path, pattern = _ignore_file(root, tracked)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    lines = text.splitlines()
    if pattern not in lines:
        return None
    kept = [line for line in lines if line != pattern]
    write_file_atomic(path, ("\n".join(kept) + "\n" if kept else "").encode("utf-8"))
    return path.relative_to(root).as_posix()
