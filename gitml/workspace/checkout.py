"""``gitml checkout``: bring workspace data in line with a pointer.

Plan first, write second: every object must be present and no file holding
unsaved work (content not in the cache) may be overwritten or deleted, unless
``force``. Only then are files written, each through a temp file and a rename
in its own folder, never through a symlinked parent. A kill leaves old files
or new files, never a half-written one under its real name; leftover temp
files are removed by the next checkout (the journal names where to look).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from gitml.context import RepoContext
from gitml.errors import CorruptObjectError, ObjectMissingError, WorkspaceConflictError
from gitml.faults import fault_point
from gitml.safepath import safe_parent
from gitml.store.durable import write_file_atomic
from gitml.store.stat_index import StatRow
from gitml.workspace.compare import Sized, load_entries
from gitml.workspace.pointer import Pointer, pointer_name
from gitml.workspace.scan import observe

_TEMP_RE = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")
JOURNAL = "checkout.journal"


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
    wanted = {rel: s for rel, s in wanted.items() if _in_subset(rel, target.subpath)}
    missing = [_full(tracked, rel) for rel, s in wanted.items() if not ctx.store.has(s.oid)]
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


def _clean_temps(ctx: RepoContext) -> None:
    """Remove temp files a killed checkout left in the folders its journal names."""
    journal = ctx.gitml_dir / JOURNAL
    try:
        roots = journal.read_text("utf-8").splitlines()
    except FileNotFoundError:
        return
    for tracked in roots:
        top = ctx.root / tracked
        parent = top.parent
        candidates = [parent] if parent.is_dir() else []
        if top.is_dir() and not top.is_symlink():
            candidates += [Path(d) for d, _, _ in os.walk(top)]
        for folder in candidates:
            with contextlib.suppress(OSError):
                for name in os.listdir(folder):
                    if _TEMP_RE.match(name):
                        os.unlink(folder / name)
    journal.unlink(missing_ok=True)


def _remove_empty_parents(root: Path, top: Path, rel_path: str) -> None:
    folder = (top / rel_path).parent
    while folder != top and folder != root:
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = folder.parent


def apply(ctx: RepoContext, plans: list[_Plan]) -> CheckoutResult:
    out = CheckoutResult()
    store, link, root = ctx.store, ctx.config.link, ctx.root
    journal = ctx.gitml_dir / JOURNAL
    write_file_atomic(journal, "".join(p.target.tracked + "\n" for p in plans).encode("utf-8"))
    total = sum(len(p.writes) for p in plans)
    ctx.reporter.start("checkout", total)
    for p in plans:
        tracked, pointer = p.target.tracked, p.target.pointer
        top = root / tracked
        rows: list[StatRow] = []
        if p.replace_top:
            if top.is_dir() and not top.is_symlink():
                shutil.rmtree(top)
            else:
                top.unlink()
        if pointer.kind == "dir" and not p.target.subpath and not top.exists():
            safe_parent(root, tracked + "/x")  # creates the folder, even for an empty tree
        for rel in p.deletes:
            path = top / rel if rel else top
            path.unlink(missing_ok=True)
            _remove_empty_parents(root, top, rel)
            out.deleted.append(_full(tracked, rel))
        done = 0
        checked: dict[str, Path] = {}  # parent folders already verified in this run
        for rel, want in p.writes.items():
            full = _full(tracked, rel)
            parent_rel, _, name = full.rpartition("/")
            parent = checked.get(parent_rel)
            if parent is None:
                parent = checked[parent_rel] = safe_parent(root, full)
            dest = parent / name
            try:
                store.materialize(
                    want.oid, dest, link=link, executable=want.executable, size=want.size
                )
            except CorruptObjectError as exc:
                raise CorruptObjectError(
                    f"{exc.message}; needed by {pointer_name(tracked)} for {full}",
                    "the object was moved to the quarantine folder; gitml pull fetches a good copy",
                ) from None
            fault_point("checkout.after-file")
            st = os.lstat(dest)
            rows.append(StatRow(full, st.st_ino, st.st_size, st.st_mtime_ns, want.oid))
            out.written.append(full)
            done += 1
            if done % 256 == 0:
                ctx.reporter.advance("checkout", 256, 0)
        ctx.reporter.advance("checkout", done % 256, 0)
        for rel, executable in p.chmods.items():
            os.chmod(top / rel if rel else top, 0o755 if executable else 0o644)
        out.unchanged += p.unchanged
        ctx.index.drop_paths([_full(tracked, rel) for rel in p.deletes])
        ctx.index.put_many(rows)
        if not p.target.subpath:
            ctx.index.set_state(tracked, pointer.oid)
    ctx.reporter.done("checkout")
    journal.unlink(missing_ok=True)
    return out


def checkout(
    ctx: RepoContext, targets: list[Target], *, force: bool = False, dry_run: bool = False
) -> CheckoutResult:
    _clean_temps(ctx)
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
