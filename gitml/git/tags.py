"""Tags for the model registry: list all in one process, create atomically.

GTO reads tags one by one and needs 6-12 s at ~1,500 tags (iterative/gto#156);
here one ``git for-each-ref`` returns every field, messages included.
Messages are free text (any byte), so records are framed by a random nonce
that is chosen after the tags exist and cannot be predicted by whoever wrote
them; the message is the last field of its record, so NULs inside it are
harmless. Each record is verified (ref name, hex ids, unix time).

``create_tag`` relies on git's ref transaction: ``git tag`` without ``-f``
asks for "this ref must not exist yet", under the ref lock, so of two
processes creating the same tag exactly one succeeds; the other gets
:class:`TagExistsError`.
"""

from __future__ import annotations

import os
import random
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.errors import EXIT_CHECK_FAILED, GitError
from gitml.git.refname import check_rev, check_tag_name, is_git_oid
from gitml.git.runner import first_error_line

if TYPE_CHECKING:
    from gitml.git.repo import GitRepo

_FIELDS = (
    "%(refname)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objecttype)",
    "%(*objectname)",
    "%(taggername)",
    "%(taggeremail)",
    "%(taggerdate:unix)",
    "%(contents)",
)
CREATE_ATTEMPTS = 20


class TagExistsError(GitError):
    """The tag already exists (someone else created it first)."""

    exit_code = EXIT_CHECK_FAILED


@dataclass(frozen=True, slots=True)
class TagInfo:
    """One tag. ``target`` is the commit (or other object) it finally points to."""

    name: str  # without refs/tags/
    annotated: bool
    object_sha: str  # the tag object (annotated) or the target itself (lightweight)
    target: str
    target_type: str
    tagger_name: str
    tagger_email: str  # without <>
    tagger_time: int | None  # unix seconds
    message: str  # "" for lightweight tags


def _parse_record(rec: bytes) -> TagInfo:
    parts = rec.split(b"\0", len(_FIELDS) - 1)
    if len(parts) != len(_FIELDS):
        raise GitError("git for-each-ref output could not be parsed (field count)")
    refname = os.fsdecode(parts[0])
    otype, oname, ptype, pname, tname, temail, tdate = (
        p.decode("utf-8", "replace") for p in parts[1:8]
    )
    message = parts[8]
    if message.endswith(b"\n"):
        message = message[:-1]  # the newline for-each-ref adds after each record
    if not refname.startswith("refs/tags/") or not is_git_oid(oname):
        raise GitError(f"git for-each-ref output could not be parsed near {refname[:60]!r}")
    if tdate and not tdate.isdigit():
        raise GitError(f"unexpected tagger date for {refname!r}")
    annotated = otype == "tag"
    target, target_type = (pname, ptype) if annotated else (oname, otype)
    return TagInfo(
        name=refname[len("refs/tags/") :],
        annotated=annotated,
        object_sha=oname,
        target=target,
        target_type=target_type,
        tagger_name=tname,
        tagger_email=temail.strip("<>"),
        tagger_time=int(tdate) if tdate else None,
        message=message.decode("utf-8", "replace") if annotated else "",
    )


def list_tags(repo: GitRepo, pattern: str | None = None) -> list[TagInfo]:
    """Every tag (or those matching ``pattern``, a for-each-ref glob under refs/tags/).

    One ``git for-each-ref`` process, plus one ``rev-parse`` only when some
    tag points at another tag (nested tags are rare).
    """
    nonce = secrets.token_hex(16)
    fmt = f"%00{nonce}%00" + "%00".join(_FIELDS)
    args = ["for-each-ref", f"--format={fmt}"]
    args.append("refs/tags/" + check_rev(pattern) if pattern else "refs/tags")
    _s, out, _e = repo.run(*args)
    sep = f"\0{nonce}\0".encode("ascii")
    chunks = out.split(sep)
    if chunks[0] != b"":
        raise GitError("git for-each-ref output could not be parsed (missing record marker)")
    tags = [_parse_record(rec) for rec in chunks[1:]]
    nested = [t for t in tags if t.annotated and t.target_type == "tag"]
    if nested:
        tags = _peel_nested(repo, tags, nested)
    return tags


def _peel_nested(repo: GitRepo, tags: list[TagInfo], nested: list[TagInfo]) -> list[TagInfo]:
    args = [f"{t.object_sha}^{{}}" for t in nested]
    _s, out, _e = repo.run("rev-parse", *args)
    peeled = dict(zip((t.name for t in nested), out.decode("ascii").split(), strict=True))
    out_tags: list[TagInfo] = []
    for t in tags:
        if t.name in peeled:
            kind = _object_type(repo, peeled[t.name])
            t = TagInfo(
                t.name,
                t.annotated,
                t.object_sha,
                peeled[t.name],
                kind,
                t.tagger_name,
                t.tagger_email,
                t.tagger_time,
                t.message,
            )
        out_tags.append(t)
    return out_tags


def _object_type(repo: GitRepo, sha: str) -> str:
    _s, out, _e = repo.run("cat-file", "-t", sha)
    return out.decode("ascii").strip()


def tag_exists(repo: GitRepo, name: str) -> bool:
    """True if ``refs/tags/<name>`` exists."""
    return repo.try_rev_parse(f"refs/tags/{check_tag_name(name)}", kind="object") is not None


def create_tag(repo: GitRepo, name: str, rev: str, message: str) -> str:
    """Create the annotated tag ``name`` on ``rev``; return the tag object's id.

    Raises :class:`TagExistsError` if the tag exists (also when another
    process creates it concurrently: exactly one creator wins). The message
    is stored verbatim (no comment or whitespace stripping), unsigned.
    """
    check_tag_name(name)
    target = repo.rev_parse(rev, kind="object")
    args = ["tag", "--annotate", "--no-sign", "--cleanup=verbatim", "--file=-", "--", name, target]
    for attempt in range(CREATE_ATTEMPTS):
        status, _out, err = repo.run(*args, input=message.encode("utf-8"), ok=(0, 1, 128))
        if status == 0:
            return repo.rev_parse(f"refs/tags/{name}", kind="object")
        if "already exists" in err or tag_exists(repo, name):
            raise TagExistsError(f"tag {name!r} already exists")
        if ".lock" not in err and "cannot lock ref" not in err:
            raise GitError(f"cannot create tag {name!r}: {first_error_line(err)}")
        # Lock held by a creator that may still fail: look again shortly.
        time.sleep(random.uniform(0.005, 0.02) * min(attempt + 1, 10))
    raise GitError(f"cannot create tag {name!r}: its ref stayed locked", "retry later")


def delete_tag(repo: GitRepo, name: str) -> None:
    """Delete the tag ``name`` (GitError if it does not exist)."""
    check_tag_name(name)
    status, _out, err = repo.run("tag", "--delete", "--", name, ok=(0, 1))
    if status != 0:
        raise GitError(f"cannot delete tag {name!r}: {first_error_line(err)}")
