"""Moving refs (tags, notes) to and from git remotes.

Used by ``gitml push``/``pull`` for the registry tags and the metadata notes.
The remote is a configured name or a URL/path; anything starting with ``-``
is refused (it would be read as an option: the ``ssh -oProxyCommand`` class
of bugs), and so are control characters. Transport failures raise
:class:`~gitml.errors.RemoteError` (exit code 4), with credentials in URLs
redacted from the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.errors import RemoteError, UsageError
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


def fetch_refs(repo: GitRepo, remote: str, refspecs: Iterable[str], *, prune: bool = False) -> None:
    """Fetch ``refspecs`` from ``remote`` (RemoteError on failure)."""
    specs = _check_refspecs(refspecs)
    if not specs:
        return
    args = ["fetch", "--quiet", *(["--prune"] if prune else []), _check_remote(remote), *specs]
    status, _out, err = repo.run(*args, ok=range(256))
    if status != 0:
        raise RemoteError(
            f"git fetch from {redact(remote)!r} failed: {first_error_line(err)}",
            "check the remote's URL and your access to it",
        )


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
