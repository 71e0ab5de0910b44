"""History listings in one ``git log`` process.

``git log -z`` with NUL between fields: none of the fields asked for (ids,
author, unix time, subject) can contain NUL, so the record count is known and
verified. Notes are *not* read through ``%N``: a note is free text and could
contain anything, including a delimiter; they come from
:func:`gitml.git.notes.read_notes` (one ``notes list`` plus the batch reader,
length-prefixed and therefore unambiguous).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.errors import GitError
from gitml.git.notes import read_notes
from gitml.git.refname import check_rev
from gitml.git.runner import first_error_line

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gitml.git.repo import GitRepo

_FIELDS = ("%H", "%P", "%an", "%ae", "%at", "%s")
_FORMAT = "--format=" + "%x00".join(_FIELDS)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One commit of a history listing."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_time: int  # unix seconds
    subject: str
    note: str | None = None  # gitml note, when asked for


def _log_args(rev_range: str, paths: list[str], max_count: int | None) -> list[str]:
    args = ["--literal-pathspecs", "log", "-z", "--no-show-signature", "--no-notes"]
    if max_count is not None:
        args.append(f"--max-count={int(max_count)}")
    return [*args, _FORMAT, check_rev(rev_range), "--", *paths]


def _run_log(repo: GitRepo, args: list[str], rev_range: str) -> bytes | None:
    """stdout, or None when asked for the history of an unborn branch."""
    status, out, err = repo.run(*args, ok=(0, 128))
    if status == 0:
        return out
    if rev_range == "HEAD" and repo.head() is None:
        return None
    raise GitError(f"git log failed: {first_error_line(err)}")


def log_shas(repo: GitRepo, rev_range: str, paths: list[str]) -> list[str]:
    """Commit ids, newest first (empty on an unborn branch)."""
    args = ["--literal-pathspecs", "log", "--no-show-signature", "--format=%H"]
    out = _run_log(repo, [*args, check_rev(rev_range), "--", *paths], rev_range)
    return out.decode("ascii").split() if out else []


def log_records(
    repo: GitRepo,
    rev_range: str,
    paths: list[str],
    *,
    max_count: int | None = None,
    notes: bool = False,
) -> list[LogRecord]:
    """Parse one ``git log -z`` into records; optionally attach gitml notes."""
    out = _run_log(repo, _log_args(rev_range, paths, max_count), rev_range)
    if not out:
        return []
    if out.endswith(b"\0"):
        out = out[:-1]
    fields = out.split(b"\0")
    n = len(_FIELDS)
    if len(fields) % n:
        raise GitError("git log output could not be parsed (unexpected field count)")
    records: list[LogRecord] = []
    for i in range(0, len(fields), n):
        sha, parents, name, email, when, subject = (
            f.decode("utf-8", "replace") for f in fields[i : i + n]
        )
        if len(sha) not in (40, 64) or not when.lstrip("-").isdigit():
            raise GitError(f"git log output could not be parsed near {sha[:12]!r}")
        records.append(LogRecord(sha, tuple(parents.split()), name, email, int(when), subject))
    if notes and records:
        found = read_notes(repo, [r.sha for r in records])
        records = [
            LogRecord(
                r.sha,
                r.parents,
                r.author_name,
                r.author_email,
                r.author_time,
                r.subject,
                found.get(r.sha),
            )
            for r in records
        ]
    return records


def blob_introductions(
    repo: GitRepo, suffix: str, *, tips: Sequence[str] = (), limit: int = 3
) -> dict[str, list[tuple[str, str]]]:
    """``blob sha -> [(commit, path)]``: the commits (newest first, at most
    ``limit``) of every ref's history and of ``tips`` that wrote a blob named
    ``*suffix``, in one ``git log --raw --all``.

    For messages (gc's "what would be lost"): merges are not diffed, so a blob
    only a merge resolution wrote has no entry."""
    args = ["log", "--raw", "-z", "--no-abbrev", "--no-renames", "--format=%x01%H"]
    args.append("--all")
    stdin = None
    if tips:
        args += ["--ignore-missing", "--stdin"]
        stdin = "".join(f"{check_rev(t)}\n" for t in tips).encode()
    status, out, err = repo.run(*args, input=stdin, ok=(0, 128))
    if status != 0:
        if repo.head() is None and not repo.list_refs():
            return {}
        raise GitError(f"git log failed: {first_error_line(err)}")
    found: dict[str, list[tuple[str, str]]] = {}
    tokens = out.split(b"\0")
    commit = ""
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip(b"\n")
        i += 1
        if token.startswith(b"\x01"):
            commit = token[1:].decode("ascii", "replace")
        elif token.startswith(b":") and i < len(tokens):
            path = os.fsdecode(tokens[i])
            i += 1
            fields = token.split()
            if len(fields) >= 4 and fields[3].strip(b"0") and path.endswith(suffix) and commit:
                named = found.setdefault(fields[3].decode("ascii", "replace"), [])
                if len(named) < limit:
                    named.append((commit, path))
        elif token:
            raise GitError("git log --raw output could not be parsed")
    return found
