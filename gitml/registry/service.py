"""The registry against a real repository: read tags, run guards, create tags.

Glue between the pure domain layer (``grammar``, ``state``, ``resolve``, ``ops``)
and git (``gitml.git.tags``), the workspace (pointers, cache, checkout) and
``gitml.yaml``. Reading the registry is ONE ``list_tags`` call. Nothing here prints.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.context import RepoContext
from gitml.errors import (
    ConfigError,
    GitmlError,
    RegistryError,
    UsageError,
)
from gitml.project.names import validate_artifact_name
from gitml.registry.grammar import Ref, looks_like_registry_ref, parse_ref
from gitml.registry.model import RegistryState, Version
from gitml.registry.ops import TagPlan, conflict_error, plan_register
from gitml.registry.record import GuardSummary, Json, ModelInfo
from gitml.registry.resolve import find_ref, resolve
from gitml.registry.semver import BUMPS, Bump
from gitml.registry.state import fold_tags
from gitml.safepath import check_relpath
from gitml.workspace.pointer import Pointer, pointer_name

if TYPE_CHECKING:
    from gitml.project.file import ProjectFile

PROJECT_FILE = "gitml.yaml"


def read_state(ctx: RepoContext) -> RegistryState:
    """The whole registry, from one ``git for-each-ref``."""
    from gitml.git.tags import list_tags

    return fold_tags(list_tags(ctx.git))


def create(ctx: RepoContext, plan: TagPlan) -> TagPlan:
    """Create the planned tag; a lost race becomes a clear RegistryError."""
    from gitml.git.tags import TagExistsError, create_tag

    check_remote_free(ctx, plan.tag)
    try:
        create_tag(ctx.git, plan.tag, plan.rev, plan.message)
    except TagExistsError:
        raise conflict_error(plan, read_state(ctx)) from None
    return plan


def check_remote_free(ctx: RepoContext, tag: str) -> None:
    """Refuse a tag another clone already pushed to the git remote (one bounded
    ``git ls-remote``); an unreachable remote is a warning, not a failure: the
    push would then name the conflict."""
    from gitml.git.transport import choose_git_remote, ls_remote_tags

    remote = choose_git_remote(ctx.git, _preferred_git_remote(ctx))
    if remote is None:
        return
    try:
        taken = ls_remote_tags(ctx.git, remote, pattern=f"refs/tags/{tag}")
    except GitmlError as exc:
        ctx.reporter.warning(
            f"could not check {remote}'s registry tags ({exc.message}); "
            f"{tag} is created locally, gitml push will tell if another clone took it"
        )
        return
    if tag in taken:
        raise RegistryError(
            f"{tag} already exists on {remote} (commit {taken[tag][:12]}): another clone "
            "registered it first",
            hint="gitml pull (fetches the registry tags), then run this again",
        )


def _preferred_git_remote(ctx: RepoContext) -> str | None:
    name = ctx.config.default_remote
    if name is None:
        return None
    config = ctx.config.remotes.get(name)
    return (config.git_remote if config else None) or name


# -- gitml.yaml artifacts ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Declaration:
    """An artifact as ``gitml.yaml`` declares it."""

    name: str
    path: str
    metrics: str | None = None
    description: str | None = None


def _declared(project: ProjectFile) -> dict[str, Declaration]:
    return {
        name: Declaration(name, spec.path, spec.metrics_file, spec.description)
        for name, spec in project.artifacts.items()
    }


def declarations(ctx: RepoContext) -> dict[str, Declaration]:
    """The ``artifacts:`` section of gitml.yaml (validated by its loader)."""
    from gitml.project.file import load_project

    return _declared(load_project(ctx.root))


def declaration_of(ctx: RepoContext, v: Version) -> Declaration | None:
    """The artifact's declaration as committed with version ``v`` (the workspace's
    gitml.yaml may have moved on, and a source clone has no work tree); a GTO or
    DVC tag made before the declaration falls back to today's file."""
    committed = _declared(_commit_project(ctx, v.commit))
    return committed.get(v.artifact) or declarations(ctx).get(v.artifact)


def declare(ctx: RepoContext, name: str, path: str) -> bytes:
    """The new gitml.yaml content declaring ``name`` (validated, not yet written)."""
    from gitml.project.edit import CannotEdit, add_artifact
    from gitml.project.file import parse_project

    file = ctx.root / PROJECT_FILE
    current = file.read_bytes() if file.exists() else b""
    try:
        new = add_artifact(current.decode("utf-8"), name, path).encode("utf-8")
        body = parse_project(new).artifacts.get(name)
    except UnicodeDecodeError:
        body, why = None, "it is not UTF-8"
    except CannotEdit as exc:
        body, why = None, str(exc)
    except GitmlError as exc:
        body, why = None, exc.message
    else:
        why = "the edit did not read back"
    if body is None or body.path != path:
        raise ConfigError(
            f"cannot add artifact {name!r} to {PROJECT_FILE} automatically ({why})",
            hint=f"add it by hand:\nartifacts:\n  {name}:\n    path: {path}",
        )
    return new


def write_project(ctx: RepoContext, data: bytes) -> None:
    from gitml.store.durable import write_file_atomic

    write_file_atomic(ctx.root / PROJECT_FILE, data)


# -- register ------------------------------------------------------------------------


@dataclass
class RegisterResult:
    artifact: str
    version: str
    tag: str
    commit: str
    path: str
    size: int
    declared: bool  # gitml.yaml was updated by this registration
    forced: bool
    guards: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _note_doc(ctx: RepoContext, commit: str) -> dict[str, Any] | None:
    from gitml.git.notes import read_note
    from gitml.meta.document import parse_note

    try:
        return parse_note(read_note(ctx.git, commit))
    except GitmlError:
        return None


def _json_map(value: object) -> dict[str, Json]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _files_at(ctx: RepoContext, commit: str, paths: list[str]) -> dict[str, Any]:
    """Parsed JSON/YAML mappings at ``commit`` (unreadable or too big/deep ones are left out)."""
    from gitml.meta.collect import parse_structured
    from gitml.workspace.snapshot import Snapshot

    out: dict[str, Any] = {}
    for path, blob in Snapshot.commit(ctx, commit).read_many(paths).items():
        value = parse_structured(path, blob)
        if isinstance(value, dict):
            out[path] = value
    return out


def _commit_project(ctx: RepoContext, commit: str) -> ProjectFile:
    """gitml.yaml as ``commit`` has it (registrations describe the commit, not the workspace)."""
    from gitml.guards.commit import project_of
    from gitml.workspace.snapshot import Snapshot

    return project_of(Snapshot.commit(ctx, commit))


def lineage(
    ctx: RepoContext, commit: str, metrics_file: str | None
) -> tuple[dict[str, Json], dict[str, Json]]:
    """(params, metrics) of a commit: its gitml note, else the files at that commit."""
    doc = _note_doc(ctx, commit) or {}
    params = _json_map(doc.get("params"))
    notes_metrics = _json_map(doc.get("metrics"))
    metrics = _json_map(notes_metrics.get(metrics_file)) if metrics_file else {}
    wanted = [p for p in _commit_project(ctx, commit).params if not params] + (
        [metrics_file] if metrics_file and not metrics else []
    )
    files = _files_at(ctx, commit, wanted) if wanted else {}
    if not params:
        params = {p: v for p, v in files.items() if p != metrics_file}
    if metrics_file and not metrics:
        metrics = _json_map(files.get(metrics_file))
    return params, metrics


def _model_guards(ctx: RepoContext, metrics_file: str | None, commit: str) -> list[GuardSummary]:
    """Run the model checks of the guards (of the commit's gitml.yaml) that watch
    this artifact's metrics file, on that file as committed in ``commit`` (not the
    workspace's: ``register --rev OLD`` vouches for OLD). Only thresholds and
    no-regression run; the data rules and commands of those guards ran when the
    commit was made."""
    import dataclasses
    import functools

    from gitml.guards.commit import run_for_commit
    from gitml.workspace.snapshot import Snapshot

    if metrics_file is None:
        return []
    project = _commit_project(ctx, commit)
    chosen = {
        name: dataclasses.replace(g, data=None, command=None)
        for name, g in project.guards.guards.items()
        if g.model is not None and g.model.metrics_path == metrics_file
    }
    if not chosen:
        return []
    model_only = dataclasses.replace(
        project, guards=dataclasses.replace(project.guards, guards=chosen)
    )
    snapshot = Snapshot.commit(ctx, commit)
    report = run_for_commit(
        ctx,
        model_only,
        list(chosen),
        stage_metrics=functools.partial(stage_metrics, ctx),
        snapshot=snapshot,
    )
    out = []
    for name in chosen:
        bad = [r for r in report.for_guard(name) if r.status in ("fail", "error")]
        detail = "; ".join(f"{r.rule}: {r.message or r.status}" for r in bad)
        out.append(GuardSummary(name, not bad, detail[:500]))
    return out


def register(
    ctx: RepoContext,
    name: str,
    *,
    path: str | None = None,
    rev: str | None = None,
    version: str | None = None,
    bump: str | None = None,
    note: str = "",
    force: bool = False,
) -> RegisterResult:
    """Register the model at ``rev`` (default HEAD) as a new version of ``name``."""
    from gitml.workspace.revisions import pointers_at

    validate_artifact_name(name)
    if version and bump:
        raise UsageError("give --version or --bump, not both")
    if bump is not None and bump not in BUMPS:
        raise UsageError(f"unknown bump {bump!r}", hint="use major, minor or patch")
    decl = declarations(ctx).get(name)
    new_yaml: bytes | None = None
    if decl is None:
        if path is None:
            raise UsageError(
                f"artifact {name!r} is not declared in {PROJECT_FILE}",
                hint=f"declare it: gitml register {name} --path PATH/TO/MODEL "
                f"(or add 'artifacts: {{{name}: {{path: ...}}}}' to {PROJECT_FILE})",
            )
        rel = check_relpath(ctx.relpath(path), what="model path")
        new_yaml = declare(ctx, name, rel)
        decl = Declaration(name, rel)
    elif path is not None and ctx.relpath(path) != decl.path:
        raise UsageError(
            f"{name!r} is declared in {PROJECT_FILE} with path {decl.path}, not {path}",
            hint=f"edit {PROJECT_FILE} to move it",
        )
    label = rev or "HEAD"
    commit = ctx.git.try_rev_parse(label)
    if commit is None:
        raise UsageError(f"unknown revision {label!r}", hint="commit the model first")
    pointers = pointers_at(ctx, commit)
    pointer = pointers.get(decl.path)
    if pointer is None:
        raise RegistryError(
            f"no model pointer {pointer_name(decl.path)} at {label} ({commit[:12]})",
            hint=f"gitml add {decl.path} && git commit, then register",
        )
    if not ctx.store.has(pointer.oid):
        raise RegistryError(
            f"the model {decl.path} at {label} is not in the cache ({pointer.oid[:12]})",
            hint="gitml pull it (or gitml add it again) before registering",
        )
    state = read_state(ctx)
    params, metrics = lineage(ctx, commit, decl.metrics)
    guards = _model_guards(ctx, decl.metrics, commit)
    failed = [g for g in guards if not g.passed]
    if failed and not force:
        raise RegistryError(
            f"model guards failed for {name}: "
            + "; ".join(f"{g.name} ({g.detail})" for g in failed),
            hint="fix the model, or register anyway with --force (the record says so)",
        )
    if failed:
        note = (
            "FORCED past failing guards: "
            + ", ".join(g.name for g in failed)
            + (f". {note}" if note else "")
        )
    data = {p: ptr.oid for p, ptr in pointers.items() if p != decl.path}
    plan = plan_register(
        state, name, commit=commit,
        model=ModelInfo(decl.path, pointer.oid, pointer.size),
        data=data, params=params, metrics=metrics, guards=guards, note=note,
        bump=_bump(bump), version=version,
    )  # fmt: skip
    create(ctx, plan)
    if new_yaml is not None:
        write_project(ctx, new_yaml)
    return RegisterResult(
        name, str(plan.version), plan.tag, commit, decl.path, pointer.size,
        new_yaml is not None, bool(failed),
        [{"name": g.name, "passed": g.passed, "detail": g.detail} for g in guards],
        _metrics_warnings(name, decl, metrics, commit),
    )  # fmt: skip


def _metrics_warnings(
    name: str, decl: Declaration, metrics: Mapping[str, Json], commit: str
) -> list[str]:
    """A registration without metrics says so (and why)."""
    if metrics:
        return []
    if decl.metrics is None:
        return [
            f"this version of {name} records no metrics: its artifact declares no metrics file "
            f"(add 'metrics: FILE' under artifacts: {name} in {PROJECT_FILE})"
        ]
    return [
        f"this version of {name} records no metrics: {decl.metrics} is not a readable "
        f"mapping at {commit[:12]}"
    ]


def _bump(text: str | None) -> Bump:
    for b in BUMPS:
        if b == text:
            return b
    return "major"


# -- resolving and materializing -------------------------------------------------------


def model_file(ctx: RepoContext, v: Version) -> tuple[str, Pointer]:
    """The model's tracked path and its pointer at the version's commit."""
    from gitml.workspace.revisions import pointers_at

    record = v.record
    path = record.model.path if record is not None else None
    if path is None:
        decl = declaration_of(ctx, v)
        if decl is None:
            raise RegistryError(
                f"{v.artifact}@{v.version} has no gitml record and no path in {PROJECT_FILE}",
                hint=f"declare it: artifacts: {{{v.artifact}: {{path: ...}}}}",
            )
        path = decl.path
    pointer = pointers_at(ctx, v.commit, [path]).get(path)
    if pointer is None:
        raise RegistryError(
            f"no pointer {pointer_name(path)} at {v.commit[:12]} ({v.artifact}@{v.version})"
        )
    return path, pointer


def version_metrics(ctx: RepoContext, v: Version) -> tuple[str | None, dict[str, Any]]:
    """(model path, metrics) of a version: its gitml record, else (a GTO or DVC
    tag) the declared artifact's path and its metrics file as committed there."""
    if v.record is not None:
        return v.record.model.path, dict(v.record.metrics)
    try:
        decl = declaration_of(ctx, v)
    except GitmlError:
        return None, {}
    if decl is None:
        return None, {}
    return decl.path, dict(lineage(ctx, v.commit, decl.metrics)[1]) if decl.metrics else {}


def registry_ref(ctx: RepoContext, state: RegistryState | None, text: str) -> Ref | None:
    """``text`` as a registry reference whose artifact exists, else None."""
    if not looks_like_registry_ref(text):
        return None
    return find_ref(state if state is not None else read_state(ctx), text)


def version_ref(name: str, selector: str | None) -> Ref:
    """``churn`` + ``prod`` / ``v3`` / ``v3.0.0`` / ``latest`` / None -> a Ref."""
    if selector is None:
        return parse_ref(f"{name}@latest")
    if re.fullmatch(r"v\d.*|latest|greatest", selector):
        return parse_ref(f"{name}@{selector}")
    return parse_ref(f"{name}#{selector}")


def model_ref(text: str, selector: str | None) -> Ref:
    """A whole reference (``churn@v1``, ``churn#prod``, ``churn@latest``) or a
    name with a separate selector (``churn`` + ``prod``)."""
    if selector is None and ("@" in text or "#" in text):
        return parse_ref(text)
    return version_ref(text, selector)


@dataclass
class MaterializeResult:
    artifact: str
    version: str
    commit: str
    path: str  # where the model now is (absolute for -o outside the repository)
    written: list[str] = field(default_factory=list)
    unchanged: int = 0


def checkout_version(
    ctx: RepoContext,
    ref: Ref | str,
    output: Path | None = None,
    *,
    force: bool = False,
    state: RegistryState | None = None,
) -> MaterializeResult:
    """Materialize a model version into its workspace path (or ``output``); HEAD
    untouched. ``state``: the registry the caller already read (else read here)."""
    from gitml.workspace.checkout import Target, checkout

    v = resolve(state if state is not None else read_state(ctx), ref)
    tracked, pointer = model_file(ctx, v)
    dest = None if output is None else Path(os.path.abspath(output))
    done = checkout(ctx, [Target(tracked, pointer, v.commit, dest=dest)], force=force)
    where = tracked if dest is None else str(output)
    return MaterializeResult(v.artifact, str(v.version), v.commit, where,
                             done.written, done.unchanged)  # fmt: skip


def local_path(ctx: RepoContext, name: str, selector: str | None = None) -> Path:
    """A local path holding the version: the workspace file if it has those bytes,
    else ``.gitml/models/<name>/<version>/<file>`` (materialized on demand)."""
    from gitml.workspace.checkout import Target, checkout, plan

    v = resolve(read_state(ctx), model_ref(name, selector))
    tracked, pointer = model_file(ctx, v)
    here = plan(ctx, Target(tracked, pointer, v.commit), force=False)
    if not here.writes and not here.deletes and not here.conflicts and not here.replace_top:
        return ctx.root / tracked
    folder = ctx.gitml_dir / "models" / v.artifact.replace(":", "=") / str(v.version)
    dest = folder / tracked.rpartition("/")[2]
    checkout(ctx, [Target(tracked, pointer, v.commit, dest=dest)], force=True)
    return dest


# -- lookups for other features ------------------------------------------------------


def artifact_for_metrics(ctx: RepoContext, metrics_file: str) -> str | None:
    """The artifact whose declared ``metrics:`` is ``metrics_file`` (first declared)."""
    try:
        decls = declarations(ctx)
    except GitmlError:
        return None
    want = os.path.normpath(metrics_file)
    return next((d.name for d in decls.values()
                 if d.metrics and os.path.normpath(d.metrics) == want), None)  # fmt: skip


def stage_metrics(ctx: RepoContext, metrics_file: str, stage: str) -> dict[str, Any] | None:
    """Metrics of the model version currently in ``stage`` whose artifact records
    ``metrics_file``, from that version's commit note: the no-regression baseline
    guards are given (see :mod:`gitml.guards.commit`).

    Never raises a gitml error: an unreadable gitml.yaml or registry means
    "no baseline in the registry" and the guard falls back to history.
    """
    from gitml.meta.lineage import latest_metrics, recent_notes

    try:
        name = artifact_for_metrics(ctx, metrics_file)
        commit = stage_commit(ctx, name, stage) if name else None
    except GitmlError:
        return None
    if commit is None:
        return None
    return latest_metrics(recent_notes(ctx, commit)[:1], metrics_file)


def stage_commit(ctx: RepoContext, name: str, stage: str) -> str | None:
    """The commit of the version currently in ``stage``, or None."""
    artifact = read_state(ctx).artifacts.get(name)
    st = artifact.stages.get(stage) if artifact is not None else None
    current = st.current if st is not None else None
    return current.commit if current is not None else None


def describe(value: Mapping[str, Json], limit: int = 3) -> str:
    """``auc=0.93, f1=0.8`` -- the first scalar metrics, for tables."""
    items = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
             for k, v in value.items() if isinstance(v, int | float | str)]  # fmt: skip
    return ", ".join(items[:limit]) + (" ..." if len(items) > limit else "")
