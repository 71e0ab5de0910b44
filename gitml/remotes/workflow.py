"""Team workflow over a data remote: push, fetch/pull, remote config, gc, fsck.

Which objects a command needs is computed from pointers: the workspace's by
default, or every pointer reachable from any ref with ``all_commits``. A
directory needs its manifest and every file in it; manifests are fetched
first so the files they list can be fetched in the same run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitml.context import RepoContext
from gitml.errors import GitmlError, RefsRejectedError, RemoteError, UsageError
from gitml.git.index import blobs_in_history
from gitml.remotes.transfer import TransferResult
from gitml.store.manifest import decode_manifest
from gitml.workspace.pointer import POINTER_SUFFIX, Pointer, parse_pointer, tracked_name
from gitml.workspace.revisions import CONVERTED_PREFIX
from gitml.workspace.tracked import read_pointer, resolve_targets

if TYPE_CHECKING:
    from gitml.remotes.remote import Remote


@dataclass
class RunCacheSync:
    """What ``--run-cache`` moved (gitml.pipelines.runcache fills it in)."""

    transferred: list[str] = field(default_factory=list)  # keys
    present: int = 0  # already on the other side
    refused: dict[str, str] = field(default_factory=dict)  # key → why
    objects: int = 0


@dataclass
class SyncResult:
    remote: str
    objects: TransferResult
    git: list[str] = field(default_factory=list)  # what was pushed/fetched with git
    missing_manifests: list[str] = field(default_factory=list)
    run_cache: RunCacheSync | None = None  # with --run-cache
    imports: list[str] = field(default_factory=list)  # restored from their sources


def remote_for(ctx: RepoContext, name: str | None) -> Remote:
    from gitml.remotes.remote import Remote

    name = name or ctx.config.default_remote
    if name is None:
        if len(ctx.config.remotes) == 1 and not ctx.config.broken_remotes:
            name = next(iter(ctx.config.remotes))
        else:
            raise UsageError("no default data remote", "gitml remote add origin URL --default")
    # an unusable remote (stale local section...) fails here, only where it is needed
    remote = Remote.from_config(ctx.config.remote(name), base=ctx.root)
    remote.reporter = ctx.reporter
    return remote


def check_folder_exists(rem: Remote, *, create: bool, reading: bool = False) -> None:
    """A folder remote that does not exist is a typo (or a share not mounted here)
    until proven otherwise: an upload would quietly start a second store, a
    download would report every object missing. ``create`` makes it."""
    if not rem.url.is_local or os.path.isdir(rem.url.path):
        return
    if create:
        os.makedirs(rem.url.path, exist_ok=True)
        return
    fix = f"fix its path (gitml remote modify {rem.name} url PATH)"
    raise RemoteError(
        f"data remote {rem.name!r} is a folder that does not exist: {rem.url.path}",
        f"{fix}, or mount it" if reading else f"{fix}, or create it with gitml push --create",
    )


def pointers_for(ctx: RepoContext, targets: list[str], *, all_commits: bool) -> dict[str, Pointer]:
    """Pointers whose data a command concerns, keyed by a label for messages."""
    out = pointers_in_history(ctx, None) if all_commits else {}
    for tracked in resolve_targets(ctx, targets):
        out[tracked + POINTER_SUFFIX] = read_pointer(ctx, tracked)
    return out


def pointers_in_history(
    ctx: RepoContext, revs: list[str] | None, *, warn: bool = True, tips: Iterable[str] = ()
) -> dict[str, Pointer]:
    """Every pointer blob reachable from ``revs`` (None: all refs) and the commit
    ids ``tips``, labelled ``name@<blob sha>``: one ``rev-list`` and one batched
    blob read."""
    out: dict[str, Pointer] = {}
    blobs = blobs_in_history(ctx.git, POINTER_SUFFIX, revs, tips=tips)
    data = ctx.git.read_blobs(blobs)
    for sha, name in blobs.items():
        try:
            out[f"{name}@{sha[:8]}"] = parse_pointer(data[sha], source=name)
        except GitmlError:
            if warn:
                ctx.reporter.warning(f"skipped malformed pointer {name} ({sha[:8]})")
    return out


def expand(ctx: RepoContext, pointers: dict[str, Pointer]) -> tuple[dict[str, str], list[str]]:
    """oid → label of every object the pointers need; labels of manifests not local."""
    needed: dict[str, str] = {}
    missing: list[str] = []
    for label, p in pointers.items():
        needed.setdefault(p.oid, label)
        if p.kind != "dir":
            continue
        if not ctx.store.has(p.oid):
            missing.append(label)
            continue
        for entry in decode_manifest(ctx.store.read_bytes(p.oid), source=label):
            needed.setdefault(entry.oid, f"{tracked_name(label.split('@')[0])}/{entry.path}")
    return needed, missing


def _raise_failed(result: TransferResult, needed: dict[str, str], what: str, hint: str) -> None:
    if result.failed:
        names = ", ".join(needed.get(o, o[:12]) for o in list(result.failed)[:5])
        message = f"{len(result.failed)} objects {what}: {names}"
        chunky = next((r for r in result.failed.values() if r.startswith("chunk")), None)
        if chunky is not None:  # a chunked file: say which chunk (or list) is the problem
            message += f" ({chunky})"
            if "remote" in chunky:
                hint = (
                    "gitml fsck --cloud names what is wrong on the remote; a gitml push "
                    "from a clone that has the file sends it again"
                )
        raise RemoteError(message, hint)


def download_for(
    ctx: RepoContext, rem: Remote, pointers: dict[str, Pointer], jobs: int
) -> tuple[TransferResult, dict[str, str], list[str]]:
    """Two phases: the pointers' own objects (files and manifests), then what
    the manifests list. Everything is verified before it enters the cache."""
    first = rem.download(
        ctx.store, sorted({p.oid for p in pointers.values()}), jobs=jobs, reporter=ctx.reporter
    )
    needed, missing = expand(ctx, pointers)
    second = rem.download(ctx.store, sorted(needed), jobs=jobs, reporter=ctx.reporter)
    second.failed.update(first.failed)
    second.transferred += first.transferred
    second.bytes += first.bytes
    return second, needed, missing


def push(
    ctx: RepoContext,
    targets: list[str],
    *,
    remote: str | None,
    jobs: int,
    all_commits: bool = False,
    create: bool = False,
) -> SyncResult:
    rem = remote_for(ctx, remote)
    try:
        check_folder_exists(rem, create=create)
        needed, missing = expand(ctx, pointers_for(ctx, targets, all_commits=all_commits))
        result = rem.upload(ctx.store, sorted(needed), jobs=jobs, reporter=ctx.reporter)
    finally:
        rem.close()
    _raise_failed(
        result, needed, "were not pushed", "gitml fsck finds corrupt or missing local objects"
    )
    return SyncResult(rem.name or "", result, missing_manifests=missing)


def fetch(
    ctx: RepoContext,
    targets: list[str],
    *,
    remote: str | None,
    jobs: int,
    all_commits: bool = False,
    check: bool = True,
) -> SyncResult:
    """Download what the pointers need. ``check``: raise when objects could not
    be fetched (else the caller looks elsewhere, then :func:`raise_unfetched`)."""
    rem = remote_for(ctx, remote)
    try:
        check_folder_exists(rem, create=False, reading=True)
        pointers = pointers_for(ctx, targets, all_commits=all_commits)
        result, needed, missing = download_for(ctx, rem, pointers, jobs)
    finally:
        rem.close()
    if check:
        raise_unfetched(result, needed)
    return SyncResult(rem.name or "", result, missing_manifests=missing)


def raise_unfetched(result: TransferResult, needed: dict[str, str]) -> None:
    _raise_failed(
        result,
        needed,
        "could not be fetched",
        "they may not have been pushed yet: ask their author to gitml push",
    )


def git_remote_for(ctx: RepoContext, data_remote: str) -> str | None:
    """The git remote that carries tags and notes for ``data_remote``."""
    from gitml.git.transport import choose_git_remote

    config = ctx.config.remotes.get(data_remote)
    return choose_git_remote(ctx.git, (config.git_remote if config else None) or data_remote)


def push_git_side(ctx: RepoContext, data_remote: str) -> list[str]:
    """Push registry tags and the notes ref with git (never branches).

    A ref the git remote refuses is an error naming it and what to do: a tag
    that exists there with another commit is a version another clone
    registered first; notes that moved there are merged by ``gitml pull``."""
    from gitml.git.notes import NOTES_REF
    from gitml.git.transport import push_refs

    remote = git_remote_for(ctx, data_remote)
    if remote is None:
        return []
    # Explicit refspecs: a glob that matches nothing makes git push fail.
    specs = [f"{ref}:{ref}" for ref in ctx.git.list_refs("refs/tags/")]
    # Pointers of registered versions made with DVC (interop/versions.py).
    specs += [f"{ref}:{ref}" for ref in ctx.git.list_refs(CONVERTED_PREFIX)]
    if ctx.git.try_rev_parse(NOTES_REF) is not None:
        specs.append(f"{NOTES_REF}:{NOTES_REF}")
    if not specs:
        return []
    os.environ["GITML_PUSHING"] = "1"  # our own pre-push hook has nothing left to do
    try:
        results = push_refs(ctx.git, remote, specs)
    finally:
        os.environ.pop("GITML_PUSHING", None)
    rejected = [r for r in results if not r.ok]
    if rejected:
        raise _push_rejected(remote, [(r.destination, r.summary) for r in rejected])
    return [f"tags and notes → {remote}"]


def _push_rejected(remote: str, refs: list[tuple[str, str]]) -> RefsRejectedError:
    tags = [ref.removeprefix("refs/tags/") for ref, _why in refs if ref.startswith("refs/tags/")]
    others = [ref for ref, _why in refs if not ref.startswith("refs/tags/")]
    if tags:
        what = ", ".join(tags[:3]) + (f" and {len(tags) - 3} more" if len(tags) > 3 else "")
        verb = "exists" if len(tags) == 1 else "exist"
        message = f"{what} already {verb} on {remote} with another commit: "
        message += "gitml pull, then register again"
        if others:
            message += f" (also refused: {', '.join(others)})"
        hint = (
            "another clone registered that version first; after gitml pull shows the "
            "conflict, keep theirs with git tag -d TAG && gitml pull, then gitml register"
        )
    else:
        message = f"{remote} refused {', '.join(others)}: {refs[0][1] or 'rejected'}"
        hint = "gitml pull (merges the notes), then gitml push again"
    return RefsRejectedError(message, hint, refs=refs)


def fetch_git_side(ctx: RepoContext, data_remote: str) -> list[str]:
    """Fetch registry tags and notes; merge notes without losing local ones.

    The notes refspec is a pattern, so a remote without notes (commits made
    without gitml's hooks) is not an error. A tag git refuses to overwrite is
    named with git's reason: the same version registered by two clones."""
    from gitml.git.notes import NOTES_REF, merge_remote_notes, remote_notes_ref
    from gitml.git.transport import fetch_refs

    remote = git_remote_for(ctx, data_remote)
    if remote is None:
        return []
    try:
        fetch_refs(
            ctx.git,
            remote,
            [
                "refs/tags/*:refs/tags/*",
                f"{CONVERTED_PREFIX}*:{CONVERTED_PREFIX}*",
                f"+{NOTES_REF}*:{remote_notes_ref(remote)}*",
            ],
        )
    except RefsRejectedError as exc:
        raise _fetch_rejected(remote, exc.refs) from None
    try:
        merge_remote_notes(ctx.git, remote)
    except GitmlError as exc:
        ctx.reporter.warning(f"notes from {remote} not merged: {exc.message}")
    return [f"tags and notes ← {remote}"]


def _fetch_rejected(remote: str, refs: list[tuple[str, str]]) -> RefsRejectedError:
    ref, why = refs[0]
    tag = ref.removeprefix("refs/tags/")
    more = f" (and {len(refs) - 1} more)" if len(refs) > 1 else ""
    return RefsRejectedError(
        f"git fetch from {remote!r} refused tag {tag}: {why}{more}",
        f"your tag {tag} and {remote}'s point to different commits (the same version "
        f"registered twice); keep {remote}'s: git tag -d {tag} && gitml pull, then "
        "gitml register your model again",
        refs=refs,
    )


@dataclass
class RemoteStatus:
    remote: str
    not_pushed: dict[str, str] = field(default_factory=dict)  # oid → who needs it
    not_fetched: dict[str, str] = field(default_factory=dict)
    total: int = 0


def remote_status(
    ctx: RepoContext, targets: list[str], *, remote: str | None, jobs: int
) -> RemoteStatus:
    """What the workspace pointers need that the remote lacks, and the other way."""
    rem = remote_for(ctx, remote)
    try:
        needed, _missing = expand(ctx, pointers_for(ctx, targets, all_commits=False))
        present = rem.present(sorted(needed), jobs=jobs)
    finally:
        rem.close()
    out = RemoteStatus(rem.name or "", total=len(needed))
    for oid, label in needed.items():
        local = ctx.store.has(oid)
        if local and oid not in present:
            out.not_pushed[oid] = label
        elif not local and oid in present:
            out.not_fetched[oid] = label
    return out


def fetch_missing(ctx: RepoContext, pointers: dict[str, Pointer]) -> int:
    """Download what these pointers need and the cache lacks, from the default
    remote, so that checking out any version works from the remote alone.
    Returns the number of objects fetched (0 when nothing was missing)."""
    if not ctx.config.remotes:
        return 0
    needed, missing = expand(ctx, pointers)
    if not missing and all(ctx.store.has(oid) for oid in needed):
        return 0
    rem = remote_for(ctx, None)
    try:
        result, _needed, _missing = download_for(ctx, rem, pointers, ctx.config.jobs)
    finally:
        rem.close()
    return len(result.transferred)
