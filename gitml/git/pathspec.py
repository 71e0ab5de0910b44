"""Pathspecs: literal by default, magic only when written out.

File names come from users and from cloned repositories. A name like
``*.csv``, ``:data`` or ``[x]`` must mean that file, so every plain string is
sent to git as ``:(literal)<name>``. Callers that *want* a pattern spell the
magic themselves (``:(glob)**/*.gitml``); those are passed unchanged.

``git ls-tree`` accepts no ``glob`` magic, so for it the glob is applied here
(git's wildmatch rules: ``*`` and ``?`` stop at ``/``, ``**/`` spans folders;
a pathspec also matches everything below a folder it matches).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from gitml.errors import GitError

MAGIC_PREFIX = ":("


def is_magic(spec: str) -> bool:
    """True for a long-form magic pathspec (``:(glob)...``)."""
    return spec.startswith(MAGIC_PREFIX)


def literal(spec: str) -> str:
    """``spec`` as git should receive it: magic kept, anything else made literal."""
    if not spec or "\0" in spec:
        raise GitError(f"invalid path {spec!r}")
    return spec if is_magic(spec) else f":(literal){spec}"


def split_magic(spec: str) -> tuple[frozenset[str], str]:
    """``(magic words, pattern)`` of a long-form magic pathspec."""
    end = spec.find(")")
    if not is_magic(spec) or end < 0:
        raise GitError(f"malformed pathspec {spec!r}")
    words = frozenset(w.strip() for w in spec[2:end].split(",") if w.strip())
    return words, spec[end + 1 :]


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            j = pattern.index("]", i + 2)
            body = pattern[i + 1 : j]
            neg = body[:1] in ("!", "^")
            body = body[1:] if neg else body
            out.append("[" + ("^/" if neg else "") + re.escape(body).replace(r"\-", "-") + "]")
            i = j + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + "(?:/.*)?", re.DOTALL)


@dataclass(frozen=True, slots=True)
class TreeFilter:
    """Pathspecs split for ``ls-tree``: what git can do, and globs we apply."""

    git_specs: list[str]  # passed to git (empty: list the whole tree)
    literals: list[str]  # used for filtering when globs force a full listing
    globs: list[str]

    def matches(self, path: str) -> bool:
        """True if ``path`` is selected (only needed when there are globs)."""
        if any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.literals):
            return True
        return any(_glob_regex(g).fullmatch(path) for g in self.globs)


def tree_filter(pathspecs: Iterable[str]) -> TreeFilter:
    """Plan an ``ls-tree`` call for ``pathspecs`` (literal or ``:(glob)``/``:(literal)``)."""
    literals: list[str] = []
    globs: list[str] = []
    for spec in pathspecs:
        if not is_magic(spec):
            literal(spec)
            literals.append(spec)
            continue
        words, pattern = split_magic(spec)
        if words <= {"literal", "top"}:
            literals.append(pattern)
        elif words <= {"glob", "top"}:
            globs.append(pattern)
        else:
            raise GitError(f"pathspec {spec!r}: only :(literal) and :(glob) work on revisions")
    if globs:
        return TreeFilter([], literals, globs)
    return TreeFilter([f":(literal){p}" for p in literals], literals, [])
