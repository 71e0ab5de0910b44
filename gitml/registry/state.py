"""Fold the repository's tags into a :class:`RegistryState` -- pure, one pass.

The caller lists all tags with ONE ``git for-each-ref`` (name, annotated?, target,
tagger, date, message); this module never runs git. GTO instead opens every tag
one by one, which is why it needs 6-12 s at ~1,500 tags (iterative/gto#156).

Ordering of an artifact's events (what "latest" means):

* Events with a counter ``#N`` are ordered by N. N is causal: whoever wrote N had
  read every earlier tag, so clock skew between machines cannot reorder them.
  GTO orders by tagger date instead; for tags gitml writes both orders agree.
* Events without a counter (registrations, deregistrations, deprecations, GTO
  ``--simple`` stage tags) are placed after every counted event dated strictly
  earlier, then by date, then registrations < other events < deprecations (tag
  dates have one-second resolution and scripts write several tags per second),
  then by tag name. "Strictly" keeps a registration made in the same second as
  its first stage assignment before that assignment.

Stages follow GTO: an assignment does not remove the stage from other versions.
Each version's latest event in a stage decides whether it is in that stage;
deregistered versions drop out; the *current* version of a stage is the one
assigned most recently ("latest assignment wins", ``gto show``'s default view;
``gto which`` instead picks the highest SemVer). So demoting the current version
brings back the previous one still in the stage. An artifact is deprecated when
its latest event is a deprecation (any later event revives it, as in GTO).

Tags without ``@`` or ``#`` (``v1.0``, ``release-3``) are ordinary project tags and
are skipped silently; anything else we cannot read becomes a warning, never an error.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable

from gitml.errors import RegistryError
from gitml.git.refname import is_git_oid
from gitml.registry.grammar import (
    Assignment,
    Deprecation,
    Deregistration,
    Registration,
    TagEvent,
    Unassignment,
    parse_tag,
)
from gitml.registry.model import (
    Artifact,
    Event,
    RegistryState,
    RegistryWarning,
    StageState,
    TagLike,
    Version,
    action_of,
)
from gitml.registry.record import EventRecord, Record, RegistrationRecord, parse_record
from gitml.registry.semver import SemVer

_OrderKey = tuple[int, int, int, int, str]


def _record_for(event: TagEvent, tag: TagLike, warn: list[RegistryWarning]) -> Record | None:
    """The message's record, if it agrees with the tag (the tag name is the truth)."""
    record = parse_record(tag.message)
    if record is None:
        return None
    ok = record.artifact == event.artifact
    if isinstance(record, RegistrationRecord):
        ok = ok and isinstance(event, Registration) and record.version == str(event.version)
        ok = ok and record.commit == tag.target
    else:
        ok = ok and record.action == action_of(event)
        if isinstance(event, Assignment | Unassignment):
            ok = ok and record.stage == event.stage
        elif isinstance(event, Deregistration):
            ok = ok and record.version == str(event.version)
    if not ok:
        warn.append(RegistryWarning(tag.name, "its record does not match the tag; record ignored"))
        return None
    return record


def _event(ev: TagEvent, tag: TagLike, warn: list[RegistryWarning]) -> Event:
    tagger = f"{tag.tagger_name} <{tag.tagger_email}>" if tag.tagger_email else tag.tagger_name
    version = ev.version if isinstance(ev, Registration | Deregistration) else None
    record = _record_for(ev, tag, warn)
    return Event(
        tag.name, ev, tag.target, tagger, tag.tagger_time or 0, tag.message, record, version
    )


def _order_keys(events: list[Event]) -> list[_OrderKey]:
    counted = sorted((e.date, e.event.counter) for e in events if e.event.counter is not None)
    dates = [d for d, _ in counted]
    prefix_max: list[int] = []
    for _, n in counted:
        prefix_max.append(max(n, prefix_max[-1]) if prefix_max else n)
    keys: list[_OrderKey] = []
    for e in events:
        if e.event.counter is not None:
            keys.append((e.event.counter, 0, e.date, 0, e.tag))
        else:
            # Tag dates have one-second resolution. A registration in the same
            # second as a counted event goes before it (assignments refer to
            # registered versions); a deprecation goes after it (it retires what
            # came before: `demote` then `deprecate` from one script).
            if isinstance(e.event, Deprecation):
                i = bisect.bisect_right(dates, e.date)
            else:
                i = bisect.bisect_left(dates, e.date)
            keys.append((prefix_max[i - 1] if i else 0, 1, e.date, _same_second_rank(e), e.tag))
    return keys


def _same_second_rank(e: Event) -> int:
    # Uncounted events of one second keep their causal order, not the tag names'
    # (``churn@deprecated`` sorts before ``churn@v1.0.0!``): a version is registered
    # before it is deregistered, and deprecating the artifact retires everything
    # written before it in that second.
    if isinstance(e.event, Registration):
        return 0
    return 2 if isinstance(e.event, Deprecation) else 1


def fold_tags(tags: Iterable[TagLike]) -> RegistryState:
    """Build the registry state from every tag of the repository."""
    warn: list[RegistryWarning] = []
    names: set[str] = set()
    max_counter: dict[str, int] = {}
    by_artifact: dict[str, list[Event]] = defaultdict(list)
    for tag in tags:
        names.add(tag.name)
        if "@" not in tag.name and "#" not in tag.name:
            continue
        try:
            event = parse_tag(tag.name)
        except RegistryError as exc:
            warn.append(RegistryWarning(tag.name, f"skipped: {exc.hint or exc.message}"))
            continue
        if event.counter is not None:
            max_counter[event.artifact] = max(max_counter.get(event.artifact, 0), event.counter)
        if not tag.annotated:
            warn.append(RegistryWarning(tag.name, "skipped: lightweight tag (GTO ignores it too)"))
        elif not is_git_oid(tag.target) or tag.target_type != "commit":
            warn.append(RegistryWarning(tag.name, "skipped: it does not point at a commit"))
        else:
            by_artifact[event.artifact].append(_event(event, tag, warn))
    artifacts = {
        name: _fold_artifact(name, items, max_counter.get(name, 0) + 1, warn)
        for name, items in sorted(by_artifact.items())
    }
    return RegistryState(artifacts, tuple(warn), frozenset(names), max_counter)


def _fold_artifact(
    name: str, items: list[Event], next_counter: int, warn: list[RegistryWarning]
) -> Artifact:
    keys = _order_keys(items)
    events = [e for _, e in sorted(zip(keys, items, strict=True), key=lambda p: p[0])]
    regs = _Registrations(events, warn)
    history = [_with_version(e, regs, warn) for e in events]
    deprecation = history[-1] if isinstance(history[-1].event, Deprecation) else None
    # Each version's latest event per stage decides whether it is in that stage.
    last_in_stage: dict[str, dict[SemVer, tuple[int, bool]]] = defaultdict(dict)
    stage_events: dict[str, list[Event]] = defaultdict(list)
    for pos, e in enumerate(history):
        if isinstance(e.event, Assignment | Unassignment):
            stage_events[e.event.stage].append(e)
            if e.version is not None:
                last_in_stage[e.event.stage][e.version] = (pos, isinstance(e.event, Assignment))
    stages_of: dict[SemVer, list[str]] = defaultdict(list)
    active_in: dict[str, list[SemVer]] = {}
    for stage, last in last_in_stage.items():
        live = [(pos, v) for v, (pos, on) in last.items() if on and regs.dereg[v] is None]
        active_in[stage] = [v for _, v in sorted(live, reverse=True)]  # newest first
        for v in active_in[stage]:
            stages_of[v].append(stage)
    versions = {
        v: Version(name, v, reg.commit, regs.last[v], regs.dereg[v], tuple(sorted(stages_of[v])))
        for v, reg in sorted(regs.first.items())
    }
    stages = {
        stage: StageState(stage, tuple(versions[v] for v in active_in.get(stage, [])), tuple(evs))
        for stage, evs in sorted(stage_events.items())
    }
    return Artifact(
        name=name,
        versions={str(v): ver for v, ver in versions.items()},
        stages=stages,
        deprecation=deprecation,
        next_counter=next_counter,
        history=tuple(history),
    )


class _Registrations:
    """Versions from (de)registration events, in order: a version is registered
    when its latest such event is a registration (GTO allows re-registration)."""

    def __init__(self, events: list[Event], warn: list[RegistryWarning]) -> None:
        self.first: dict[SemVer, Event] = {}
        self.last: dict[SemVer, Event] = {}
        self.dereg: dict[SemVer, Event | None] = {}
        for e in events:
            ev = e.event
            if isinstance(ev, Registration):
                if ev.version in self.first and self.first[ev.version].commit != e.commit:
                    warn.append(RegistryWarning(e.tag, "re-registers the version elsewhere"))
                self.first.setdefault(ev.version, e)
                self.last[ev.version] = e
                self.dereg[ev.version] = None
            elif isinstance(ev, Deregistration):
                if ev.version in self.first:
                    self.dereg[ev.version] = e
                else:
                    warn.append(RegistryWarning(e.tag, "deregisters a version never registered"))
        self.by_commit: dict[str, list[SemVer]] = defaultdict(list)
        for v, reg in self.first.items():
            self.by_commit[reg.commit].append(v)


def _with_version(e: Event, regs: _Registrations, warn: list[RegistryWarning]) -> Event:
    """A stage event with the version it is about: the one registered at its commit."""
    if not isinstance(e.event, Assignment | Unassignment):
        return e
    version = _version_at(e, regs.by_commit.get(e.commit, []), warn)
    # (dataclasses.replace is several times slower; this runs once per stage tag)
    return Event(e.tag, e.event, e.commit, e.tagger, e.date, e.message, e.record, version)


def _version_at(
    event: Event, candidates: list[SemVer], warn: list[RegistryWarning]
) -> SemVer | None:
    """GTO's rule; if several versions share the commit, the record may name one."""
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        warn.append(RegistryWarning(event.tag, "no registered version at its commit; ignored"))
        return None
    named = event.record.version if isinstance(event.record, EventRecord) else None
    for v in candidates:
        if str(v) == named:
            return v
    warn.append(RegistryWarning(event.tag, "several versions at its commit; ignored"))
    return None
