"""Planning an import: nothing here writes anything.

Every DVC file is parsed and every path validated, every ``.dir`` listing is
read from the DVC cache and validated, and each output is checked against
what gitml and git already track, before the first byte is stored. With
``--from-remote``, :func:`fetch_missing` asks DVC for the objects that no
local source has (the only step that writes, and only into DVC's cache).
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from gitml.context import RepoContext
from gitml.errors import GitmlError, InteropError
from gitml.interop.discover import DvcProject, discover, select
from gitml.interop.dvccache import DirEntry, cache_dir, object_paths, read_dir_object
from gitml.interop.dvcfiles import DvcOutput
from gitml.interop.md5map import Md5Map
from gitml.interop.results import ImportResult, NotConverted
from gitml.progress import Reporter
from gitml.safepath import UserPath
from gitml.workspace.pointer import Pointer, pointer_name
from gitml.workspace.tracked import read_pointer, tracked_paths


@dataclass
class OutputPlan:
    out: DvcOutput
    cache: Path  # the DVC cache of its project
    entries: list[DirEntry] | None = None  # a directory's listing, once read
    problem: str = ""  # why the listing is unavailable
    existing: Pointer | None = None  # gitml's pointer already at this path

    def files(self) -> list[tuple[str, str, int | None]]:
        """(workspace path, md5, size) of every file of the output."""
        if not self.out.is_dir:
            return [(self.out.path, self.out.md5, self.out.size)]
        return [(f"{self.out.path}/{e.relpath}", e.md5, e.size) for e in self.entries or []]


@dataclass
class Plan:
    project: DvcProject
    outputs: list[OutputPlan] = field(default_factory=list)


def _find(ctx: RepoContext, targets: list[str], cwd: UserPath | None) -> DvcProject:
    tracked = tracked_paths(ctx)
    project = discover(ctx.root, tracked=set(tracked) - {""})
    if not (project.roots or project.dvc_files or project.pipeline_files):
        raise InteropError(
            f"no DVC project in {ctx.root} (no .dvc folder, *.dvc file or dvc.yaml)",
            "run gitml import-dvc at the top of a repository that uses DVC",
        )
    return select(project, [ctx.relpath(t, cwd=cwd) for t in targets])


def make_plan(
    ctx: RepoContext, targets: list[str], cwd: UserPath | None, result: ImportResult
) -> Plan:
    project = _find(ctx, targets, cwd)
    plan = Plan(project)
    result.notes += project.notes
    in_git = _metrics_and_plots(project)  # uncached: they stay git files, and are carried
    result.not_converted += [
        NotConverted(s.path, s.source, s.reason) for s in project.skipped if s.path not in in_git
    ]
    tracked = tracked_paths(ctx)
    unique = list({o.path: o for o in reversed(project.outputs)}.values())[::-1]
    in_git = set(ctx.git.ls_files(*[o.path for o in unique])) if unique else set()
    taken = _Taken(tracked, in_git)
    caches: dict[str, Path] = {}
    for out in unique:
        reason = taken.conflict(out.path)
        if reason:
            result.not_converted.append(NotConverted(out.path, out.source, reason))
            continue
        if out.dvc_root not in caches:
            caches[out.dvc_root] = cache_dir(ctx.root, out.dvc_root)
        cache = caches[out.dvc_root]
        item = OutputPlan(out, cache)
        if (ctx.root / pointer_name(out.path)).is_file():  # staged, or left by a killed run
            try:
                item.existing = read_pointer(ctx, out.path)
            except GitmlError as exc:
                result.not_converted.append(NotConverted(out.path, out.source, exc.message))
                continue
        read_listing(item)
        plan.outputs.append(item)
    return plan


def _metrics_and_plots(project: DvcProject) -> set[str]:
    """Files gitml reads as metrics or plots (top-level, or a stage's)."""

    found = set(project.top.metrics)
    for item in project.top.plots:
        if isinstance(item, str):
            found.add(item)
            continue
        name, props = next(iter(item.items()))
        y = (props or {}).get("y")
        found |= set(y) if isinstance(y, dict) else {name}
    for stage in project.stages:
        base = stage.wdir
        for raw in (*stage.metrics, *stage.plots):
            found.add(posixpath.normpath(posixpath.join(base, raw)) if base else raw)
    return found


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


class _Taken:
    """What git and gitml already track, indexed so each check costs O(depth)."""

    def __init__(self, tracked: list[str], in_git: set[str]) -> None:
        self.tracked = set(tracked)
        self.git_dirs = {a: p for p in in_git for a in _ancestors(p)}
        self.in_git = in_git
        self.tracked_dirs = {a: t for t in tracked for a in _ancestors(t)}

    def conflict(self, path: str) -> str:
        if path in self.in_git or path in self.git_dirs:
            return "tracked by git itself (git rm --cached it first)"
        owner = next((a for a in _ancestors(path) if a in self.tracked), None)
        if owner is not None:
            return f"inside {owner}, which gitml already tracks"
        if path in self.tracked_dirs:
            return f"gitml already tracks {self.tracked_dirs[path]} inside it"
        return ""


def read_listing(item: OutputPlan) -> None:
    if item.out.is_dir and item.entries is None:
        item.entries, item.problem = read_dir_object(item.cache, item.out)


def _have_locally(
    ctx: RepoContext, known: Md5Map, item: OutputPlan, path: str, md5: str, size: int | None
) -> bool:
    """An object counts as available if gitml has it, DVC's cache has it, or the
    workspace file looks right (right size; its MD5 is checked when it is read)."""
    legacy = item.out.legacy
    hit = known.get(legacy, md5)
    if hit is not None and ctx.store.has(hit[0]):
        return True
    if any(p.exists() for p in object_paths(item.cache, md5, legacy=legacy)):
        return True
    try:
        st = os.lstat(ctx.root / path)
    except OSError:
        return False
    return size is not None and st.st_size == size


Wanted = dict[Path, set[tuple[str, bool]]]


def wanted_objects(ctx: RepoContext, known: Md5Map, plan: Plan) -> Wanted:
    """Per DVC project folder: (md5, legacy) of the objects no local source has."""
    wanted: Wanted = {}
    for item in plan.outputs:
        project = ctx.root / item.out.dvc_root
        if item.out.is_dir and item.entries is None:
            wanted.setdefault(project, set()).add((item.out.md5, item.out.legacy))
            continue
        for path, md5, size in item.files():
            if not _have_locally(ctx, known, item, path, md5, size):
                wanted.setdefault(project, set()).add((md5, item.out.legacy))
    return wanted


def fetch_missing(ctx: RepoContext, known: Md5Map, plan: Plan, remote: str) -> int:
    """Fetch what no local source has with DVC (listings first, then their files)."""
    from gitml.interop.dvcremote import fetch

    total = 0
    asked: set[tuple[Path, str, bool]] = set()
    for _ in range(2):  # round 2: the files of the listings fetched in round 1
        todo = {
            project: {o for o in objects if (project, *o) not in asked}
            for project, objects in wanted_objects(ctx, known, plan).items()
        }
        todo = {project: objects for project, objects in todo.items() if objects}
        if not todo:
            break
        for project, objects in todo.items():
            asked.update((project, *o) for o in objects)
            fetched = fetch(project, remote, sorted(objects), ctx.reporter)
            total += fetched.transferred
            for item in plan.outputs:
                if ctx.root / item.out.dvc_root == project:
                    item.cache = fetched.cache_dir
                    read_listing(item)
    return total


def report_listing_problems(plan: Plan, result: ImportResult, reporter: Reporter) -> None:
    """Directories whose listing is nowhere: their files cannot even be named."""
    for item in plan.outputs:
        if item.out.is_dir and item.entries is None:
            result.missing.append(f"{item.out.path}/ (DVC listing {item.out.md5})")
            reporter.warning(f"{item.out.path}: DVC directory listing {item.problem}")
