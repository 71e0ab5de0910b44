"""What a commit in progress contains: staged paths and the index's tree.

Plumbing commands only (``diff-index``, ``diff-tree``, ``write-tree``): unlike
``git diff`` they ignore the user's diff configuration (external diff
drivers, colour, rename detection), so their output is stable to parse.
Inside a pre-commit hook they read the index being committed (see
:class:`~gitml.git.repo.GitRepo`, ``GIT_INDEX_FILE``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from gitml.git.refname import check_rev
from gitml.git.repo import GitRepo


def _paths(out: bytes) -> list[str]:
    return [os.fsdecode(p) for p in out.split(b"\0") if p]


def staged_paths(repo: GitRepo) -> list[str]:
    """Paths whose staged content differs from HEAD (all staged paths before the first commit).

    Deleted paths are included.
    """
    if repo.head() is None:
        return repo.ls_files()
    _s, out, _e = repo.run("diff-index", "--cached", "--name-only", "-z", "--no-renames", "HEAD")
    return _paths(out)


def index_tree(repo: GitRepo) -> str:
    """The tree id the index would commit (``git write-tree``)."""
    _s, out, _e = repo.run("write-tree")
    return out.decode("ascii").strip()


def commit_tree(repo: GitRepo, rev: str) -> str:
    """The tree id of a commit."""
    return repo.rev_parse(rev, kind="tree")


def changed_between(repo: GitRepo, old: str, new: str) -> list[str]:
    """Paths that differ between two commits or trees (one ``git diff-tree``)."""
    args = ["diff-tree", "-r", "--name-only", "-z", "--no-renames", "--no-commit-id"]
    _s, out, _e = repo.run(*args, check_rev(old), check_rev(new))
    return _paths(out)


def blobs_in_history(
    repo: GitRepo, suffix: str, revs: list[str] | None = None, *, tips: Iterable[str] = ()
) -> dict[str, str]:
    """``blob sha -> path`` of every blob named ``*suffix`` reachable from ``revs``
    (default: all refs) and from the commit ids ``tips``, in one
    ``git rev-list --objects``. ``tips`` go through stdin (there may be thousands:
    every reflog entry), and one whose commit git no longer has is skipped."""
    tips = list(tips)
    args = [
        "rev-list",
        "--objects",
        "--filter=object:type=blob",
        *(revs or ([] if tips else ["--all"])),
    ]
    stdin = None
    if tips:
        args += ["--ignore-missing", "--stdin"]
        stdin = "".join(f"{check_rev(t)}\n" for t in tips).encode()
    _s, out, _e = repo.run(*args, input=stdin)
    found: dict[str, str] = {}
    for line in out.split(b"\n"):
        sha, _, path = line.partition(b" ")
        name = os.fsdecode(path)
        if name.endswith(suffix) and name != suffix and not name.startswith(".gitml/"):
            found[sha.decode("ascii")] = name
    return found
