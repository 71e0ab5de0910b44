"""``git check-ref-format`` in Python, so validating 2,000 names costs no process.

Tag names and remote names reach us from users and from cloned repositories;
they are checked before they are given to git (which would reject them with a
less helpful message, or read a leading ``-`` as an option). The rules are
those of ``refs.c:check_refname_format`` (git 2.39); ``tests/git`` compares
this implementation with ``git check-ref-format`` on a corpus of tricky names.
"""

from __future__ import annotations

from gitml.errors import GitError, UsageError

_HEX_CHARS = frozenset("0123456789abcdef")


def is_git_oid(text: object) -> bool:
    """True if ``text`` is a full git object name: 40 (SHA-1) or 64 (SHA-256) lowercase
    hex characters, nothing else (no trailing newline; data objects: ``store.hashing.is_oid``)."""
    return isinstance(text, str) and len(text) in (40, 64) and _HEX_CHARS.issuperset(text)


_BAD_CHARS = frozenset(" ~^:?*[\\")


def _component_error(comp: str) -> str | None:
    if not comp:
        return "has an empty path component (leading, trailing or double '/')"
    if comp.startswith("."):
        return "has a component starting with '.'"
    if comp.endswith(".lock"):
        return "has a component ending with '.lock'"
    return None


def refname_error(refname: str, *, allow_onelevel: bool = False) -> str | None:
    """Why ``refname`` is not a valid ref name, or None if it is."""
    if not refname:
        return "is empty"
    if refname == "@":
        return "is '@'"
    for ch in refname:
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return "contains a control character"
        if ch in _BAD_CHARS:
            return f"contains {ch!r}"
    if ".." in refname:
        return "contains '..'"
    if "@{" in refname:
        return "contains '@{'"
    if refname.endswith("."):
        return "ends with '.'"
    try:
        refname.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    parts = refname.split("/")
    for comp in parts:
        reason = _component_error(comp)
        if reason:
            return reason
    if len(parts) < 2 and not allow_onelevel:
        return "has only one level"
    return None


def is_valid_refname(refname: str, *, allow_onelevel: bool = False) -> bool:
    """True if git would accept ``refname`` (``git check-ref-format``)."""
    return refname_error(refname, allow_onelevel=allow_onelevel) is None


def tag_name_error(name: str) -> str | None:
    """Why ``name`` cannot be a tag (``git tag`` rules), or None."""
    if name.startswith("-"):
        return "starts with '-'"
    return refname_error(f"refs/tags/{name}")


def check_tag_name(name: str) -> str:
    """Return ``name`` if it is a valid tag name, else raise :class:`UsageError`."""
    reason = tag_name_error(name)
    if reason:
        raise UsageError(f"invalid tag name {name!r}: it {reason}", "see `git check-ref-format`")
    return name


def check_remote_name(name: str) -> str:
    """Return ``name`` if git accepts it as a remote name (it becomes part of refs)."""
    reason = "starts with '-'" if name.startswith("-") else None
    reason = reason or refname_error(f"refs/remotes/{name}/test")
    if reason:
        raise UsageError(f"invalid remote name {name!r}: it {reason}")
    return name


def check_rev(rev: str) -> str:
    """Refuse revisions git could read as an option or that break its line protocols."""
    if not rev or rev.startswith("-") or any(c in rev for c in "\0\n\r"):
        raise GitError(f"invalid revision {rev!r}")
    return rev
