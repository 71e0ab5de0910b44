"""Parse and format registry tag names and user references -- pure, no git.

The tag grammar is GTO's (``gto/constants.py: tag_re``), so GTO, DVC and Studio read
what gitml writes and gitml reads what they write::

    churn@v1.2.3        registration            churn@v1.2.3!     deregistration
    churn@deprecated    deprecation             churn#prod#7      assignment (N = 7)
    churn#prod!#8       unassignment            mono/dir=churn@v1.0.0  monorepo name

Every kind may carry a ``#N`` counter (GTO writes it on registrations too when
``--simple`` is off); gitml writes it on stage events only, like GTO's defaults.
GTO's ``@created`` tags are not read (GTO itself never turns them into events).

Counters are canonical decimal (no leading zeros): ``#07`` would parse to the same
event as ``#7`` and break ``format_tag(parse_tag(x)) == x``, so it is refused.

User references (``gitml checkout churn@v3``) extend GTO's shortcuts with *short
versions*: ``churn@v3`` / ``churn@v3.1`` name the highest registered release with that
prefix. ``churn@latest`` (alias ``@greatest``, as in GTO) and ``churn#prod`` too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gitml.errors import RegistryError, UsageError
from gitml.project.names import (
    NAME_PATTERN,
    TAG_ARTIFACT_PATTERN,
    USER_ARTIFACT_PATTERN,
    artifact_problem,
    from_tag_artifact,
    ref_format_problem,
    show,
    stage_problem,
    to_tag_artifact,
)
from gitml.registry.semver import SEMVER_BODY, SemVer, match_short, match_version

_TAG_RE = re.compile(
    rf"(?P<artifact>{TAG_ARTIFACT_PATTERN})"
    rf"(?:(?:#(?P<stage>{NAME_PATTERN})|@(?P<version>v{SEMVER_BODY}))(?P<cancel>!?)"
    rf"|@(?P<deprecated>deprecated))"
    rf"(?:#(?P<counter>0|[1-9][0-9]*))?"
)
_REF_RE = re.compile(
    rf"(?P<artifact>{USER_ARTIFACT_PATTERN})(?:@(?P<selector>[^@#]+)|#(?P<stage>[^@#]+))"
)


@dataclass(frozen=True, slots=True)
class Registration:
    """``NAME@vX.Y.Z``: version X.Y.Z of NAME is the model at the tagged commit."""

    artifact: str
    version: SemVer
    counter: int | None = None


@dataclass(frozen=True, slots=True)
class Deregistration:
    """``NAME@vX.Y.Z!``: the version is withdrawn (its number is never reused)."""

    artifact: str
    version: SemVer
    counter: int | None = None


@dataclass(frozen=True, slots=True)
class Deprecation:
    """``NAME@deprecated``: the whole artifact is retired."""

    artifact: str
    counter: int | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """``NAME#STAGE#N``: the version at the tagged commit enters STAGE."""

    artifact: str
    stage: str
    counter: int | None = None


@dataclass(frozen=True, slots=True)
class Unassignment:
    """``NAME#STAGE!#N``: the version at the tagged commit leaves STAGE."""

    artifact: str
    stage: str
    counter: int | None = None


TagEvent = Registration | Deregistration | Deprecation | Assignment | Unassignment


def _bad_tag(name: str, why: str) -> RegistryError:
    return RegistryError(f"not a registry tag: {show(name)}", hint=why)


def parse_tag(name: str) -> TagEvent:
    """Parse a tag name (without ``refs/tags/``); RegistryError if it is not one of ours."""
    m = _TAG_RE.fullmatch(name)
    if m is None:
        if name.endswith("@created") or "@created#" in name:
            raise _bad_tag(name, "GTO '@created' tags carry no registry event")
        raise _bad_tag(name, "expected NAME@vX.Y.Z[!], NAME@deprecated or NAME#STAGE[!]#N")
    problem = ref_format_problem("refs/tags/" + name)
    if problem is not None:
        raise _bad_tag(name, f"git would refuse it: {problem}")
    artifact = from_tag_artifact(m["artifact"])
    counter = int(m["counter"]) if m["counter"] is not None else None
    cancel = m["cancel"] == "!"
    if m["version"] is not None:
        version = match_version(m["version"])
        if version is None:  # unreachable: the same SemVer pattern matched above
            raise _bad_tag(name, "invalid version")
        if cancel:
            return Deregistration(artifact, version, counter)
        return Registration(artifact, version, counter)
    if m["stage"] is not None:
        if cancel:
            return Unassignment(artifact, m["stage"], counter)
        return Assignment(artifact, m["stage"], counter)
    return Deprecation(artifact, counter)


def format_tag(event: TagEvent) -> str:
    """The tag name for ``event``; refuses field values the grammar could not read back."""
    problem = artifact_problem(event.artifact)
    if problem is not None:
        raise UsageError(f"invalid artifact name {show(event.artifact)}", hint=problem)
    if event.counter is not None and event.counter < 0:
        raise UsageError(f"invalid counter {event.counter}", hint="counters are >= 0")
    base = to_tag_artifact(event.artifact)
    if isinstance(event, Registration | Deregistration):
        text = f"{base}@{event.version}" + ("!" if isinstance(event, Deregistration) else "")
        if match_version(str(event.version)) is None:
            raise UsageError(f"invalid version {show(str(event.version))}")
    elif isinstance(event, Assignment | Unassignment):
        problem = stage_problem(event.stage)
        if problem is not None:
            raise UsageError(f"invalid stage name {show(event.stage)}", hint=problem)
        text = f"{base}#{event.stage}" + ("!" if isinstance(event, Unassignment) else "")
    else:
        text = f"{base}@deprecated"
    if event.counter is not None:
        text += f"#{event.counter}"
    problem = ref_format_problem("refs/tags/" + text)
    if problem is not None:  # e.g. a pre-release ending in ".lock"
        raise UsageError(f"cannot make a git tag of {show(text)}", hint=problem)
    return text


RefKind = Literal["version", "short", "latest", "stage"]


@dataclass(frozen=True, slots=True)
class Ref:
    """What a user means by ``churn@v3``, ``churn@v3.1.2``, ``churn@latest`` or ``churn#prod``.

    ``kind`` tells which field is set: ``version`` (an exact version), ``short``
    (``prefix`` = (3,) or (3, 1)), ``latest``, or ``stage``.
    """

    artifact: str
    kind: RefKind
    version: SemVer | None = None
    prefix: tuple[int, ...] = ()
    stage: str | None = None

    def __str__(self) -> str:
        if self.kind == "version":
            return f"{self.artifact}@{self.version}"
        if self.kind == "short":
            return f"{self.artifact}@v" + ".".join(str(n) for n in self.prefix)
        if self.kind == "latest":
            return f"{self.artifact}@latest"
        return f"{self.artifact}#{self.stage}"


def _bad_ref(text: str, why: str) -> UsageError:
    return UsageError(f"not a registry reference: {show(text)}", hint=why)


def parse_ref(text: str) -> Ref:
    """Parse a user reference; UsageError (with the accepted forms) if it is not one."""
    m = _REF_RE.fullmatch(text)
    if m is None:
        raise _bad_ref(text, "use NAME@vX.Y.Z, NAME@vX, NAME@vX.Y, NAME@latest or NAME#STAGE")
    artifact = m["artifact"]
    problem = artifact_problem(artifact)
    if problem is not None:
        raise _bad_ref(text, problem)
    if m["stage"] is not None:
        problem = stage_problem(m["stage"])
        if problem is not None:
            raise _bad_ref(text, problem)
        return Ref(artifact, "stage", stage=m["stage"])
    selector = m["selector"]
    if selector in ("latest", "greatest"):
        return Ref(artifact, "latest")
    version = match_version(selector)
    if version is not None:
        return Ref(artifact, "version", version=version)
    prefix = match_short(selector)
    if prefix is not None:
        return Ref(artifact, "short", prefix=prefix)
    raise _bad_ref(text, "after '@' give vX.Y.Z, vX, vX.Y or latest")


def looks_like_registry_ref(text: str) -> bool:
    """True when ``text`` is syntactically a registry reference.

    Syntax alone cannot decide (``data@v1`` may also be PATH@REV); the checkout
    command should prefer the registry only if the artifact exists there, see
    :func:`gitml.registry.state.find_ref`.
    """
    try:
        parse_ref(text)
    except UsageError:
        return False
    return True
