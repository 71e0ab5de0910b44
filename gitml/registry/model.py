"""The registry's read model: immutable snapshots built by :func:`state.fold_tags`.

Everything here is derived from tag names, tag targets, taggers, dates and
messages. Nothing is stored elsewhere, so any clone with the tags has the same
registry (the reason a registry in tags beats one in a database).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from gitml.registry.grammar import (
    Assignment,
    Deprecation,
    Deregistration,
    Registration,
    TagEvent,
)
from gitml.registry.record import Record, RegistrationRecord
from gitml.registry.semver import SemVer


class TagLike(Protocol):
    """What the registry needs of a tag: the fields of ``gitml.git.tags.TagInfo``.

    ``target`` is the sha of the object the tag finally points at and
    ``target_type`` its type (``commit`` for every tag gitml or GTO writes);
    ``tagger_time`` is the tagger date in Unix seconds (None if absent).
    """

    @property
    def name(self) -> str: ...
    @property
    def annotated(self) -> bool: ...
    @property
    def target(self) -> str: ...
    @property
    def target_type(self) -> str: ...
    @property
    def tagger_name(self) -> str: ...
    @property
    def tagger_email(self) -> str: ...
    @property
    def tagger_time(self) -> int | None: ...
    @property
    def message(self) -> str: ...


@dataclass(frozen=True, slots=True)
class RawTag:
    """A plain :class:`TagLike` (tests, and callers that build tags by hand)."""

    name: str
    target: str
    tagger_name: str = ""
    tagger_time: int | None = 0
    message: str = ""
    annotated: bool = True
    tagger_email: str = ""
    target_type: str = "commit"


@dataclass(frozen=True, slots=True)
class RegistryWarning:
    """A tag that was skipped or only partly understood, and why."""

    tag: str
    message: str

    def __str__(self) -> str:
        return f"tag {self.tag!r}: {self.message}"


@dataclass(frozen=True, slots=True)
class Event:
    """One registry tag, understood. ``tagger`` is ``Name <email>``, ``date`` Unix
    seconds (0 if the tag has none). ``version`` is the version the event is about:
    named by the tag for (de)registrations, found via the tagged commit for stage
    events (GTO's rule), None for deprecations and unmatched stage events."""

    tag: str
    event: TagEvent
    commit: str
    tagger: str
    date: int
    message: str = field(repr=False)
    record: Record | None = field(repr=False)
    version: SemVer | None = None

    @property
    def action(self) -> str:
        """``register``, ``deregister``, ``deprecate``, ``assign`` or ``unassign``."""
        return action_of(self.event)

    @property
    def summary(self) -> str:
        """The message's first line (what GTO and forges show)."""
        return self.message.strip().split("\n", 1)[0] if self.message.strip() else ""


def action_of(event: TagEvent) -> str:
    """The verb of a tag event, as in records and GTO's history."""
    if isinstance(event, Registration):
        return "register"
    if isinstance(event, Deregistration):
        return "deregister"
    if isinstance(event, Deprecation):
        return "deprecate"
    return "assign" if isinstance(event, Assignment) else "unassign"


@dataclass(frozen=True, slots=True)
class Version:
    """One registered version. ``registration`` is its latest registration event;
    ``deregistration`` is set when the version is currently deregistered."""

    artifact: str
    version: SemVer
    commit: str
    registration: Event
    deregistration: Event | None
    stages: tuple[str, ...] = ()  # stages this version is active in, sorted

    @property
    def active(self) -> bool:
        return self.deregistration is None

    @property
    def record(self) -> RegistrationRecord | None:
        rec = self.registration.record
        return rec if isinstance(rec, RegistrationRecord) else None

    @property
    def tag(self) -> str:
        return self.registration.tag


@dataclass(frozen=True, slots=True)
class StageState:
    """One stage of one artifact.

    ``active``: every (not deregistered) version whose latest event in this stage is
    an assignment, most recently assigned first. ``current`` is the first of them --
    what ``gto show`` prints in the stage column by default.
    """

    stage: str
    active: tuple[Version, ...]
    history: tuple[Event, ...]

    @property
    def current(self) -> Version | None:
        return self.active[0] if self.active else None


@dataclass(frozen=True, slots=True)
class Artifact:
    """One artifact: its versions (deregistered ones included), stages and history."""

    name: str
    versions: Mapping[str, Version]  # str(version) -> Version
    stages: Mapping[str, StageState]
    deprecation: Event | None
    next_counter: int
    history: tuple[Event, ...]

    @property
    def deprecated(self) -> bool:
        return self.deprecation is not None

    def active_versions(self) -> list[Version]:
        """Registered, not deregistered versions, highest first."""
        return sorted(
            (v for v in self.versions.values() if v.active), key=lambda v: v.version, reverse=True
        )

    def latest(self) -> Version | None:
        """The highest active version (SemVer precedence, pre-releases included, as GTO)."""
        active = self.active_versions()
        return active[0] if active else None

    def stage_versions(self) -> dict[str, str]:
        """stage -> the version currently in it (as ``gto show``), by stage name."""
        return {
            s.stage: str(s.current.version)
            for s in sorted(self.stages.values(), key=lambda s: s.stage)
            if s.current is not None
        }


@dataclass(frozen=True, slots=True)
class RegistryState:
    """All artifacts, plus what could not be read. ``tag_names`` holds every tag name
    seen (foreign and lightweight ones too) so planners never pick a taken name."""

    artifacts: Mapping[str, Artifact]
    warnings: tuple[RegistryWarning, ...] = ()
    tag_names: frozenset[str] = frozenset()
    max_counters: Mapping[str, int] = field(default_factory=dict)

    def next_counter(self, artifact: str) -> int:
        """The ``N`` for the artifact's next counted tag: 1 + the highest N in any tag
        of that artifact (lightweight and skipped ones too, exactly like GTO)."""
        return self.max_counters.get(artifact, 0) + 1
