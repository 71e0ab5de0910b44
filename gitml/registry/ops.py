"""Registry operations as pure planners: state in, (tag name, commit, message) out.

The API layer reads the state (one ``for-each-ref``), calls a planner, then calls
``gitml.git.tags.create_tag(plan.tag, plan.rev, plan.message)``. Nothing here runs
git, so every rule is testable without a repository.

Concurrency: creating a tag is atomic in git and fails if the name exists. Two
people registering at once both plan ``churn@v4.0.0``; one ``create_tag`` wins, the
other fails. The loser re-reads the state and raises :func:`conflict_error`, which
says who got there first. Stage tags get a fresh counter ``N`` (1 + the highest in
any tag of the artifact), so concurrent promotions collide on the name too instead
of silently reordering. Tags pushed from two clones with the same ``N`` but
different stages can both exist; the order then falls back to date, then name.

GTO maps a stage tag to a version through the tagged commit, so one commit may hold
only one version of an artifact: registering a second one there is refused (GTO
refuses it too, and would otherwise fail to read the repository).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from gitml.errors import RegistryError, UsageError
from gitml.git.refname import is_git_oid
from gitml.project.names import new_tag_problem, show, validate_stage
from gitml.registry.grammar import (
    Assignment,
    Deprecation,
    Deregistration,
    Ref,
    Registration,
    TagEvent,
    Unassignment,
    format_tag,
    parse_ref,
)
from gitml.registry.model import Artifact, RegistryState, Version
from gitml.registry.record import (
    EventAction,
    EventRecord,
    GuardSummary,
    Json,
    ModelInfo,
    RegistrationRecord,
    format_record,
    human_size,
    one_line,
)
from gitml.registry.resolve import deprecated_error, get_artifact, next_version, resolve, when
from gitml.registry.semver import Bump, SemVer


@dataclass(frozen=True, slots=True)
class TagPlan:
    """One tag to create: ``git tag -a <tag> <rev> -m <message>``."""

    tag: str
    rev: str
    message: str
    event: TagEvent
    version: SemVer | None


def _new_tag(state: RegistryState, event: TagEvent, counted: TagEvent | None = None) -> str:
    """The tag to create for ``event``; its counted form if the simple name was used
    before (e.g. deprecated, revived, deprecated again), like GTO's ``--force``."""
    tag = format_tag(event)
    if tag in state.tag_names and counted is not None:
        tag = format_tag(counted)
    problem = new_tag_problem(tag)
    if problem is not None:
        raise UsageError(f"cannot create tag {show(tag)}", hint=problem)
    if tag in state.tag_names:
        raise RegistryError(f"tag {show(tag)} already exists", hint="see the registry warnings")
    return tag


def _usable(artifact: Artifact) -> None:
    """Refuse to act on a deprecated artifact (GTO would let any new tag revive it)."""
    if artifact.deprecation is not None:
        tag = artifact.deprecation.tag
        raise deprecated_error(artifact, f"delete the tag {tag!r} to revive it")


def plan_register(
    state: RegistryState,
    name: str,
    *,
    commit: str,
    model: ModelInfo,
    data: Mapping[str, str] | None = None,
    params: Mapping[str, Json] | None = None,
    metrics: Mapping[str, Json] | None = None,
    guards: Collection[GuardSummary] = (),
    note: str = "",
    bump: Bump = "major",
    version: SemVer | str | None = None,
) -> TagPlan:
    """Register the model at ``commit`` (full sha) as the next version of ``name``."""
    if not is_git_oid(commit):
        raise UsageError(f"not a full commit id: {show(commit)}", hint="resolve the rev first")
    artifact = state.artifacts.get(name)
    if artifact is not None:
        _usable(artifact)
        taken = [v for v in artifact.versions.values() if v.commit == commit]
        if taken:
            raise RegistryError(
                f"commit {commit[:12]} already holds {name}@{taken[0].version}",
                hint="GTO maps stages to versions by commit: commit the new model first",
            )
    new = next_version(state, name, bump, version)
    record = RegistrationRecord(
        artifact=name,
        version=str(new),
        commit=commit,
        model=model,
        data=dict(data or {}),
        params=dict(params or {}),
        metrics=dict(metrics or {}),
        guards=tuple(guards),
        note=note,
    )
    headline = f"Register {name} {new}: {model.path} ({human_size(model.size)})"
    event = Registration(name, new)
    return TagPlan(_new_tag(state, event), commit, format_record(headline, record), event, new)


def _version(state: RegistryState, ref: Ref | str) -> Version:
    return resolve(state, parse_ref(ref) if isinstance(ref, str) else ref)


def _stage_message(verb: str, v: Version, stage: str, action: EventAction, note: str) -> str:
    text = f"{verb} {v.artifact} {v.version} {'to' if action == 'assign' else 'from'} {stage}"
    if note:
        text += f": {one_line(note, 120)}"
    record = EventRecord(action, v.artifact, str(v.version), stage, note)
    return format_record(text, record)


def plan_assign(
    state: RegistryState,
    ref: Ref | str,
    stage: str,
    *,
    note: str = "",
    allowed_stages: Collection[str] | None = None,
) -> TagPlan:
    """Put the version ``ref`` names (``churn@v3``, ``churn#staging``...) into ``stage``.

    Re-assigning a version that is in the stage but not current is allowed: that is
    a rollback. Assigning the current version again is refused.
    """
    validate_stage(stage)
    if allowed_stages is not None and stage not in allowed_stages:
        raise UsageError(
            f"unknown stage {show(stage)}", hint="allowed: " + ", ".join(sorted(allowed_stages))
        )
    v = _version(state, ref)
    artifact = get_artifact(state, v.artifact)
    _usable(artifact)
    current = artifact.stages[stage].current if stage in artifact.stages else None
    if current is not None and current.version == v.version:
        raise RegistryError(f"{v.artifact}@{v.version} is already the current {stage}")
    n = state.next_counter(v.artifact)
    event = Assignment(v.artifact, stage, n)
    message = _stage_message("Promote", v, stage, "assign", note)
    return TagPlan(_new_tag(state, event), v.commit, message, event, v.version)


def plan_unassign(
    state: RegistryState, name: str, stage: str, ref: Ref | str | None = None, *, note: str = ""
) -> TagPlan:
    """Take ``stage`` away from a version (default: the stage's current version)."""
    validate_stage(stage)
    artifact = get_artifact(state, name)
    st = artifact.stages.get(stage)
    v = _version(state, ref) if ref is not None else (st.current if st else None)
    if v is None or v.artifact != name or st is None or v not in st.active:
        what = f"{name}@{v.version}" if v is not None else name
        raise RegistryError(f"{what} is not in stage {show(stage)}")
    event = Unassignment(name, stage, state.next_counter(name))
    message = _stage_message("Demote", v, stage, "unassign", note)
    return TagPlan(_new_tag(state, event), v.commit, message, event, v.version)


def plan_deprecate(state: RegistryState, name: str, *, note: str = "") -> TagPlan:
    """Retire an artifact; tagged at the commit of its latest event, as GTO does."""
    artifact = get_artifact(state, name)
    _usable(artifact)
    n = state.next_counter(name)
    tag = _new_tag(state, Deprecation(name), Deprecation(name, n))
    headline = f"Deprecate {name}" + (f": {one_line(note, 120)}" if note else "")
    message = format_record(headline, EventRecord("deprecate", name, note=note))
    return TagPlan(tag, artifact.history[-1].commit, message, Deprecation(name), None)


def plan_deregister(state: RegistryState, ref: Ref | str, *, note: str = "") -> TagPlan:
    """Withdraw one exact version (``churn@v3.0.0``); it leaves every stage."""
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    if parsed.kind != "version":
        raise UsageError(f"name the exact version to deregister, not {parsed}")
    v = resolve(state, parsed)
    n = state.next_counter(v.artifact)
    event = Deregistration(v.artifact, v.version)
    tag = _new_tag(state, event, Deregistration(v.artifact, v.version, n))
    headline = f"Deregister {v.artifact} {v.version}" + (f": {one_line(note, 120)}" if note else "")
    record = EventRecord("deregister", v.artifact, str(v.version), note=note)
    return TagPlan(tag, v.commit, format_record(headline, record), event, v.version)


def conflict_error(plan: TagPlan, fresh: RegistryState) -> RegistryError:
    """The error for a ``create_tag`` that failed because ``plan.tag`` now exists.

    ``fresh`` is the state re-read after the failure; it names who won the race.
    """
    artifact = fresh.artifacts.get(plan.event.artifact)
    won = next((e for e in artifact.history if e.tag == plan.tag), None) if artifact else None
    by = f" by {won.tagger or 'someone'} on {when(won.date)}" if won else " by someone else"
    if isinstance(plan.event, Registration):
        return RegistryError(
            f"version {plan.version} of {plan.event.artifact} already registered{by}",
            hint="run the command again: it will take the next version",
        )
    if isinstance(plan.event, Deprecation | Deregistration):
        return RegistryError(
            f"tag {plan.tag} was created{by} at the same time", hint="nothing left to do"
        )
    return RegistryError(
        f"tag {plan.tag} was created{by} at the same time",
        hint=f"someone changed the stages of {plan.event.artifact}; check them and run again",
    )
