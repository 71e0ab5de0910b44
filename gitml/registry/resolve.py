"""Answer "which version?" from a :class:`RegistryState`: references and new numbers.

Short versions: ``churn@v3`` is the highest *release* ``v3.y.z`` that is not
deregistered, ``churn@v3.1`` the highest ``v3.1.z``. Pre-releases are skipped by
short versions (as package managers do for ranges) and must be named in full;
``@latest`` follows GTO and is the highest active version, pre-releases included.

Version numbers are never reused: ``next_version`` bumps from the highest version
ever registered, deregistered ones included, and refuses an explicit version that
was registered before. GTO's own first version is ``v0.0.1`` with patch bumps;
gitml's default bump is major, so the first version is ``v1.0.0`` (``--bump minor``
starts at ``v0.1.0``, ``--bump patch`` at ``v0.0.1``: a bump from ``v0.0.0``).
"""

from __future__ import annotations

import time

from gitml.errors import RegistryError, UsageError
from gitml.project.names import show, validate_artifact_name
from gitml.registry.grammar import Ref, Registration, format_tag, parse_ref
from gitml.registry.model import Artifact, RegistryState, Version
from gitml.registry.semver import ZERO, Bump, SemVer, matches_prefix, parse_version

_LIST_MAX = 10


def when(date: int) -> str:
    """A tagger date for messages: ``2024-05-01 12:00 UTC``."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(date))


def _listing(items: list[str], what: str) -> str:
    if not items:
        return f"no {what} yet"
    shown = items[:_LIST_MAX]
    more = f" (+{len(items) - _LIST_MAX} more)" if len(items) > _LIST_MAX else ""
    return f"{what}: " + ", ".join(shown) + more


def deprecated_error(artifact: Artifact, hint: str) -> RegistryError:
    """The error for acting on a deprecated artifact."""
    dep = artifact.deprecation
    since = f" (since {when(dep.date)})" if dep is not None else ""
    return RegistryError(f"artifact {show(artifact.name)} is deprecated{since}", hint=hint)


def get_artifact(state: RegistryState, name: str) -> Artifact:
    """The artifact, or RegistryError listing the artifacts that exist."""
    artifact = state.artifacts.get(name)
    if artifact is None:
        raise RegistryError(
            f"no artifact {show(name)} in the registry",
            hint=_listing(sorted(state.artifacts), "artifacts"),
        )
    return artifact


def _versions_hint(artifact: Artifact) -> str:
    return _listing([str(v.version) for v in artifact.active_versions()], "registered versions")


def _stages_hint(artifact: Artifact) -> str:
    current = [
        f"{s.stage}={s.current.version}" for s in artifact.stages.values() if s.current is not None
    ]
    return _listing(current, "stages")


def resolve(state: RegistryState, ref: Ref | str) -> Version:
    """The version ``ref`` names; RegistryError with a hint listing what exists."""
    if isinstance(ref, str):
        ref = parse_ref(ref)
    artifact = get_artifact(state, ref.artifact)
    if ref.kind == "version":
        found = artifact.versions.get(str(ref.version))
        if found is None:
            raise RegistryError(f"{ref} is not registered", hint=_versions_hint(artifact))
        if found.deregistration is not None:
            raise RegistryError(
                f"{ref} was deregistered on {when(found.deregistration.date)}",
                hint=f"its commit {found.commit[:12]} is still in git history",
            )
        return found
    if ref.kind == "short":
        for v in artifact.active_versions():
            if matches_prefix(v.version, ref.prefix):
                return v
        raise RegistryError(f"no registered release matches {ref}", hint=_versions_hint(artifact))
    if artifact.deprecation is not None:
        raise deprecated_error(artifact, "name a version (NAME@vX.Y.Z) to read it anyway")
    if ref.kind == "latest":
        latest = artifact.latest()
        if latest is None:
            raise RegistryError(f"{ref}: no active version", hint=_versions_hint(artifact))
        return latest
    stage = artifact.stages.get(ref.stage or "")
    if stage is None or stage.current is None:
        raise RegistryError(
            f"no version of {show(artifact.name)} is in stage {show(ref.stage or '')}",
            hint=_stages_hint(artifact),
        )
    return stage.current


def find_ref(state: RegistryState, text: str) -> Ref | None:
    """``text`` as a registry reference if it is one *and* its artifact exists.

    This is how ``checkout`` decides: ``churn@v3`` goes to the registry when an
    artifact ``churn`` is registered; otherwise the argument is ``PATH@REV``.
    """
    try:
        ref = parse_ref(text)
    except UsageError:
        return None
    return ref if ref.artifact in state.artifacts else None


def next_version(
    state: RegistryState,
    name: str,
    bump: Bump = "major",
    explicit: SemVer | str | None = None,
) -> SemVer:
    """The version a new registration of ``name`` gets; refuses one that exists."""
    validate_artifact_name(name)
    artifact = state.artifacts.get(name)
    known = artifact.versions if artifact is not None else {}
    if explicit is not None:
        version = parse_version(explicit) if isinstance(explicit, str) else explicit
        old = known.get(str(version))
        if old is not None:
            what = "registered" if old.active else "registered and deregistered"
            raise RegistryError(
                f"{name}@{version} was already {what} (commit {old.commit[:12]})",
                hint="version numbers are never reused; pick another --version or omit it",
            )
    else:
        base = max((v.version for v in known.values()), default=ZERO)
        version = base.bump(bump)
    tag = format_tag(Registration(name, version))
    if tag in state.tag_names:
        raise RegistryError(
            f"a tag named {show(tag)} already exists but is not a registration gitml can read",
            hint="see the registry warnings; choose another version with --version",
        )
    return version
