"""Semantic versions as GTO writes them: ``v`` + SemVer 2.0.0.

GTO accepts exactly ``v<major>.<minor>.<patch>[-<prerelease>][+<build>]`` with the
SemVer 2.0.0 rules (no leading zeros in numeric parts, lowercase ``v`` only), so a
version written by gitml is readable by GTO and DVC, and every version GTO can write
is readable here. Unlike GTO's own regex we use ASCII digits only: Python's ``\\d``
also matches non-ASCII digits, which no tool should ever put into a tag name.

Ordering is SemVer precedence. Build metadata does not affect precedence, but two
distinct tags (``v1.0.0+a`` and ``v1.0.0+b``) must still sort deterministically, so
the build string breaks ties last; ``==`` compares the exact text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Literal

from gitml.errors import UsageError

Bump = Literal["major", "minor", "patch"]
BUMPS: tuple[Bump, ...] = ("major", "minor", "patch")

_NUM = r"(?:0|[1-9][0-9]*)"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
_BUILD_ID = r"[0-9a-zA-Z-]+"
#: The version part of a tag, without the leading ``v`` (shared with the tag grammar).
SEMVER_BODY = (
    rf"{_NUM}\.{_NUM}\.{_NUM}"
    rf"(?:-{_PRE_ID}(?:\.{_PRE_ID})*)?"
    rf"(?:\+{_BUILD_ID}(?:\.{_BUILD_ID})*)?"
)
_FULL_RE = re.compile(
    rf"v(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>{_PRE_ID}(?:\.{_PRE_ID})*))?"
    rf"(?:\+(?P<build>{_BUILD_ID}(?:\.{_BUILD_ID})*))?"
)
#: A short version as users type it: ``v3`` or ``v3.1`` (a prefix of a release).
_SHORT_RE = re.compile(rf"v(?P<major>{_NUM})(?:\.(?P<minor>{_NUM}))?")


@total_ordering
@dataclass(frozen=True, slots=True, eq=True)
class SemVer:
    """One version. ``str()`` gives the tag spelling, e.g. ``v1.2.3-rc.1``."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"v{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    @property
    def is_release(self) -> bool:
        """False for pre-releases (``v2.0.0-rc.1``), which short versions skip."""
        return not self.prerelease

    def _key(self) -> tuple[object, ...]:
        # A release outranks its own pre-releases; numeric identifiers rank below
        # alphanumeric ones and compare as numbers (SemVer 2.0.0, rule 11).
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, not self.prerelease, pre, self.build)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() < other._key()

    def precedence_equal(self, other: SemVer) -> bool:
        """SemVer equality: ignores build metadata."""
        return self._key()[:5] == other._key()[:5]

    def bump(self, part: Bump) -> SemVer:
        """The next release; pre-release and build parts are dropped."""
        if part == "major":
            return SemVer(self.major + 1, 0, 0)
        if part == "minor":
            return SemVer(self.major, self.minor + 1, 0)
        return SemVer(self.major, self.minor, self.patch + 1)


ZERO = SemVer(0, 0, 0)


def match_version(text: str) -> SemVer | None:
    """Parse ``v1.2.3[-pre][+build]``; None when it is not exactly that."""
    m = _FULL_RE.fullmatch(text)
    if m is None:
        return None
    pre, build = m["pre"], m["build"]
    return SemVer(
        int(m["major"]),
        int(m["minor"]),
        int(m["patch"]),
        tuple(pre.split(".")) if pre else (),
        tuple(build.split(".")) if build else (),
    )


def parse_version(text: str) -> SemVer:
    """Parse a full version given by a user (``--version v2.1.0``)."""
    version = match_version(text)
    if version is None:
        raise UsageError(
            f"invalid version {text[:80]!r}",
            hint="use 'v' + SemVer, e.g. v1.0.0 or v2.1.0-rc.1 (GTO requires the 'v')",
        )
    return version


def match_short(text: str) -> tuple[int, ...] | None:
    """Parse a short version ``v3`` / ``v3.1`` into its numeric prefix."""
    m = _SHORT_RE.fullmatch(text)
    if m is None:
        return None
    if m["minor"] is None:
        return (int(m["major"]),)
    return (int(m["major"]), int(m["minor"]))


def matches_prefix(version: SemVer, prefix: tuple[int, ...]) -> bool:
    """True when a release ``version`` starts with ``prefix`` (``(3,)`` ~ ``v3.*.*``)."""
    numbers = (version.major, version.minor, version.patch)
    return version.is_release and numbers[: len(prefix)] == prefix
