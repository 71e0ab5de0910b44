"""gitml metadata stored as git notes on ``refs/notes/gitml``.

Why the extra care:

* Reading: ``git notes list`` once plus the batch blob reader gives the notes
  of any number of commits in two processes (gitml log/show read whole
  histories; GTO-style one-process-per-item is what made GTO slow).
* Writing: ``git notes add`` moves the notes ref without checking its old
  value, so two concurrent writers can silently drop each other's note. We let
  git build the new notes commit on a private temporary ref and then move
  ``refs/notes/gitml`` with a compare-and-swap (``update-ref <new> <old>``),
  retrying when another writer got there first or holds the ref lock.
  Notes are written from a blob (``-C``) so the text is stored byte-exact
  (``-m``/``-F`` would strip whitespace and comments).
* Rewrites: without ``notes.rewriteRef`` git drops notes on every ``--amend``
  and rebase; :func:`configure_notes` sets it, plus a fetch refspec per
  remote into ``refs/notes/remotes/<remote>/gitml`` (fetching straight into
  the local ref with ``+`` would silently drop local notes). No push refspec
  is configured: a ``remote.<name>.push`` entry would change what a plain
  ``git push`` pushes; gitml pushes notes explicitly.
"""

from __future__ import annotations

import os
import random
import secrets
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from gitml.errors import GitError
from gitml.git.refname import check_remote_name, check_rev
from gitml.git.runner import first_error_line

if TYPE_CHECKING:
    from gitml.git.repo import GitRepo

NOTES_REF = "refs/notes/gitml"
_TMP_PREFIX = "refs/notes/gitml-tmp/"
WRITE_ATTEMPTS = 50


def remote_notes_ref(remote: str) -> str:
    """Where a remote's notes are fetched to."""
    return f"refs/notes/remotes/{check_remote_name(remote)}/gitml"


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _note_blobs(repo: GitRepo, ref: str = NOTES_REF) -> dict[str, str]:
    """``annotated object id -> note blob id`` for every note (one process)."""
    _status, out, _err = repo.run("notes", f"--ref={ref}", "list")
    notes: dict[str, str] = {}
    for line in out.decode("ascii", "replace").splitlines():
        blob, _, obj = line.partition(" ")
        if obj:
            notes[obj] = blob
    return notes


def read_note(repo: GitRepo, rev: str) -> str | None:
    """The gitml note attached to ``rev``, or None."""
    status, out, err = repo.run("notes", f"--ref={NOTES_REF}", "list", check_rev(rev), ok=(0, 1))
    if status == 1:
        if "no note found" in err:
            return None
        raise GitError(f"cannot read the note of {rev!r}: {first_error_line(err)}")
    blob = out.decode("ascii").strip()
    return _decode(repo.read_blobs([blob])[blob])


def read_notes(repo: GitRepo, shas: Iterable[str]) -> dict[str, str]:
    """``sha -> note`` for those of ``shas`` (full object ids) that have a note."""
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return {}
    blobs = _note_blobs(repo)
    hits = {sha: blobs[sha] for sha in wanted if sha in blobs}
    data = repo.read_blobs(hits.values())
    return {sha: _decode(data[blob]) for sha, blob in hits.items()}


def _is_contention(err: str) -> bool:
    return any(
        text in err
        for text in ("cannot lock ref", "but expected", "reference already exists", ".lock")
    )


def write_note(repo: GitRepo, rev: str, text: str) -> None:
    """Attach ``text`` to ``rev`` (replacing its note), safely under concurrent writers."""
    target = repo.rev_parse(rev, kind="object")
    _s, out, _e = repo.run("hash-object", "-w", "--stdin", input=text.encode("utf-8"))
    blob = out.decode("ascii").strip()
    tmp = f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
    tmp_exists = False
    try:
        for attempt in range(WRITE_ATTEMPTS):
            old = repo.try_rev_parse(NOTES_REF, kind="commit")
            if old is not None:
                repo.run("update-ref", "--no-deref", tmp, old)
                tmp_exists = True
            elif tmp_exists:
                repo.run("update-ref", "--no-deref", "-d", tmp)
                tmp_exists = False
            repo.run("notes", f"--ref={tmp}", "add", "-f", "--allow-empty", "-C", blob, target)
            tmp_exists = True
            new = repo.rev_parse(tmp)
            # One transaction: move the notes ref only if it still is `old`
            # (all zeros: "must not exist"), and drop the temporary ref.
            script = f"update {NOTES_REF} {new} {old or '0' * len(new)}\ndelete {tmp}\n"
            status, _out, err = repo.run(
                "update-ref", "--no-deref", "-m", "gitml: note", "--stdin",
                input=script.encode("ascii"), ok=(0, 1, 128),
            )  # fmt: skip
            if status == 0:
                tmp_exists = False
                return
            if not _is_contention(err):
                raise GitError(f"cannot write the gitml note: {first_error_line(err)}")
            time.sleep(random.uniform(0.005, 0.02) * min(attempt + 1, 10))
        raise GitError(
            f"cannot write the gitml note: {NOTES_REF} kept changing",
            "another process is writing notes; retry",
        )
    finally:
        if tmp_exists:
            repo.run("update-ref", "--no-deref", "-d", tmp, ok=(0, 1, 128))


def configure_notes(repo: GitRepo, remote_names: Iterable[str]) -> list[str]:
    """Make notes survive amend/rebase and fetch them from ``remote_names``.

    Idempotent. Returns the config keys it changed.
    """
    changed: list[str] = []
    if NOTES_REF not in repo.config_get_all("notes.rewriteRef"):
        repo.config_add("notes.rewriteRef", NOTES_REF)
        changed.append("notes.rewriteRef")
    for key in ("notes.rewrite.amend", "notes.rewrite.rebase"):
        if repo.config_get(key) != "true":
            repo.config_set(key, "true")
            changed.append(key)
    for remote in remote_names:
        key = f"remote.{check_remote_name(remote)}.fetch"
        # A pattern: an exact refspec makes every `git fetch` fail ("couldn't
        # find remote ref") while the remote has no notes yet.
        spec = f"+{NOTES_REF}*:{remote_notes_ref(remote)}*"
        specs = repo.config_get_all(key)
        legacy = f"+{NOTES_REF}:{remote_notes_ref(remote)}"
        if legacy in specs:  # what older gitml wrote: replace it
            repo.config_unset(key, legacy)
            changed.append(key)
        if spec not in specs:
            repo.config_add(key, spec)
            changed.append(key)
    return changed


def merge_remote_notes(repo: GitRepo, remote: str) -> bool:
    """Merge fetched notes of ``remote`` into ours (``cat_sort_uniq``: no note is lost).

    Returns False when nothing was fetched from that remote yet.
    """
    ref = remote_notes_ref(remote)
    if repo.try_rev_parse(ref, kind="commit") is None:
        return False
    repo.run("notes", f"--ref={NOTES_REF}", "merge", "-q", "-s", "cat_sort_uniq", ref)
    return True
