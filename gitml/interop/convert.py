"""Writing converted DVC stages into ``gitml.yaml``, and ``gitml.lock`` entries.

Runs after the outputs are imported (their pointers are the stages' outs).
New stages are added to ``gitml.yaml`` as text (gitml/project/edit.py) and the whole
result is validated by gitml's own parser and DAG check before it is written;
on any complaint nothing is written and the stages are listed as not
converted with the message. A stage already in ``gitml.yaml`` with the same
definition is left alone (reruns change nothing); one with the same name and
another definition is never overwritten.

A converted stage gets a ``gitml.lock`` entry, computed by gitml's pipeline
code from the workspace, only when DVC's record of its last run still holds
(dvcrun.py); so ``gitml repro`` runs exactly what ``dvc repro`` would have run.
"""

from __future__ import annotations

from typing import Any

from gitml.bounded import quote
from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.interop.dvcrun import run_still_holds
from gitml.interop.results import Carried, ConvertedStage, ImportResult, NotConverted
from gitml.interop.stages import NotConvertible, StageSpec, build_spec, same_spec
from gitml.project.edit import CannotEdit, add_stages
from gitml.store.durable import write_file_atomic
from gitml.workspace.tracked import read_pointer

PROJECT = "gitml.yaml"


def _specs(
    ctx: RepoContext, stages: list[Any], existing: dict[str, Any], result: ImportResult
) -> tuple[list[StageSpec], list[StageSpec]]:
    """(new specs, specs already in gitml.yaml); the rest go to not_converted."""
    new: list[StageSpec] = []
    present: list[StageSpec] = []
    for stage in stages:
        try:
            spec = build_spec(ctx.root, stage)
        except NotConvertible as exc:
            result.not_converted.append(NotConverted(f"stage {stage.name}", stage.source, str(exc)))
            continue
        result.notes += spec.notes
        if spec.name not in existing:
            new.append(spec)
        elif same_spec(existing[spec.name], spec.spec):
            present.append(spec)
        else:
            result.not_converted.append(
                NotConverted(
                    f"stage {stage.name}",
                    stage.source,
                    f"gitml.yaml already has another stage named {quote(spec.name)} (kept)",
                )
            )
    return new, present


def _write_project(ctx: RepoContext, new: list[StageSpec], *, dry_run: bool) -> str:
    """Add ``new`` to gitml.yaml (validated first); "" or the reason nothing was written."""
    from gitml.pipelines.spec import load_pipeline
    from gitml.project.file import parse_project

    path = ctx.root / PROJECT
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        text = ""
    try:
        current = parse_project(text) if text else None
        params = tuple(current.params) if current and "params" in current.raw else None
        files = sorted({f for spec in new for f in spec.params_files})
        updated = add_stages(text, {s.name: s.spec for s in new}, files, params)
        load_pipeline(parse_project(updated))
    except CannotEdit as exc:
        return f"cannot add it to {PROJECT}: {exc}"
    except GitmlError as exc:
        return f"{PROJECT} would not be valid: {exc.message}"
    if not dry_run:
        write_file_atomic(path, updated.encode("utf-8"))
        ctx.git.add([PROJECT])
    return ""


def _lock(ctx: RepoContext, specs: list[StageSpec], imported: dict[str, str]) -> dict[str, str]:
    """gitml.lock entries for stages whose DVC run still holds; name → reason if not."""
    from gitml.pipelines.spec import load_pipeline
    from gitml.pipelines.state import inputs_state, load_params, read_lock, read_metrics, write_lock
    from gitml.project.file import load_project

    project = load_project(ctx.root)
    pipeline = load_pipeline(project)
    lock = read_lock(ctx.root)
    reasons: dict[str, str] = {}
    changed = False
    for spec in specs:
        if spec.name in lock["stages"]:
            continue  # recorded before (an earlier import, or gitml repro): keep it
        reason = run_still_holds(ctx.root, spec, imported)
        if not reason:
            stage = pipeline.stages[spec.name]
            try:
                inputs = inputs_state(ctx, stage, load_params(ctx, project))
                outs = {}
                for out in stage.outs:
                    p = read_pointer(ctx, out)
                    outs[out] = {"kind": p.kind, "oid": p.oid, "size": p.size, "nfiles": p.nfiles}
            except GitmlError as exc:
                reason = exc.message
            else:
                lock["stages"][spec.name] = {
                    **inputs,
                    "outs": outs,
                    "metrics": read_metrics(ctx, stage),
                }
                changed = True
        if reason:
            reasons[spec.name] = reason
    if changed:
        lock["stages"] = dict(sorted(lock["stages"].items()))
        write_lock(ctx, lock)
    return reasons


def convert_stages(
    ctx: RepoContext,
    stages: list[Any],
    imported: dict[str, str],
    result: ImportResult,
    *,
    dry_run: bool,
) -> set[str]:
    """Convert ``stages`` (DvcStage); return the dvc.yaml files whose every stage is converted.

    ``imported``: output path → DVC MD5 of the outputs imported and verified.
    """
    from gitml.project.file import load_project

    if not stages:
        return set()
    try:
        existing: dict[str, Any] = dict(load_project(ctx.root).stages)
    except GitmlError as exc:
        for stage in stages:
            result.not_converted.append(
                NotConverted(
                    f"stage {stage.name}", stage.source, f"{PROJECT} is not valid: {exc.message}"
                )
            )
        return set()
    new, present = _specs(ctx, stages, existing, result)
    failed = _write_project(ctx, new, dry_run=dry_run) if new else ""
    if failed:
        result.not_converted += [
            NotConverted(f"stage {s.dvc.name}", s.dvc.source, failed) for s in new
        ]
        new = []
    done = new + present
    reasons = {} if dry_run or not done else _lock(ctx, done, imported)
    for spec in done:
        reason = reasons.get(spec.name, "")
        if spec.spec.get("frozen"):
            result.carried.append(
                Carried("frozen stage", spec.dvc.name, f"stage {spec.name}, frozen")
            )
        result.stages.append(
            ConvertedStage(
                spec.name,
                spec.dvc.name,
                spec.dvc.source,
                spec in new,
                not dry_run and not reason,
                reason,
            )
        )
    converted = {s.dvc.source for s in done}
    blocked = {s.source for s in stages} - converted
    blocked |= {n.source for n in result.not_converted if n.what.startswith("stage ")}
    return converted - blocked
