"""Commits and refs made with plumbing only: no hooks, no HEAD, no branch moves.

Experiments (:mod:`gitml.pipelines.experiments`) are commits that live on
hidden refs. They are built from a worktree's index with ``write-tree`` and
``commit-tree`` (which run no hooks and move nothing), and their refs are
created and deleted with compare-and-swap ``update-ref`` so two writers can
never silently replace each other's experiment.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from gitml.errors import GitError, UsageError
from gitml.git.refname import check_rev, refname_error
from gitml.git.runner import first_error_line

if TYPE_CHECKING:
    from gitml.git.repo import GitRepo


def commit_index(repo: GitRepo, parent: str, message: str) -> str:
    """A commit of ``repo``'s index with ``parent`` as its only parent (no ref moves)."""
    _s, out, _e = repo.run("write-tree")
    tree = out.decode("ascii").strip()
    _s, out, _e = repo.run(
        "commit-tree", tree, "-p", check_rev(parent), "-F", "-", input=message.encode("utf-8")
    )
    return out.decode("ascii").strip()


def _check_ref(ref: str) -> str:
    reason = refname_error(ref)
    if reason or not ref.startswith("refs/"):
        raise UsageError(f"invalid ref name {ref!r}: it {reason or 'is not under refs/'}")
    return ref


def create_ref(repo: GitRepo, ref: str, sha: str, *, message: str = "gitml") -> None:
    """Create ``ref`` at ``sha``; refuse (UsageError) if it already exists."""
    status, _out, err = repo.run(
        "update-ref", "-m", message, "--no-deref", _check_ref(ref), check_rev(sha), "0" * len(sha),
        ok=(0, 1, 128),
    )  # fmt: skip
    if status != 0:
        if repo.try_rev_parse(ref, kind="object") is not None:
            raise UsageError(f"{ref} already exists", "choose another name")
        raise GitError(f"cannot create {ref}: {first_error_line(err)}")


def set_ref(repo: GitRepo, ref: str, sha: str, *, message: str = "gitml") -> None:
    """Point ``ref`` at ``sha`` (creating or moving it)."""
    repo.run("update-ref", "-m", message, "--no-deref", _check_ref(ref), check_rev(sha))


def delete_ref(repo: GitRepo, ref: str, old: str) -> None:
    """Delete ``ref`` only if it still points at ``old``."""
    status, _out, err = repo.run(
        "update-ref", "--no-deref", "-d", _check_ref(ref), check_rev(old), ok=(0, 1, 128)
    )
    if status != 0:
        raise GitError(f"cannot delete {ref}: {first_error_line(err)}", "it changed; retry")


def create_branch(repo: GitRepo, name: str, sha: str) -> str:
    """``refs/heads/<name>`` at ``sha``; refuse when the branch exists. Returns the ref."""
    if name.startswith("-") or refname_error(f"refs/heads/{name}"):
        raise UsageError(f"invalid branch name {name!r}", "see `git check-ref-format --branch`")
    ref = f"refs/heads/{name}"
    if repo.try_rev_parse(ref, kind="object") is not None:
        raise UsageError(f"branch {name!r} already exists", "choose another name")
    create_ref(repo, ref, sha, message=f"gitml: branch {name}")
    return ref


def hash_files(repo: GitRepo, paths: Iterable[str]) -> dict[str, str]:
    """``path -> blob id`` git would give each workspace file (nothing is written)."""
    items = [p for p in paths if os.path.isfile(repo.root / p)]
    if not items:
        return {}
    data = "\n".join(items).encode("utf-8") + b"\n"
    _s, out, _e = repo.run("hash-object", "--no-filters", "--stdin-paths", input=data)
    return dict(zip(items, out.decode("ascii").split(), strict=True))


def tree_blobs(repo: GitRepo, rev: str, paths: list[str]) -> dict[str, str]:
    """``path -> blob id`` for those ``paths`` that are regular files at ``rev``."""
    found = repo.ls_tree(rev, *[f":(literal){p}" for p in paths])
    return {p: found[p] for p in paths if p in found}


def uncommitted_paths(repo: GitRepo) -> list[str]:
    """Tracked paths whose index or workspace content differs from HEAD."""
    _s, out, _e = repo.run("status", "--porcelain=v1", "-z", "--untracked-files=no")
    paths: list[str] = []
    records = out.split(b"\0")
    i = 0
    while i < len(records):
        record = records[i]
        i += 1
        if len(record) < 4:
            continue
        paths.append(os.fsdecode(record[3:]))
        if record[:1] in (b"R", b"C"):
            i += 1  # the rename's source follows
    return paths
