"""Keeping a cache and a remote tidy and honest: gc and fsck, local and remote.

Roots for gc are computed from pointers (workspace, index, HEAD's history and
all tags; every ref with ``all_commits``), so a registry version is never
collected. fsck re-hashes; corrupt objects are quarantined, never deleted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from gitml.context import RepoContext
from gitml.errors import RemoteError
from gitml.remotes.roots import gc_roots
from gitml.remotes.workflow import expand, pointers_for, remote_for
from gitml.store.manifest import decode_manifest
from gitml.workspace.pointer import Pointer

GRACE_SECONDS = 3600.0  # objects younger than this survive gc: a concurrent add or push


@dataclass
class FsckResult:
    checked: int
    corrupt: dict[str, str] = field(default_factory=dict)  # oid → who needs it
    missing: dict[str, str] = field(default_factory=dict)
    restored: list[str] = field(default_factory=list)  # good objects back from quarantine
    problems: list[str] = field(default_factory=list)  # the cache's own layout (store)

    @property
    def ok(self) -> bool:
        return not self.corrupt and not self.missing and not self.problems


def fsck(ctx: RepoContext) -> FsckResult:
    """Re-hash every cache object; quarantine corrupt ones; name who needs them."""
    needed, _ = expand(ctx, pointers_for(ctx, [], all_commits=False))
    store = ctx.store
    problems = store.layout_problems()
    restored = store.restore_quarantined()  # quarantined, yet its bytes match its name
    oids = list(store.iter_oids())
    result = FsckResult(checked=len(oids), restored=restored, problems=problems)
    ctx.reporter.start("fsck", len(oids))
    for oid in oids:
        if not store.verify(oid):
            store.quarantine(oid)
            result.corrupt[oid] = needed.get(oid, "no current pointer")
        ctx.reporter.advance("fsck")
    ctx.reporter.done("fsck")
    for oid, label in needed.items():
        if oid not in result.corrupt and not store.has(oid):
            result.missing[oid] = label
    return result


@dataclass
class GcResult:
    removed: list[str] = field(default_factory=list)
    kept_recent: int = 0
    bytes: int = 0


def gc(
    ctx: RepoContext,
    *,
    all_commits: bool,
    dry_run: bool,
    workspace_only: bool = False,
    grace_seconds: float = GRACE_SECONDS,
) -> GcResult:
    """Remove cache objects no kept revision needs (see :func:`gc_roots`).
    Objects younger than the grace period are kept (a concurrent add)."""
    needed = gc_roots(ctx, all_commits=all_commits, workspace_only=workspace_only)
    out = GcResult()
    now = time.time()
    for oid in list(ctx.store.iter_oids()):
        if oid in needed:
            continue
        path = ctx.store.object_path(oid)
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        if now - st.st_mtime < grace_seconds:
            out.kept_recent += 1
            continue
        out.removed.append(oid)
        out.bytes += st.st_size
        if not dry_run:
            ctx.store.remove(oid)
    return out


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

    from gitml.store.objects import ObjectStore

    pointers = pointers_for(ctx, [], all_commits=all_commits)
    needed, _missing = expand(ctx, pointers)
    sizes = _sizes(ctx, pointers)
    rem = remote_for(ctx, remote)
    try:
        found = rem.stat_many(sorted(needed), jobs=ctx.config.jobs)
        result = FsckResult(checked=len(needed))
        for oid, size in found.items():
            if size is None:
                result.missing[oid] = needed[oid]
            elif sizes.get(oid, -1) >= 0 and size != sizes[oid]:
                result.corrupt[oid] = needed[oid]
        if verify:
            with tempfile.TemporaryDirectory(dir=ctx.gitml_dir) as scratch:
                probe = rem.download(
                    ObjectStore(Path(scratch)),
                    [o for o in needed if o not in result.missing],
                    jobs=ctx.config.jobs,
                    reporter=ctx.reporter,
                )
            for oid in probe.failed:
                result.corrupt[oid] = needed.get(oid, oid)
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
) -> GcResult:
    """Delete remote objects that no kept revision needs (same roots as local gc).

    Objects written less than ``grace_seconds`` ago are kept, as in the cache:
    another clone may have pushed them for a commit we have not fetched yet. An
    object whose backend gives no time counts as new (kept): gc only ever errs
    on the side of keeping."""
    needed = gc_roots(ctx, all_commits=all_commits, workspace_only=workspace_only)
    rem = remote_for(ctx, remote)
    out = GcResult()
    now = time.time()
    try:
        listed = rem.list_times(jobs=ctx.config.jobs)
        for oid in sorted(listed.keys() - needed.keys()):
            size, mtime = listed[oid]
            if mtime is None or now - mtime < grace_seconds:
                out.kept_recent += 1
                continue
            out.removed.append(oid)
            out.bytes += size
        if out.removed and not dry_run:
            result = rem.delete(out.removed, jobs=ctx.config.jobs)
            if result.failed:
                raise RemoteError(f"{len(result.failed)} remote objects could not be deleted")
    finally:
        rem.close()
    return out
