"""Every revision a repository still names: refs, stashes and reflog entries.

gc keeps the data of all of them (see :mod:`gitml.remotes.roots`), so they are
read in as few git processes as possible: every ref is walked with ``--all``
(branches, remote-tracking branches, tags, ``refs/stash``, notes...), and one
``reflog show --all`` gives every reflog entry with its time, the stash entries
included (they are ``refs/stash``'s reflog). A stash entry is a commit whose
second and third parents hold the index and the untracked files: walking it
(``rev-list``) reaches both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.errors import GitError
from gitml.git.runner import first_error_line

if TYPE_CHECKING:
    from gitml.git.repo import GitRepo

STASH_REF = "refs/stash"
_PSEUDO_REFS = ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "REBASE_HEAD")


@dataclass(frozen=True, slots=True)
class ReflogEntry:
    ref: str  # full name, "HEAD" or "refs/heads/main"
    sha: str
    time: int  # unix seconds the entry was written


def reflog_entries(repo: GitRepo) -> list[ReflogEntry]:
    """Every reflog entry of every ref (``refs/stash``'s are the stash entries)
    and of this worktree's HEAD, with its time: one ``reflog show --all``."""
    status, out, err = repo.run(
        "reflog", "show", "--all", "--date=unix", "--format=%H%x00%gD", ok=(0, 128)
    )
    if status != 0:
        if repo.head() is None and not repo.list_refs():
            return []  # a fresh repository: no reflog yet
        raise GitError(f"git reflog failed: {first_error_line(err)}")
    return _parse_reflog(out)


def in_progress_commits(repo: GitRepo) -> list[str]:
    """Commits an operation in progress names outside ``refs/`` (a merge's
    other side, the commit being cherry-picked, reverted or rebased): ``--all``
    does not reach them. ORIG_HEAD is not one: it is a leftover of the last
    reset or merge, and the reflog window covers it."""
    found = (repo.try_rev_parse(name) for name in _PSEUDO_REFS)
    return [sha for sha in found if sha is not None]


def _parse_reflog(out: bytes) -> list[ReflogEntry]:
    entries: list[ReflogEntry] = []
    for line in out.split(b"\n"):
        if not line:
            continue
        sha, sep, selector = line.partition(b"\0")
        name, at, when = os.fsdecode(selector).rpartition("@{")
        if not sep or not at or not when.endswith("}") or not when[:-1].isdigit():
            raise GitError(f"git reflog output could not be parsed near {line[:80]!r}")
        text = sha.decode("ascii", "replace")
        if len(text) not in (40, 64):
            raise GitError(f"git reflog output could not be parsed near {line[:80]!r}")
        if text.strip("0"):  # a deletion or creation entry names the null id
            entries.append(ReflogEntry(name, text, int(when[:-1])))
    return entries


def is_shallow(repo: GitRepo) -> bool:
    """Whether history is cut off (``git clone --depth``): older commits are not here."""
    _status, out, _err = repo.run("rev-parse", "--is-shallow-repository")
    return out.strip() == b"true"
