"""Where experiments live: ``refs/gitml/exps/<base[:12]>/<name>``, and their notes.

An experiment is a commit whose parent is the commit it was based on; its
note on ``refs/notes/gitml`` is the usual metadata document plus an
``experiment`` section (name, base, status, overrides, error). The refs keep
the commits (and, through gitml's gc roots, their data) alive; ``git gc``
never prunes what a ref names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gitml.context import RepoContext
from gitml.errors import UsageError
from gitml.git.notes import read_notes
from gitml.meta.document import parse_note

EXPS_PREFIX = "refs/gitml/exps/"
BASE_CHARS = 12
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def check_exp_name(name: str) -> str:
    if not _NAME.match(name) or name.endswith((".", ".lock")) or ".." in name:
        raise UsageError(
            f"invalid experiment name {name[:100]!r}",
            "use letters, digits, '.', '_' and '-' (at most 100, starting with a letter or digit)",
        )
    return name


def exp_ref(base: str, name: str) -> str:
    return f"{EXPS_PREFIX}{base[:BASE_CHARS]}/{check_exp_name(name)}"


@dataclass
class Experiment:
    name: str
    ref: str
    sha: str  # the experiment commit ("" while queued)
    base: str
    status: str  # ok | failed | queued | running
    overrides: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)  # params file -> document
    metrics: dict[str, Any] = field(default_factory=dict)  # metrics file -> document
    guards: dict[str, Any] | None = None  # the guard report (to_dict), None: none ran
    error: str | None = None
    created: str = ""

    @property
    def guards_ok(self) -> bool | None:
        return None if self.guards is None else bool(self.guards.get("ok", True))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ref": self.ref,
            "commit": self.sha,
            "base": self.base,
            "status": self.status,
            "guards_ok": self.guards_ok,
            "overrides": self.overrides,
            "params": self.params,
            "metrics": self.metrics,
            "error": self.error,
            "created": self.created,
        }


def _from_note(ref: str, sha: str, doc: dict[str, Any] | None) -> Experiment:
    name = ref.rpartition("/")[2]
    info = doc.get("experiment") if doc else None
    if not isinstance(info, dict):
        return Experiment(name, ref, sha, "", "unknown")
    overrides = info.get("overrides")
    guards = doc.get("guards") if doc else None
    return Experiment(
        name=name,
        ref=ref,
        sha=sha,
        base=str(info.get("base") or ""),
        status=str(info.get("status") or "unknown"),
        overrides=overrides if isinstance(overrides, dict) else {},
        params=doc.get("params") or {} if doc else {},
        metrics=doc.get("metrics") or {} if doc else {},
        guards=guards if isinstance(guards, dict) else None,
        error=str(info["error"]) if info.get("error") else None,
        created=str(info.get("created") or ""),
    )


def list_experiments(ctx: RepoContext) -> list[Experiment]:
    """Every experiment ref with what its note says, oldest first."""
    refs = ctx.git.list_refs(EXPS_PREFIX)
    notes = read_notes(ctx.git, refs.values())

    def warn(why: str) -> None:
        ctx.reporter.warning(f"an experiment's note is unreadable: {why}")

    found = [
        _from_note(ref, sha, parse_note(notes.get(sha), on_bad=warn)) for ref, sha in refs.items()
    ]
    return sorted(found, key=lambda e: (e.created, e.name))


def find_experiment(ctx: RepoContext, name: str) -> Experiment:
    """The experiment called ``name`` (or ``<base>/<name>``, or its full ref)."""
    wanted = name if name.startswith(EXPS_PREFIX) else None
    hits = [
        e
        for e in list_experiments(ctx)
        if e.ref == wanted or e.name == name or e.ref.endswith("/" + name)
    ]
    if not hits:
        raise UsageError(f"no experiment named {name[:100]!r}", "gitml exp show lists them")
    if len(hits) > 1:
        raise UsageError(
            f"{len(hits)} experiments are named {name[:100]!r}",
            "name one as BASE/NAME: " + ", ".join(e.ref[len(EXPS_PREFIX) :] for e in hits[:5]),
        )
    return hits[0]
