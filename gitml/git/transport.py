"""Moving refs (tags, notes) to and from git remotes.

Used by ``gitml push``/``pull`` for the registry tags and the metadata notes.
The remote is a configured name or a URL/path; anything starting with ``-``
is refused (it would be read as an option: the ``ssh -oProxyCommand`` class
of bugs), and so are control characters. Transport failures raise
:class:`~gitml.errors.RemoteError` (exit code 4), with credentials in URLs
redacted from the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.errors import RefsRejectedError, RemoteError, UsageError
from gitml.git.runner import first_error_line, redact

if TYPE_CHECKING:
    from gitml.git.repo import GitRepo

_FLAGS = {
    " ": "fast-forward",
    "+": "forced",
    "-": "deleted",
    "*": "new",
    "!": "rejected",
    "=": "up-to-date",
}


@dataclass(frozen=True, slots=True)
class PushedRef:
    """One line of ``git push --porcelain``."""

    source: str
    destination: str
    status: str  # fast-forward | forced | deleted | new | rejected | up-to-date
    summary: str

    @property
    def ok(self) -> bool:
        return self.status != "rejected"


def choose_git_remote(repo: GitRepo, preferred: str | None) -> str | None:
    """The git remote that carries tags and notes: ``preferred`` (a data remote's
    ``git_remote``, else its name) if the repository has it, else its only
    remote; None when there is none to pick."""
    names = repo.remote_names()
    if preferred and preferred in names:
        return preferred
    return names[0] if len(names) == 1 else None


def _check_remote(remote: str) -> str:
    if not remote or remote.startswith("-") or any(ord(c) < 0x20 for c in remote):
        raise UsageError(f"invalid remote {redact(remote)!r}")
    return remote


def _check_refspecs(refspecs: Iterable[str]) -> list[str]:
    specs = list(refspecs)
    for spec in specs:
        if not spec or spec.startswith("-") or any(ord(c) < 0x20 for c in spec):
            raise UsageError(f"invalid refspec {spec!r}")
    return specs


def parse_push_porcelain(out: str) -> list[PushedRef]:
    """Per-ref results from ``git push --porcelain`` stdout."""
    results: list[PushedRef] = []
    for line in out.splitlines():
        if len(line) < 2 or line[0] not in _FLAGS or line[1] != "\t":
            continue
        fields = line[2:].split("\t", 1)
        src, _, dst = fields[0].partition(":")
        results.append(PushedRef(src, dst, _FLAGS[line[0]], fields[1] if len(fields) > 1 else ""))
    return results


def push_refs(
    repo: GitRepo, remote: str, refspecs: Iterable[str], *, atomic: bool = False
) -> list[PushedRef]:
    """Push ``refspecs``; per-ref outcomes are returned (rejections included).

    Raises :class:`RemoteError` when git fails without reporting per-ref
    results (unreachable remote, authentication, protocol error).
    """
    specs = _check_refspecs(refspecs)
    if not specs:
        return []
    args = ["push", "--porcelain", *(["--atomic"] if atomic else []), _check_remote(remote), *specs]
    status, out, err = repo.run(*args, ok=range(256))
    results = parse_push_porcelain(out.decode("utf-8", "replace"))
    if status != 0 and not any(not r.ok for r in results):
        raise RemoteError(
            f"git push to {redact(remote)!r} failed: {first_error_line(err)}",
            "check the remote's URL and your access to it",
        )
    return results


# ` ! [rejected]        t1         -> t1  (would clobber existing tag)`
_FETCH_REJECTED = re.compile(r"^\s*!\s+\[rejected\]\s+(\S+)\s+->\s+(\S+)\s+\((.+)\)\s*$")


def parse_fetch_rejections(stderr: str) -> list[tuple[str, str]]:
    """``(local ref, git's reason)`` of each ref ``git fetch`` refused to update."""
    out: list[tuple[str, str]] = []
    for line in stderr.splitlines():
        m = _FETCH_REJECTED.match(line)
        if m:
            out.append((redact(m.group(2)), redact(m.group(3))))
    return out


def fetch_refs(repo: GitRepo, remote: str, refspecs: Iterable[str], *, prune: bool = False) -> None:
    """Fetch ``refspecs`` from ``remote``.

    A ref git refused to update (``would clobber existing tag``, non-fast-forward)
    raises :class:`RefsRejectedError` naming it and git's reason (git still
    updated the other refs); any other failure raises :class:`RemoteError` with
    git's own message. Not ``--quiet``: git prints the per-ref reasons only
    without it."""
    specs = _check_refspecs(refspecs)
    if not specs:
        return
    args = ["fetch", *(["--prune"] if prune else []), _check_remote(remote), *specs]
    status, _out, err = repo.run(*args, ok=range(256))
    if status == 0:
        return
    rejected = parse_fetch_rejections(err)
    if rejected:
        shown = ", ".join(f"{ref} ({why})" for ref, why in rejected[:3])
        more = f" and {len(rejected) - 3} more" if len(rejected) > 3 else ""
        raise RefsRejectedError(
            f"git fetch from {redact(remote)!r} refused to update {shown}{more}",
            "your local ref differs from the remote's one",
            refs=rejected,
        )
    raise RemoteError(
        f"git fetch from {redact(remote)!r} failed: {first_error_line(err)}",
        "check the remote's URL and your access to it",
    )


LS_REMOTE_TIMEOUT = 15.0


def ls_remote_tags(
    repo: GitRepo, remote: str, *, pattern: str | None = None, timeout: float = LS_REMOTE_TIMEOUT
) -> dict[str, str]:
    """``tag name -> commit`` (annotated tags peeled) on ``remote``, read with
    ``git ls-remote --tags``; git is killed after ``timeout`` seconds.
    :class:`RemoteError` when the remote cannot be read."""
    args = ["ls-remote", "--tags", _check_remote(remote)]
    if pattern is not None:
        args += _check_refspecs([pattern])  # never starts with "-" (checked)
    status, out, err = repo.run(*args, ok=range(256), timeout=timeout)
    if status != 0:
        reason = first_error_line(err) if err.strip() else f"no answer within {timeout:g} s"
        raise RemoteError(f"git ls-remote {redact(remote)!r} failed: {reason}")
    tags: dict[str, str] = {}
    for line in out.decode("utf-8", "replace").splitlines():
        sha, _, ref = line.partition("\t")
        if not ref.startswith("refs/tags/"):
            continue
        name = ref[len("refs/tags/") :]
        if name.endswith("^{}"):
            tags[name[:-3]] = sha  # the peeled commit wins over the tag object
        else:
            tags.setdefault(name, sha)
    return tags


def list_remote_refs(repo: GitRepo, remote: str, pattern: str) -> dict[str, str]:
    """``refname -> sha`` of the remote's refs matching ``pattern`` (``git ls-remote``)."""
    status, out, err = repo.run(
        "ls-remote", "--refs", _check_remote(remote), *_check_refspecs([pattern]), ok=range(256)
    )
    if status != 0:
        raise RemoteError(
            f"git ls-remote {redact(remote)!r} failed: {first_error_line(err)}",
            "check the remote's URL and your access to it",
        )
    refs: dict[str, str] = {}
    for line in out.decode("utf-8", "replace").splitlines():
        sha, _, name = line.partition("\t")
        if name:
            refs[name] = sha
    return refs
