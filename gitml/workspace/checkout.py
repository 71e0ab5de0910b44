"""``gitml checkout``: bring workspace data in line with a pointer.

Plan first, write second: every object must be present and no file holding
unsaved work (content not in the cache) may be overwritten or deleted, unless
``force``. Only then are files written, never through a symlinked parent: a
new name straight away (O_EXCL), an existing file through a temp file and a
rename. A journal names what is being written, so whatever a killed checkout
left half done (temp files, unfinished files of mode 000) is removed by the
next one before it plans; see gitml.workspace.materialize.

A target may name another destination (``dest``: ``gitml checkout churn@v3
-o PATH``, the registry's ``.gitml/models`` copies): the same plan, journal
and O_NOFOLLOW writer, rooted at the destination's folder. gitml knows
nothing about the files there, so any other content in the way is a conflict
(``force`` replaces it), nothing there is ever deleted, files are always
copies, and the stat index is not touched.
"""

from __future__ import annotations

import contextlib
import gc
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

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
    dest: Path | None = None  # absolute; written there instead of the workspace (-o PATH)

    def root(self, workspace: Path) -> Path:
        """The folder the writer is rooted at: the workspace, or dest's parent."""
        return workspace if self.dest is None else self.dest.parent

    def name(self) -> str:
        """The path written, relative to :meth:`root`."""
        return self.tracked if self.dest is None else self.dest.name


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


def _check_lengths(root: Path, tracked: str, wanted: dict[str, Sized]) -> None:
    """Refuse, before anything is written, a path longer than the system's
    PATH_MAX: checkout could create it (one folder at a time), but no program
    could open it by name afterwards, gitml's status and add included."""
    try:
        limit = os.pathconf(root if root.is_dir() else "/", "PC_PATH_MAX")
    except (OSError, ValueError):
        limit = 4096
    room = limit - 1 - len(os.fsencode(root)) - 1  # NUL; the "/" after the root
    for rel in wanted:
        full = _full(tracked, rel)
        if len(full) * 4 >= room and len(full.encode("utf-8")) >= room:
            raise UnsafePathError(
                f"{pointer_name(tracked)} names a path of {len(full.encode('utf-8'))} bytes "
                f"({full[:48]}...), longer than this system allows below {root} "
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
    _check_lengths(target.root(ctx.root), target.name(), wanted)
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
    if target.dest is not None:
        return _plan_outside(target, wanted, force=force)
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


def _plan_outside(target: Target, wanted: dict[str, Sized], *, force: bool) -> _Plan:
    """The plan for a ``dest`` target: what is already there is looked at with
    lstat only (never through a symlink), and hashed only where a file stands.

    A symlink or a file where a folder of the version goes, or a folder where
    a file goes, is refused even with ``force`` (nothing outside the workspace
    is removed or written through); other content at a file's path is a
    conflict that ``force`` replaces."""
    from gitml.store.hashing import hash_file

    assert target.dest is not None
    dest = target.dest
    result = _Plan(target)
    kinds: dict[Path, int] = {}  # lstat mode of each path looked at; 0 = missing

    def mode(path: Path) -> int:
        if path not in kinds:
            try:
                kinds[path] = os.lstat(path).st_mode
            except FileNotFoundError:
                kinds[path] = 0
            except NotADirectoryError:
                kinds[path] = 0  # a file further up, reported there
        return kinds[path]

    for rel, want in sorted(wanted.items()):
        path = dest / rel if rel else dest
        for folder in reversed(path.relative_to(dest.parent).parents[:-1]):
            m = mode(dest.parent / folder)
            if stat.S_ISLNK(m):
                raise UnsafePathError(
                    f"refusing to write through symlinked directory {dest.parent / folder}",
                    "replace the symlink with a real directory, or choose another -o PATH",
                )
            if m and not stat.S_ISDIR(m):
                raise WorkspaceConflictError(
                    f"{dest.parent / folder} is a file where a directory is needed",
                    "move it away, or choose another -o PATH",
                )
        m = mode(path)
        if stat.S_ISDIR(m):
            raise WorkspaceConflictError(f"{path} is a folder", "choose another -o PATH")
        if stat.S_ISREG(m) and hash_file(path)[0] == want.oid:
            result.unchanged += 1
            if bool(m & 0o100) != want.executable:
                result.chmods[rel] = want.executable
            continue
        if m and not force:
            result.conflicts.append(str(path))
        result.writes[rel] = want
    return result


def _journal_record(p: _Plan) -> dict[str, object]:
    pointer = p.target.pointer
    record: dict[str, object] = {
        "tracked": p.target.name(),
        "kind": pointer.kind,
        "oid": pointer.oid,
        "size": pointer.size,
        "subpath": p.target.subpath,
    }
    if p.target.dest is not None:
        record["root"] = str(p.target.dest.parent)
    return record


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
            if p.target.dest is None:
                _apply_one(ctx, p, folders, out)
            else:
                _apply_outside(ctx, p, out)
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


def _apply_outside(ctx: RepoContext, p: _Plan, out: CheckoutResult) -> None:
    """Write a ``dest`` target's plan: copies, below its own O_NOFOLLOW root."""
    root, name = p.target.root(ctx.root), p.target.name()
    try:
        root.mkdir(parents=True, exist_ok=True)  # the user named it: -o a/new/folder/model.pkl
    except OSError as exc:
        from gitml.store.fsutil import write_error

        raise write_error(str(root), exc) from None
    folders = Folders(root)
    try:
        if p.target.pointer.kind == "dir" and not p.target.subpath:
            folders.fd(name)
        rows = write_files(ctx.store, root, "copy", name, p.writes, ctx.reporter)
        out.written += [str(root / row.path) for row in rows]
        for rel, executable in p.chmods.items():
            folders.chmod(_full(name, rel), 0o755 if executable else 0o644)
    finally:
        folders.close()
    out.unchanged += p.unchanged


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
    if not dry_run and any(t.dest is None for t in targets):
        ctx.index.check_writable()  # fail before writing files it could not record
    plans = [plan(ctx, t, force=force) for t in targets]
    conflicts = [c for p in plans for c in p.conflicts]
    if conflicts and not force:
        more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
        if all(p.target.dest is not None for p in plans if p.conflicts):
            raise WorkspaceConflictError(
                f"would overwrite {', '.join(conflicts[:5])}{more}",
                "use --force, or another -o PATH",
            )
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
