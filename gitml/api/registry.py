"""Registry operations of the library API (re-exported by :mod:`gitml.api`).

One function per user operation: open the repository, read the tags once, plan,
create the tag. Returns plain dataclasses; nothing prints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.context import RepoContext, session
from gitml.errors import RegistryError, UsageError
from gitml.progress import Callback
from gitml.registry import service
from gitml.registry.grammar import parse_ref
from gitml.registry.model import Artifact, Event, RegistryState, Version
from gitml.registry.ops import plan_assign, plan_deprecate, plan_deregister, plan_unassign
from gitml.registry.resolve import get_artifact, resolve
from gitml.registry.service import MaterializeResult, RegisterResult
from gitml.safepath import UserPath, as_path

__all__ = [
    "EventResult",
    "MaterializeResult",
    "ModelDetail",
    "ModelSummary",
    "RegisterResult",
    "demote",
    "deprecate",
    "model_checkout",
    "model_path",
    "model_show",
    "models",
    "promote",
    "register",
]


def _iso(date: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(date))


@dataclass
class EventResult:
    """A stage, deprecation or deregistration tag that was created."""

    artifact: str
    action: str
    tag: str
    version: str | None
    stage: str | None = None


@dataclass
class ModelSummary:
    name: str
    latest: str | None
    stages: dict[str, str]  # stage -> current version
    metrics: dict[str, Any]
    registered_at: str | None
    registered_by: str | None
    deprecated: bool
    path: str | None


@dataclass
class VersionDetail:
    version: str
    commit: str
    active: bool
    stages: list[str]
    registered_at: str
    registered_by: str
    model: dict[str, Any] | None
    data: dict[str, str]
    params: dict[str, Any]
    metrics: dict[str, Any]
    guards: list[dict[str, Any]]
    note: str


@dataclass
class HistoryEntry:
    tag: str
    action: str
    version: str | None
    stage: str | None
    at: str
    by: str
    summary: str


@dataclass
class ModelDetail:
    name: str
    deprecated: bool
    stages: dict[str, str]
    versions: list[VersionDetail]
    history: list[HistoryEntry]
    warnings: list[str] = field(default_factory=list)


def register(
    name: str,
    *,
    path: str | None = None,
    rev: str | None = None,
    version: str | None = None,
    bump: str | None = None,
    message: str = "",
    force: bool = False,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> RegisterResult:
    """Register the model committed at ``rev`` as the next version of ``name``."""
    with session(cwd, callback, write=True) as ctx:
        return service.register(
            ctx, name, path=path, rev=rev, version=version, bump=bump, note=message, force=force
        )


def _event(
    plan_tag: str, artifact: str, action: str, version: object, stage: str | None
) -> EventResult:
    return EventResult(artifact, action, plan_tag, str(version) if version else None, stage)


def promote(
    ref: str, stage: str, *, message: str = "", cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> EventResult:  # fmt: skip
    """Put the version ``ref`` names (``churn@v3``, ``churn#staging``) into ``stage``."""
    with session(cwd, callback, write=False) as ctx:
        plan = service.create(ctx, plan_assign(service.read_state(ctx), ref, stage, note=message))
        return _event(plan.tag, plan.event.artifact, "assign", plan.version, stage)


def demote(
    name: str, stage: str, *, version: str | None = None, message: str = "",
    cwd: UserPath | None = None, callback: Callback | None = None,
) -> EventResult:  # fmt: skip
    """Take ``stage`` away from its current version (or from ``version``)."""
    with session(cwd, callback, write=False) as ctx:
        ref = f"{name}@{version}" if version else None
        plan = plan_unassign(service.read_state(ctx), name, stage, ref, note=message)
        service.create(ctx, plan)
        return _event(plan.tag, name, "unassign", plan.version, stage)


def deprecate(
    target: str, *, message: str = "", cwd: UserPath | None = None, callback: Callback | None = None
) -> EventResult:
    """``churn``: retire the artifact; ``churn@v2``: withdraw that version."""
    with session(cwd, callback, write=False) as ctx:
        state = service.read_state(ctx)
        if "@" in target:
            v = resolve(state, parse_ref(target))
            plan = plan_deregister(state, f"{v.artifact}@{v.version}", note=message)
            service.create(ctx, plan)
            return _event(plan.tag, v.artifact, "deregister", v.version, None)
        plan = plan_deprecate(state, target, note=message)
        service.create(ctx, plan)
        return _event(plan.tag, target, "deprecate", None, None)


def _summary(ctx: RepoContext, artifact: Artifact) -> ModelSummary:
    latest = artifact.latest()
    path, metrics = service.version_metrics(ctx, latest) if latest is not None else (None, {})
    reg = latest.registration if latest is not None else None
    return ModelSummary(
        name=artifact.name,
        latest=str(latest.version) if latest is not None else None,
        stages=artifact.stage_versions(),
        metrics=metrics,
        registered_at=_iso(reg.date) if reg is not None else None,
        registered_by=reg.tagger if reg is not None else None,
        deprecated=artifact.deprecated,
        path=path,
    )


def models(
    *, all_: bool = False, cwd: UserPath | None = None, callback: Callback | None = None
) -> list[ModelSummary]:
    """Every artifact in the registry (deprecated ones only with ``all_``)."""
    with session(cwd, callback, write=False) as ctx:
        state = service.read_state(ctx)
        for w in state.warnings:
            ctx.reporter.warning(str(w))
        return [_summary(ctx, a) for a in state.artifacts.values() if all_ or not a.deprecated]


def _version_detail(ctx: RepoContext, v: Version) -> VersionDetail:
    r = v.record
    _path, metrics = service.version_metrics(ctx, v)
    return VersionDetail(
        version=str(v.version),
        commit=v.commit,
        active=v.active,
        stages=list(v.stages),
        registered_at=_iso(v.registration.date),
        registered_by=v.registration.tagger,
        model={"path": r.model.path, "oid": r.model.oid, "size": r.model.size} if r else None,
        data=dict(r.data) if r else {},
        params=dict(r.params) if r else {},
        metrics=metrics,
        guards=[{"name": g.name, "passed": g.passed, "detail": g.detail} for g in r.guards]
        if r
        else [],
        note=r.note if r else "",
    )


def _history(e: Event) -> HistoryEntry:
    stage = getattr(e.event, "stage", None)
    return HistoryEntry(
        e.tag, e.action, str(e.version) if e.version else None,
        stage if isinstance(stage, str) else None, _iso(e.date), e.tagger, e.summary,
    )  # fmt: skip


def model_show(
    name: str, *, cwd: UserPath | None = None, callback: Callback | None = None
) -> ModelDetail:
    """Versions (with lineage), current stages and the full event history of ``name``."""
    with session(cwd, callback, write=False) as ctx:
        state = service.read_state(ctx)
        artifact = get_artifact(state, name)
        versions = sorted(artifact.versions.values(), key=lambda v: v.version, reverse=True)
        return ModelDetail(
            name=name,
            deprecated=artifact.deprecated,
            stages=artifact.stage_versions(),
            versions=[_version_detail(ctx, v) for v in versions],
            history=[_history(e) for e in artifact.history],
            warnings=[str(w) for w in state.warnings if w.tag.split("@")[0].split("#")[0] == name],
        )


def model_checkout(
    ref: str, output: str | Path | None = None, *, force: bool = False,
    cwd: UserPath | None = None, callback: Callback | None = None,
) -> MaterializeResult:  # fmt: skip
    """Materialize ``churn@v3`` / ``churn#prod`` into its path (or ``output``); HEAD untouched."""
    with session(cwd, callback, write=True) as ctx:
        return checkout_in(ctx, ref, output, force=force, cwd=cwd)


def checkout_in(
    ctx: RepoContext,
    ref: str,
    output: str | Path | None,
    *,
    force: bool,
    cwd: UserPath | None,
    state: RegistryState | None = None,
) -> MaterializeResult:
    """:func:`model_checkout` inside an open session (used by :func:`gitml.api.data.checkout`);
    ``state``: the registry if the caller already read it (the tags are read once)."""
    if state is None:
        state = service.read_state(ctx)
    if service.registry_ref(ctx, state, ref) is None:
        try:
            parsed = parse_ref(ref)
        except UsageError:
            raise UsageError(
                f"-o needs a registry reference, not {ref!r}", hint="e.g. churn@v3 or churn#prod"
            ) from None
        resolve(state, parsed)  # raises "no artifact ..." with a listing
        raise RegistryError(f"cannot resolve {ref!r}")
    dest = None if output is None else as_path(cwd) / Path(output)
    return service.checkout_version(ctx, ref, dest, force=force, state=state)


def model_path(
    name: str, selector: str | None = None, *, cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> Path:  # fmt: skip
    """A local file holding the version: ``name`` is a whole reference
    (``churn@v1``, ``churn#prod``, ``churn@latest``) or an artifact name with
    ``selector`` (a stage, version, or latest). Fetched from the data remote
    when the cache lacks it."""
    from gitml.remotes.workflow import fetch_missing

    with session(cwd, callback, write=True) as ctx:
        version = resolve(service.read_state(ctx), service.model_ref(name, selector))
        tracked, pointer = service.model_file(ctx, version)
        fetch_missing(ctx, {f"{tracked}.gitml@{version.commit[:8]}": pointer})
        return service.local_path(ctx, name, selector)
