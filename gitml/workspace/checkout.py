"""``gitml checkout``: bring workspace data in line with a pointer.

Plan first, write second: every object must be present and no file holding
unsaved work (content not in the cache) may be overwritten or deleted, unless
``force``. Only then are files written, never through a symlinked parent: a
new name straight away (O_EXCL), an existing file through a temp file and a
rename. A journal names what is being written, so whatever a killed checkout
left half done (temp files, unfinished files of mode 000) is removed by the
next one before it plans; see gitml.workspace.materialize.
"""

from __future__ import annotations

import gc
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from gitml.context import RepoContext
from gitml.errors import ObjectMissingError, WorkspaceConflictError
from gitml.workspace.compare import Sized, load_entries
from gitml.workspace.materialize import Folders, finish_journal, recover, write_journal
from gitml.workspace.pointer import Pointer, pointer_name
from gitml.workspace.scan import observe, record_checkout, restat_chmodded
from gitml.workspace.writeout import write_files


@dataclass(frozen=True, slots=True)
class Target:
    """One thing to materialise: a tracked path's pointer, maybe only a part of it."""

    tracked: str
    pointer: Pointer
    source: str  # "workspace" or the revision it came from
    subpath: str = ""  # relative to the tracked dir; "" = all


@dataclass
class CheckoutResult:
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)  # only when not applied


@dataclass
class _Plan:
    target: Target
    writes: dict[str, Sized] = field(default_factory=dict)  # rel → object
    deletes: list[str] = field(default_factory=list)
    chmods: dict[str, bool] = field(default_factory=dict)
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    replace_top: bool = False  # --force: a file stands where a folder goes, or back


def _full(tracked: str, rel: str) -> str:
    return f"{tracked}/{rel}" if rel else tracked


def _in_subset(rel: str, subpath: str) -> bool:
    return not subpath or rel == subpath or rel.startswith(subpath + "/")


def plan(ctx: RepoContext, target: Target, *, force: bool) -> _Plan:
    tracked, pointer = target.tracked, target.pointer
    wanted = load_entries(ctx, pointer, tracked, target.source)
    if target.subpath:
        wanted = {rel: s for rel, s in wanted.items() if _in_subset(rel, target.subpath)}
    absent = set(ctx.store.missing([s.oid for s in wanted.values()]))
    missing = [_full(tracked, rel) for rel, s in wanted.items() if s.oid in absent]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise ObjectMissingError(
            f"not in the cache: {', '.join(missing[:5])}{more} (needed by {pointer_name(tracked)})",
            "gitml pull",
        )
    current = observe(ctx, tracked)
    result = _Plan(target)
    have = current.files if current.exists and current.is_dir == (pointer.kind == "dir") else {}
    if current.exists and current.is_dir != (pointer.kind == "dir"):
        # A file where a folder should be, or the other way round.
        if not force:
            result.conflicts.append(tracked)
            return result
        result.replace_top = True
    for rel, want in wanted.items():
        cur = have.get(rel)
        if cur is not None and cur.oid == want.oid:
            result.unchanged += 1
            if want.executable != cur.executable and ctx.config.link == "copy":
                result.chmods[rel] = want.executable
            continue
        if cur is not None and not force and not ctx.store.has(cur.oid):
            result.conflicts.append(_full(tracked, rel))
        result.writes[rel] = want
    for rel, cur in have.items():
        if rel in wanted or not _in_subset(rel, target.subpath):
            continue
        if not force and not ctx.store.has(cur.oid):
            result.conflicts.append(_full(tracked, rel))
        result.deletes.append(rel)
    return result


def _remove_empty_parents(root: Path, top: Path, rel_path: str) -> None:
    folder = (top / rel_path).parent
    while folder != top and folder != root:
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = folder.parent


def _journal_record(p: _Plan) -> dict[str, object]:
    pointer = p.target.pointer
    return {
        "tracked": p.target.tracked,
        "kind": pointer.kind,
        "oid": pointer.oid,
        "size": pointer.size,
        "subpath": p.target.subpath,
    }


def apply(ctx: RepoContext, plans: list[_Plan]) -> CheckoutResult:
    out = CheckoutResult()
    root = ctx.root
    write_journal(ctx.gitml_dir, [_journal_record(p) for p in plans])
    total = sum(len(p.writes) for p in plans)
    ctx.reporter.start("checkout", total)
    folders = Folders(root)
    try:
        for p in plans:
            tracked, pointer = p.target.tracked, p.target.pointer
            top = root / tracked
            if p.replace_top:
                if top.is_dir() and not top.is_symlink():
                    shutil.rmtree(top)
                else:
                    top.unlink()
            for rel in p.deletes:
                path = top / rel if rel else top
                path.unlink(missing_ok=True)
                _remove_empty_parents(root, top, rel)
                out.deleted.append(_full(tracked, rel))
            if p.replace_top or p.deletes:
                folders.forget()  # folders may have gone: open them again
            if pointer.kind == "dir" and not p.target.subpath:
                folders.fd(tracked)  # creates the folder, even for an empty tree
            rows = write_files(ctx.store, root, ctx.config.link, tracked, p.writes, ctx.reporter)
            out.written += [row.path for row in rows]
            for rel, executable in p.chmods.items():
                os.chmod(top / rel if rel else top, 0o755 if executable else 0o644)
            out.unchanged += p.unchanged
            ctx.index.drop_paths([_full(tracked, rel) for rel in p.deletes])
            ctx.index.put_many(rows)
            restat_chmodded(ctx, [_full(tracked, rel) for rel in p.chmods])
            wrote = bool(rows or p.deletes or p.chmods or p.replace_top)
            record_checkout(ctx, tracked, pointer.oid, p.target.source, p.target.subpath, wrote)
    finally:
        folders.close()
    ctx.reporter.done("checkout")
    finish_journal(ctx.gitml_dir)
    return out


def checkout(
    ctx: RepoContext, targets: list[Target], *, force: bool = False, dry_run: bool = False
) -> CheckoutResult:
    # A big checkout holds a few hundred thousand long-lived objects without
    # cycles (manifest entries, plans, stat rows); the cyclic GC would walk
    # them again and again (~4% of a 100,000-file checkout).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _checkout(ctx, targets, force=force, dry_run=dry_run)
    finally:
        if collecting:
            gc.enable()


def _checkout(
    ctx: RepoContext, targets: list[Target], *, force: bool, dry_run: bool
) -> CheckoutResult:
    recover(ctx.root, ctx.gitml_dir, ctx.store)
    if not dry_run:
        ctx.index.check_writable()  # fail before writing files it could not record
    plans = [plan(ctx, t, force=force) for t in targets]
    conflicts = [c for p in plans for c in p.conflicts]
    if conflicts and not force:
        more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
        raise WorkspaceConflictError(
            f"would overwrite unsaved changes in {', '.join(conflicts[:5])}{more}",
            "gitml add them to keep them, or use --force to discard them",
        )
    if dry_run:
        out = CheckoutResult()
        for p in plans:
            out.written += [_full(p.target.tracked, r) for r in p.writes]
            out.deleted += [_full(p.target.tracked, r) for r in p.deletes]
            out.unchanged += p.unchanged
        return out
    return apply(ctx, plans)
