"""``gitml import-dvc``: turn a DVC project's tracked data into gitml pointers.

1. plan (plan.py): find and parse every DVC file, validate every path and
   ``.dir`` listing, check conflicts with what gitml and git track; with
   ``--from-remote``, let DVC fetch the objects no local source has;
2. apply (apply.py), group by group: store verified objects, write pointers;
3. workspace: files that were missing are written from gitml's cache;
4. stages (convert.py): dvc.yaml stages become gitml.yaml stages, with a
   gitml.lock entry when DVC's last run still holds;
5. git: stage pointers, ignore rules, gitml.yaml/gitml.lock; unless
   ``--keep-dvc``, take the fully converted DVC files out of the index (they
   stay on disk), and ``.dvc/`` + ``.dvcignore`` once no DVC file is left.

Dry run: step 1 without fetching, then a report of what would happen.
"""

from __future__ import annotations

import os
import posixpath

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.interop.apply import TASK, Applied, apply_group, groups, record
from gitml.interop.convert import convert_stages
from gitml.interop.experiments import carry_experiments
from gitml.interop.md5map import Md5Map
from gitml.interop.plan import (
    Plan,
    fetch_missing,
    make_plan,
    report_listing_problems,
    wanted_objects,
)
from gitml.interop.results import Carried, ImportedOutput, ImportResult
from gitml.interop.sections import carry_top_level
from gitml.interop.versions import carry_versions
from gitml.safepath import UserPath

MAP_PATH = ("interop", "dvc-md5.sqlite")


def _open_map(ctx: RepoContext, *, create: bool) -> Md5Map:
    path = ctx.gitml_dir.joinpath(*MAP_PATH)
    return Md5Map(path if create or path.exists() else None)


def import_dvc(
    ctx: RepoContext,
    targets: list[str],
    *,
    cwd: UserPath | None = None,
    from_remote: str | None = None,
    keep_dvc: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    if from_remote:
        from gitml.interop.dvcremote import require_dvc

        require_dvc()
    result = ImportResult(dry_run=dry_run)
    plan = make_plan(ctx, targets, cwd, result)
    known = _open_map(ctx, create=not dry_run)
    try:
        if dry_run:
            _dry_run(ctx, plan, known, result, from_remote)
            return result
        if from_remote:
            result.fetched = fetch_missing(ctx, known, plan, from_remote)
        report_listing_problems(plan, result, ctx.reporter)
        applied = Applied()
        ctx.reporter.start(TASK, sum(len(i.files()) for i in plan.outputs))
        for group in groups(plan.outputs):
            apply_group(ctx, group, known, result, applied)
        ctx.reporter.done(TASK)
    finally:
        known.close()
    restored = _restore(ctx, applied)
    record(applied, result, restored)
    for item, pointer, _workspace, _ in applied.imported:
        if pointer.source is not None:
            where = f"{pointer.source.url} at {pointer.source.commit[:12]}"
            result.carried.append(
                Carried("import", item.out.path, f"import pointer ({where}; gitml update moves it)")
            )
    verified = {
        item.out.path: item.out.md5
        for item, _, workspace, _ in applied.imported
        if workspace == "clean" or item.out.path in restored
    }
    converted = convert_stages(ctx, plan.project.stages, verified, result, dry_run=False)
    carry_top_level(ctx, plan.project.top, result, dry_run=False)
    carry_experiments(ctx, result, dry_run=False)
    versions_map = _open_map(ctx, create=True)
    try:
        carry_versions(ctx, versions_map, result, dry_run=False, from_remote=from_remote)
    finally:
        versions_map.close()
    _git(ctx, plan, result, applied, converted, keep_dvc=keep_dvc)
    _finish(result)
    return result


def _dry_run(
    ctx: RepoContext, plan: Plan, known: Md5Map, result: ImportResult, from_remote: str | None
) -> None:
    wanted = wanted_objects(ctx, known, plan)
    lacking = {(md5, legacy) for objects in wanted.values() for md5, legacy in objects}
    if from_remote:
        result.to_fetch = len(lacking)
    for item in plan.outputs:
        files = item.files()
        absent = [p for p, md5, _ in files if (md5, item.out.legacy) in lacking]
        if item.out.is_dir and item.entries is None:
            absent = [f"{item.out.path}/ (DVC listing {item.out.md5})"]
        if absent and not from_remote:
            result.missing += absent
            continue
        size = item.out.size if item.out.size is not None else sum(s or 0 for *_, s in files)
        kind = "dir" if item.out.is_dir else "file"
        nfiles = len(files) if item.out.is_dir else 1
        result.imported.append(
            ImportedOutput(
                item.out.path, kind, "", size, nfiles, item.out.source, item.existing is None
            )
        )
    convert_stages(ctx, plan.project.stages, {}, result, dry_run=True)
    carry_top_level(ctx, plan.project.top, result, dry_run=True)
    carry_experiments(ctx, result, dry_run=True)
    _finish(result)


def _git(
    ctx: RepoContext,
    plan: Plan,
    result: ImportResult,
    applied: Applied,
    converted: set[str],
    *,
    keep_dvc: bool,
) -> None:
    """Stage the pointers and ignore rules; unless keep_dvc, unstage the DVC files
    whose every output (and stage) was converted, and .dvc/ when none is left."""
    staged = sorted(set(applied.staged))
    if staged:
        ctx.git.add(staged)
    result.staged = staged
    if keep_dvc:
        return
    done = {item.out.path for item, *_ in applied.imported}
    counts: dict[str, int] = {}
    for out in plan.project.outputs:
        if out.path in done and out.source in plan.project.dvc_files:
            counts[out.source] = counts.get(out.source, 0) + 1
    whole = [f for f, n in counts.items() if n == plan.project.dvc_files[f]]
    for yaml_file in sorted(converted):
        lock_file = posixpath.join(posixpath.dirname(yaml_file), "dvc.lock")
        if all(o.path in done for o in plan.project.outputs if o.source == lock_file):
            whole += [yaml_file, lock_file]
        else:
            result.notes.append(f"{yaml_file} stays in git: not all of its outputs were imported")
    indexed = set(ctx.git.ls_files(*whole)) if whole else set()
    gone = sorted(f for f in whole if f in indexed)
    left = set(ctx.git.ls_files(":(glob)**/*.dvc", ":(glob)**/dvc.yaml", ":(glob)**/dvc.lock"))
    if gone and not (left - set(gone)):
        extra = [
            os.path.join(r, n) if r else n
            for r in plan.project.roots or [""]
            for n in (".dvc", ".dvcignore")
        ]
        gone += sorted(ctx.git.ls_files(*extra))
    if gone:
        ctx.git.rm_cached(gone)
    result.removed_from_index = gone


def _restore(ctx: RepoContext, applied: Applied) -> set[str]:
    """Write missing workspace data from gitml's cache (``gitml checkout`` semantics)."""
    from gitml.workspace.checkout import Target, checkout

    restored: set[str] = set()
    for item, pointer, workspace, _ in applied.imported:
        if workspace != "absent":
            continue
        try:
            checkout(ctx, [Target(item.out.path, pointer, "workspace")])
        except GitmlError as exc:
            ctx.reporter.warning(f"{item.out.path} was not restored: {exc.message}")
        else:
            restored.add(item.out.path)
    return restored


def _finish(result: ImportResult) -> None:
    for item in result.imported:
        if item.workspace == "differs":
            result.notes.append(
                f"{item.path}: the workspace differs from what DVC recorded; it was kept "
                f"(gitml status shows it; gitml checkout --force {item.path} gives DVC's version)"
            )
