"""Artifact names, stage names and git's ref-name rules.

A tag name is untrusted input: it arrives from any clone or fetch. We accept
exactly GTO's alphabet (so whatever we write, GTO reads) *and* git's
``check-ref-format`` rules (so whatever we accept is a name git could have
created, and ``format(parse(x)) == x`` can never produce an invalid ref).

GTO's rules (``gto/constants.py``):

* name: ``[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?`` -- letters, digits, ``-``, ``_``,
  ``/``; starts and ends with a letter or digit (one character is allowed).
* full name: an optional ``dirname:`` prefix (``[a-zA-Z0-9-_./]+``) naming the folder
  of a monorepo's ``artifacts.yaml``; in a tag the ``:`` is spelled ``=`` because git
  refuses ``:`` in ref names.
* stage: the same regex as a name.

On top of those, git refuses ``//``, ``..``, a path component starting with ``.`` or
ending with ``.lock``, control characters, ``~^:?*[\\``, space, ``@{`` and a trailing
``.`` or ``/`` (``git help check-ref-format``).
"""

from __future__ import annotations

import re

from gitml.bounded import quote
from gitml.errors import UsageError

NAME_PATTERN = r"[a-zA-Z0-9](?:[a-zA-Z0-9/_-]*[a-zA-Z0-9])?"
DIRNAME_PATTERN = r"[a-zA-Z0-9/_.-]+"
#: The artifact part of a *tag*: ``[dirname=]name``.
TAG_ARTIFACT_PATTERN = rf"(?:{DIRNAME_PATTERN}=)?{NAME_PATTERN}"
#: The artifact part of what a *user* types: ``[dirname:]name``.
USER_ARTIFACT_PATTERN = rf"(?:{DIRNAME_PATTERN}:)?{NAME_PATTERN}"

_NAME_RE = re.compile(NAME_PATTERN)
_USER_ARTIFACT_RE = re.compile(USER_ARTIFACT_PATTERN)
_BAD_REF_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")

#: Longest artifact or stage name we let users create. A loose ref is a file whose
#: name is the tag's last path component; with git's ``.lock`` suffix it must fit
#: NAME_MAX (255 bytes), and the tag adds ``@v...`` or ``#stage#N`` to the name.
MAX_NAME_BYTES = 150


def ref_format_problem(refname: str) -> str | None:
    """Why git's ``check-ref-format`` would refuse ``refname``, or None if it would not."""
    if not refname:
        return "it is empty"
    if _BAD_REF_CHARS.search(refname):
        return "it contains a control character, space or one of ~^:?*[\\"
    if refname == "@":
        return "it is '@'"
    if "@{" in refname:
        return "it contains '@{'"
    if ".." in refname:
        return "it contains '..'"
    if refname.startswith("/") or refname.endswith("/") or "//" in refname:
        return "it has an empty path component"
    if refname.endswith("."):
        return "it ends with '.'"
    for part in refname.split("/"):
        if part.startswith("."):
            return "a path component starts with '.'"
        if part.endswith(".lock"):
            return "a path component ends with '.lock'"
    return None


def to_tag_artifact(name: str) -> str:
    """``dir:name`` (what users and GTO's API say) -> ``dir=name`` (what the tag says)."""
    return name.replace(":", "=")


def from_tag_artifact(name: str) -> str:
    """``dir=name`` -> ``dir:name``."""
    return name.replace("=", ":")


def artifact_problem(name: str) -> str | None:
    """Why ``name`` (user spelling, ``[dir:]name``) is not a valid artifact name."""
    if not _USER_ARTIFACT_RE.fullmatch(name):
        return (
            "use letters, digits, '-', '_' and '/', starting and ending with a letter or "
            "digit (optionally prefixed by 'folder:' like GTO's monorepo names)"
        )
    return ref_format_problem("refs/tags/" + to_tag_artifact(name) + "@v0.0.0")


def stage_problem(stage: str) -> str | None:
    """Why ``stage`` is not a valid stage name (GTO: same alphabet as names)."""
    if not _NAME_RE.fullmatch(stage):
        return "use letters, digits, '-', '_' and '/', starting and ending with a letter or digit"
    return ref_format_problem("refs/tags/x#" + stage + "#1")


def new_tag_problem(tag: str) -> str | None:
    """Why a tag gitml is about to *create* would be unsafe (beyond git's rules).

    A loose ref is a file per path component; git writes ``<component>.lock`` first,
    so each component must stay within NAME_MAX (255) minus 5 bytes.
    """
    if any(len(part.encode()) > 250 for part in tag.split("/")):
        return "a path component of the tag would be longer than 250 bytes"
    return ref_format_problem("refs/tags/" + tag)


def show(text: str) -> str:
    """Quote untrusted text for a message: repr() escapes control characters."""
    return quote(text)


def validate_artifact_name(name: str) -> str:
    """Check a name a user gave for a new artifact; returns it unchanged."""
    problem = artifact_problem(name)
    if problem is None and len(name.encode()) > MAX_NAME_BYTES:
        problem = f"it is longer than {MAX_NAME_BYTES} bytes"
    if problem is not None:
        raise UsageError(f"invalid artifact name {show(name)}", hint=problem)
    return name


def validate_stage(stage: str) -> str:
    """Check a stage name a user gave; returns it unchanged."""
    problem = stage_problem(stage)
    if problem is None and len(stage.encode()) > MAX_NAME_BYTES:
        problem = f"it is longer than {MAX_NAME_BYTES} bytes"
    if problem is not None:
        raise UsageError(f"invalid stage name {show(stage)}", hint=problem)
    return stage
