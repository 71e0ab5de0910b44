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

import contextlib
import gc
import os
from dataclasses import dataclass, field

from gitml.context import RepoContext
from gitml.errors import ObjectMissingError, UnsafePathError, WorkspaceConflictError
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


def _check_lengths(ctx: RepoContext, tracked: str, wanted: dict[str, Sized]) -> None:
    """Refuse, before anything is written, a path longer than the system's
    PATH_MAX: checkout could create it (one folder at a time), but no program
    could open it by name afterwards, gitml's status and add included."""
    try:
        limit = os.pathconf(ctx.root, "PC_PATH_MAX")
    except (OSError, ValueError):
        limit = 4096
    room = limit - 1 - len(os.fsencode(ctx.root)) - 1  # NUL; the "/" after the root
    for rel in wanted:
        full = _full(tracked, rel)
        if len(full) * 4 >= room and len(full.encode("utf-8")) >= room:
            raise UnsafePathError(
                f"{pointer_name(tracked)} names a path of {len(full.encode('utf-8'))} bytes "
                f"({full[:48]}...), longer than this system allows below {ctx.root} "
                f"(PATH_MAX {limit})",
                "check it out in a folder with a shorter path, or fix the pointer",
            )


def plan(ctx: RepoContext, target: Target, *, force: bool) -> _Plan:
    tracked, pointer = target.tracked, target.pointer
    if pointer.kind == "dir" and not ctx.store.has(pointer.oid):
        ctx.store.restore_quarantined([pointer.oid])  # a good manifest there comes back
    wanted = load_entries(ctx, pointer, tracked, target.source)
    if target.subpath:
        wanted = {rel: s for rel, s in wanted.items() if _in_subset(rel, target.subpath)}
    _check_lengths(ctx, tracked, wanted)
    absent = set(ctx.store.missing([s.oid for s in wanted.values()]))
    if absent:  # a good object in quarantine (its bytes match its name) comes back
        absent.difference_update(ctx.store.restore_quarantined(absent))
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
    """Delete, write and chmod what the plans say, every step relative to an
    O_NOFOLLOW folder descriptor (``Folders``). A failure undoes what this run
    left half done (see ``recover``) and removes the journal before it is
    raised, so only a killed checkout ever leaves a journal behind."""
    out = CheckoutResult()
    write_journal(ctx.gitml_dir, [_journal_record(p) for p in plans])
    total = sum(len(p.writes) for p in plans)
    ctx.reporter.start("checkout", total)
    folders = Folders(ctx.root)
    try:
        for p in plans:
            _apply_one(ctx, p, folders, out)
    except BaseException:
        folders.close()
        with contextlib.suppress(Exception):  # the first error is the one to report
            recover(ctx.root, ctx.gitml_dir, ctx.store)
        raise
    folders.close()
    ctx.reporter.done("checkout")
    finish_journal(ctx.gitml_dir)
    return out


def _apply_one(ctx: RepoContext, p: _Plan, folders: Folders, out: CheckoutResult) -> None:
    tracked, pointer = p.target.tracked, p.target.pointer
    if p.replace_top:
        folders.remove(tracked)
    for rel in p.deletes:
        full = _full(tracked, rel)
        folders.unlink(full)
        folders.remove_empty_parents(full, tracked)
        out.deleted.append(full)
    if pointer.kind == "dir" and not p.target.subpath:
        folders.fd(tracked)  # creates the folder, even for an empty tree
    rows = write_files(ctx.store, ctx.root, ctx.config.link, tracked, p.writes, ctx.reporter)
    out.written += [row.path for row in rows]
    for rel, executable in p.chmods.items():
        folders.chmod(_full(tracked, rel), 0o755 if executable else 0o644)
    out.unchanged += p.unchanged
    ctx.index.drop_paths([_full(tracked, rel) for rel in p.deletes])
    ctx.index.put_many(rows)
    restat_chmodded(ctx, [_full(tracked, rel) for rel in p.chmods])
    wrote = bool(rows or p.deletes or p.chmods or p.replace_top)
    record_checkout(ctx, tracked, pointer.oid, p.target.source, p.target.subpath, wrote)


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
