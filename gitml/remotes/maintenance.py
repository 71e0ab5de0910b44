"""Keeping a cache and a remote tidy and honest: gc and fsck, local and remote.

Roots for gc are every ref, stash, recent reflog entry, index and worktree
(:mod:`gitml.remotes.roots`); a shared cache is collected with the roots of
every repository recorded as using it (:mod:`gitml.cache_users`), a
remote with those of the refs on its git remote. What would go is named
(:mod:`gitml.remotes.losses`). fsck re-hashes; corrupt objects are quarantined,
never deleted; ``fsck --cloud`` also checks each pack's size against its index.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitml.cache_users import REPOS, CacheUser, forget_user, recorded_users
from gitml.context import RepoContext
from gitml.errors import (
    GitmlError,
    NotARepoError,
    ObjectMissingError,
    RefusedError,
    RemoteError,
    UnconfirmedDeleteError,
)
from gitml.remotes.losses import Loss, name_losses
from gitml.remotes.roots import gc_roots
from gitml.remotes.workflow import expand, git_remote_for, pointers_for, remote_for
from gitml.store import chunkgc, chunkread
from gitml.store.chunks import remove_entry
from gitml.store.manifest import decode_manifest
from gitml.workspace.pointer import Pointer

if TYPE_CHECKING:
    from gitml.remotes.remote import Remote
    from gitml.store.objects import ObjectStore

GC_REMOTE_REFS = "refs/gitml/gc-remote"  # where remote gc fetches the git remote's refs
GRACE_SECONDS = 3600.0  # objects younger than this survive gc: a concurrent add or push


@dataclass
class FsckResult:
    checked: int
    corrupt: dict[str, str] = field(default_factory=dict)  # oid → who needs it
    missing: dict[str, str] = field(default_factory=dict)
    damaged_packs: dict[str, str] = field(default_factory=dict)  # remote: pack id → what is wrong
    restored: list[str] = field(default_factory=list)  # good objects back from quarantine
    problems: list[str] = field(default_factory=list)  # the cache's own layout (store)

    @property
    def ok(self) -> bool:
        return (
            not self.corrupt and not self.missing and not self.damaged_packs and not self.problems
        )


def fsck(ctx: RepoContext) -> FsckResult:
    """Re-hash every cache object; quarantine corrupt ones; name who needs them."""
    needed, _ = expand(ctx, pointers_for(ctx, [], all_commits=False))
    store = ctx.store
    problems = store.layout_problems()
    restored = store.restore_quarantined()  # quarantined, yet its bytes match its name
    oids = list(store.iter_oids())
    chunk_of = chunkgc.labels(store, needed)  # a damaged chunk is named with its file
    result = FsckResult(checked=len(oids), restored=restored, problems=problems)
    ctx.reporter.start("fsck", len(oids))
    for oid in oids:
        if not store.verify(oid):
            store.quarantine(oid)
            result.corrupt[oid] = needed.get(oid) or chunk_of.get(oid, "no current pointer")
        ctx.reporter.advance("fsck")
    ctx.reporter.done("fsck")
    for oid, label in needed.items():
        if oid not in result.corrupt and not store.has(oid):
            result.missing[oid] = label
        elif oid not in result.corrupt:
            _check_chunked(store, oid, label, result)
    return result


def _check_chunked(store: ObjectStore, oid: str, label: str, result: FsckResult) -> None:
    """A needed file stored as chunks: its list, every chunk, and the whole-file
    hash they rebuild (a list in the wrong order has intact chunks)."""
    try:
        clist = store.chunk_list(oid, label)
        if clist is not None:
            chunkread.verify(store, clist, label)
    except ObjectMissingError as exc:
        result.missing[oid] = f"{label}: {exc.message}"
    except GitmlError as exc:
        result.corrupt[oid] = f"{label}: {exc.message}"


@dataclass
class GcResult:
    removed: list[str] = field(default_factory=list)
    kept_recent: int = 0
    bytes: int = 0
    lost: list[Loss] = field(default_factory=list)  # each removed object, who named it
    unbacked: list[str] = field(default_factory=list)  # removed, and no data remote holds it
    repositories: list[str] = field(default_factory=list)  # whose roots were kept
    forgotten: list[str] = field(default_factory=list)  # records dropped (--forget-missing)
    orphan_packs: int = 0  # remote: .pack files a killed push left, removed


def gc(
    ctx: RepoContext,
    *,
    all_commits: bool,
    dry_run: bool,
    workspace_only: bool = False,
    grace_seconds: float = GRACE_SECONDS,
    allow_unbacked: bool = False,
    only: Collection[str] | None = None,
    forget_missing: bool = False,
) -> GcResult:
    """Remove cache objects no root needs (see :func:`gc_roots`), with the roots
    of every repository recorded as sharing the cache. Objects younger than the
    grace period are kept (a concurrent add). Deleting objects that no data
    remote holds needs ``allow_unbacked`` (else :class:`RefusedError`); ``only``
    limits the deletes to what a preview showed the user."""
    out = GcResult()
    needed = _local_roots(ctx, all_commits, workspace_only)
    out.repositories.append(str(ctx.root))
    for other in _other_users(ctx, out, forget_missing):
        try:
            needed.update(_local_roots(other, all_commits, workspace_only))
            out.repositories.append(str(other.root))
        finally:
            other.close()
            other.git.close()
    croots = chunkgc.roots(ctx.store, needed, grace_seconds)
    for oid, label in croots.keep.items():
        needed.setdefault(oid, label)
    if only is not None:  # a removable chunked file brings the chunks only it needs
        only = set(only).union(*(croots.owned.get(o, ()) for o in only))
    sizes = _collectable(ctx, needed, grace_seconds, out, only)
    parts = _fold_chunked(sizes, croots.owned, only)
    out.lost = name_losses(ctx, sizes)
    held = _held_on_remotes(ctx, list(sizes))
    for loss in out.lost:
        loss.on_remote = loss.oid in held
    out.removed = [loss.oid for loss in out.lost]
    out.bytes = sum(sizes.values())
    out.unbacked = [oid for oid in out.removed if oid not in held]
    if out.unbacked and not dry_run and not allow_unbacked:
        raise UnconfirmedDeleteError(
            f"gc would delete {len(out.unbacked)} objects that no data remote holds: "
            "they would be lost for good",
            "gitml gc --dry-run lists them; gitml push first, or confirm with gitml gc --yes",
            preview=out,
        )
    if not dry_run:
        for oid in out.removed:
            if oid in parts:  # the index entry first: it never names a chunk that is gone
                remove_entry(ctx.store.root, oid)
                for part in sorted(parts[oid]):
                    ctx.store.remove(part)
            ctx.store.remove(oid)
    return out


def _fold_chunked(
    sizes: dict[str, int], owned: dict[str, set[str]], only: Collection[str] | None
) -> dict[str, set[str]]:
    """The chunk objects of removable chunked files become one entry per file in
    ``sizes`` (the file is what a user loses, and what a remote may hold); returns
    file oid -> the objects removing it deletes."""
    parts: dict[str, set[str]] = {}
    for file_oid, objects in sorted(owned.items()):
        if only is not None and file_oid not in only:
            continue
        mine = {o for o in objects if o in sizes}
        parts[file_oid] = mine
        sizes[file_oid] = sizes.get(file_oid, 0) + sum(sizes.pop(o) for o in mine)
    return parts


def _local_roots(ctx: RepoContext, all_commits: bool, workspace_only: bool) -> dict[str, str]:
    """Roots of one repository; a missing manifest is fetched from the default remote."""
    opened: list[Remote] = []

    def default_remote() -> Remote | None:
        if not ctx.config.remotes:
            return None
        try:
            opened.append(remote_for(ctx, None))
        except GitmlError:
            return None
        return opened[-1]

    try:
        return gc_roots(
            ctx,
            all_commits=all_commits,
            workspace_only=workspace_only,
            manifests_from=default_remote,
        )
    finally:
        for rem in opened:
            rem.close()


def _other_users(ctx: RepoContext, out: GcResult, forget_missing: bool) -> list[RepoContext]:
    """Open every other repository recorded as using this cache. A record whose
    repository is gone makes gc refuse, unless ``forget_missing`` drops it."""
    from gitml.context import open_repo

    cache = ctx.config.cache_dir
    users, bad = recorded_users(cache)
    if bad:
        raise RefusedError(
            f"the shared cache {cache} has unreadable repository records: {', '.join(bad[:3])}",
            f"remove them from {cache / REPOS} once you know which repositories use the cache",
        )
    here = os.path.realpath(ctx.git.common_dir)
    opened: list[RepoContext] = []
    missing: list[CacheUser] = []
    try:
        for user in users:
            if os.path.realpath(user.git_dir) == here:
                continue
            try:
                other = open_repo(user.root)
            except NotARepoError:
                missing.append(user)
                continue
            if os.path.realpath(other.git.common_dir) != os.path.realpath(user.git_dir):
                other.git.close()
                missing.append(user)
                continue
            if not _same_folder(other.config.cache_dir, cache):
                other.git.close()  # it moved to another cache: nothing here is its
                continue
            opened.append(other)
    except BaseException:
        for other in opened:
            other.git.close()
        raise
    if missing and not forget_missing:
        for other in opened:
            other.git.close()
        names = ", ".join(str(u.root) for u in missing[:3])
        raise RefusedError(
            f"the cache {cache} is shared, and {len(missing)} repositories recorded as using "
            f"it cannot be opened: {names}",
            "restore them, or gitml gc --forget-missing to collect without their roots",
        )
    for user in missing:
        forget_user(cache, user)
        out.forgotten.append(str(user.root))
    return opened


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _collectable(
    ctx: RepoContext,
    needed: dict[str, str],
    grace_seconds: float,
    out: GcResult,
    only: Collection[str] | None,
) -> dict[str, int]:
    """oid → size of the cache objects no root needs and older than the grace period."""
    now = time.time()
    sizes: dict[str, int] = {}
    allowed = None if only is None else set(only)
    for oid in ctx.store.iter_oids():
        if oid in needed or (allowed is not None and oid not in allowed):
            continue
        try:
            st = ctx.store.object_path(oid).stat()
        except FileNotFoundError:
            continue
        if now - st.st_mtime < grace_seconds:
            out.kept_recent += 1
            continue
        sizes[oid] = st.st_size
    return sizes


def _held_on_remotes(ctx: RepoContext, oids: list[str]) -> set[str]:
    """Which of ``oids`` some configured data remote holds (an unreachable remote holds none)."""
    from gitml.remotes.remote import Remote

    held: set[str] = set()
    for config in ctx.config.remotes.values():
        todo = [o for o in oids if o not in held]
        if not todo:
            break
        try:
            rem = Remote.from_config(config, base=ctx.root)
        except GitmlError as exc:
            ctx.reporter.warning(f"data remote {config.name}: {exc.message}")
            continue
        try:
            held |= rem.present(todo, jobs=ctx.config.jobs)
        except GitmlError as exc:
            ctx.reporter.warning(f"data remote {config.name} not checked: {exc.message}")
        finally:
            rem.close()
    return held


def _sizes(ctx: RepoContext, pointers: dict[str, Pointer]) -> dict[str, int]:
    """Expected size of every object the pointers need (manifests: unknown, -1)."""
    sizes: dict[str, int] = {}
    for p in pointers.values():
        sizes[p.oid] = p.size if p.kind == "file" else -1
        if p.kind == "dir" and ctx.store.has(p.oid):
            for entry in decode_manifest(ctx.store.read_bytes(p.oid), source=p.path):
                sizes[entry.oid] = entry.size
    return sizes


def fsck_remote(
    ctx: RepoContext, *, remote: str | None, verify: bool, all_commits: bool
) -> FsckResult:
    """Every object the pointers need must be on the remote with the right size;
    with ``verify`` its bytes are downloaded (into a scratch store) and hashed."""
    import tempfile

    from gitml.remotes.chunked import check_files
    from gitml.store.objects import ObjectStore

    pointers = pointers_for(ctx, [], all_commits=all_commits)
    needed, _missing = expand(ctx, pointers)
    sizes = _sizes(ctx, pointers)
    rem = remote_for(ctx, remote)
    try:
        found = rem.stat_many(sorted(needed), jobs=ctx.config.jobs)
        rem.ensure_packs_loaded(jobs=ctx.config.jobs)
        result = FsckResult(checked=len(needed))
        for pack_id, damaged in rem.damaged_packs.items():
            result.damaged_packs[pack_id] = (
                damaged.describe() + "; gitml push sends its objects again"
            )
        entries = rem.load_chunk_entries() if any(s is None for s in found.values()) else set()
        as_chunks = {o: needed[o] for o, size in found.items() if size is None and o in entries}
        for oid, size in found.items():
            if size is None and oid not in as_chunks:
                result.missing[oid] = needed[oid]
            elif size is not None and sizes.get(oid, -1) >= 0 and size != sizes[oid]:
                result.corrupt[oid] = needed[oid]
        if as_chunks:  # stored as chunks: the list and every chunk it names
            checked = check_files(rem, as_chunks, sizes, ctx.config.jobs)
            result.missing.update(checked.missing)
            result.corrupt.update(checked.corrupt)
        if verify:
            with tempfile.TemporaryDirectory(dir=ctx.gitml_dir) as scratch:
                probe = rem.download(
                    ObjectStore(Path(scratch)),
                    [o for o in needed if o not in result.missing],
                    jobs=ctx.config.jobs,
                    reporter=ctx.reporter,
                )
            for oid, why in probe.failed.items():
                label = needed.get(oid, oid)
                if oid in as_chunks:  # the reason names the chunk
                    result.corrupt.setdefault(oid, f"{label}: {why}")
                else:
                    result.corrupt[oid] = label
    finally:
        rem.close()
    return result


def gc_remote(
    ctx: RepoContext,
    *,
    remote: str | None,
    all_commits: bool,
    dry_run: bool,
    workspace_only: bool = False,
    grace_seconds: float = GRACE_SECONDS,
    only: Collection[str] | None = None,
) -> GcResult:
    """Delete remote objects that no root needs, with the roots of this clone
    *and* of the refs on the git remote (fetched first into
    ``refs/gitml/gc-remote/<git remote>/``): another clone's branch is as live
    as ours. Refuses when those refs cannot be seen.

    Objects written less than ``grace_seconds`` ago are kept, as in the cache:
    another clone may have pushed them for a commit not pushed to git yet. An
    object whose backend gives no time counts as new (kept): gc only ever errs
    on the side of keeping."""
    from gitml.remotes.chunked import delete_entries, remote_roots

    rem = remote_for(ctx, remote)
    out = GcResult()
    now = time.time()
    try:
        fetch_remote_refs(ctx, rem.name)
        needed = gc_roots(
            ctx, all_commits=all_commits, workspace_only=workspace_only, manifests_from=lambda: rem
        )
        out.repositories.append(str(ctx.root))
        croots = remote_roots(rem, needed, grace_seconds, now, ctx.config.jobs)
        for oid, label in croots.keep.items():
            needed.setdefault(oid, label)
        out.kept_recent += croots.young
        if only is not None:  # a removable chunked file brings the chunks only it needs
            only = set(only).union(*(croots.owned.get(o, ()) for o in only))
        listed = rem.list_times(jobs=ctx.config.jobs)
        sizes: dict[str, int] = {}
        allowed = None if only is None else set(only)
        for oid in sorted(listed.keys() - needed.keys()):
            size, mtime = listed[oid]
            if allowed is not None and oid not in allowed:
                continue
            if mtime is None or now - mtime < grace_seconds:
                out.kept_recent += 1
                continue
            sizes[oid] = size
        parts = _fold_chunked(sizes, croots.owned, only)
        out.lost = name_losses(ctx, sizes)
        out.removed = [loss.oid for loss in out.lost]
        out.bytes = sum(sizes.values())
        if not dry_run:
            entries = [oid for oid in out.removed if oid in parts]
            if entries:  # the entries first: an entry never names a chunk that is gone
                delete_entries(rem, entries)
            doomed = sorted({*out.removed, *(p for oid in entries for p in parts[oid])})
            if doomed:
                result = rem.delete(doomed, jobs=ctx.config.jobs)
                if result.failed:
                    raise RemoteError(f"{len(result.failed)} remote objects could not be deleted")
            out.orphan_packs = _remove_orphan_packs(rem, now)
    finally:
        rem.close()
    return out


ORPHAN_PACK_AGE = 86400.0  # a .pack without index older than this is a killed push's


def _remove_orphan_packs(rem: Remote, now: float) -> int:
    """Delete ``.pack`` files that never got an index (a push killed between the
    two writes) once they are a day old: nothing can read them."""
    from gitml.remotes.packs import pack_key

    old = [p for p, t in rem.orphan_packs.items() if t is not None and now - t > ORPHAN_PACK_AGE]
    if old:
        rem.backend.retrier(lambda: rem.backend.delete([pack_key(p) for p in old]))
    return len(old)


def fetch_remote_refs(ctx: RepoContext, data_remote: str) -> str:
    """Fetch every ref of the git remote paired with ``data_remote`` into a private
    namespace (``refs/gitml/gc-remote/<remote>/``, pruned), so they are roots.
    Refuses when there is no such remote, the fetch fails or history is shallow."""
    from gitml.git.refs import is_shallow
    from gitml.git.transport import fetch_refs

    git_remote = git_remote_for(ctx, data_remote)
    if git_remote is None:
        raise RefusedError(
            f"remote gc needs the branches and tags on the git remote of data remote "
            f"{data_remote!r}, and this repository has no matching git remote",
            f"git remote add origin URL, or set remote.{data_remote}.git_remote in "
            ".gitml/config.toml; then gc again",
        )
    if is_shallow(ctx.git):
        raise RefusedError(
            "remote gc cannot run from a shallow clone: the data of older commits would "
            "look unneeded",
            "git fetch --unshallow, then gc again",
        )
    try:
        fetch_refs(ctx.git, git_remote, [f"+refs/*:{GC_REMOTE_REFS}/{git_remote}/*"], prune=True)
    except RemoteError as exc:
        raise RefusedError(
            f"remote gc cannot see the refs on git remote {git_remote!r}: {exc.message}",
            "remote gc keeps what every branch and tag there needs, so it must read them; "
            "check the connection and run it again",
        ) from None
    return git_remote
