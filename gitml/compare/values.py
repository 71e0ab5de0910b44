"""Metrics and params of one version, read from the files committed at it.

Which files: those gitml.yaml (as that version has it; a version with no
gitml.yaml, from before gitml, takes today's) declares — metrics of guards,
artifacts and stages, and ``metrics:``; the ``params:`` files — plus any the
caller names. Values come from the committed blob (so commits made before gitml was
installed, or imported from DVC, show their values); only a file that is not in
the tree falls back to what the commit's gitml note recorded. Nested keys are
flattened (``eval.auc``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from gitml.compare.sides import Side, note_of
from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.meta.collect import metrics_files, parse_structured
from gitml.meta.history import flatten
from gitml.safepath import check_relpath
from gitml.workspace.snapshot import Snapshot

Kind = Literal["metrics", "params"]
Source = Literal["file", "note", "missing", "unreadable"]


@dataclass
class FileValues:
    """One metrics or params file at one version: where its values came from."""

    path: str
    source: Source
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class VersionValues:
    side: Side
    files: dict[str, FileValues] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def declared_files(side: Side, kind: Kind, warnings: list[str]) -> list[str]:
    """The metrics or params files gitml.yaml declares at this version."""
    from gitml.guards.commit import project_of

    try:
        project = project_of(side.snapshot)
        if not project.exists and side.commit is not None:
            # A commit from before gitml (made with DVC, or plain git): its
            # files are the ones today's gitml.yaml declares.
            project = project_of(Snapshot.workspace(side.snapshot.ctx))
    except GitmlError as exc:
        warnings.append(f"{side.label}: gitml.yaml is not valid ({exc.message}); use --file")
        return []
    if kind == "metrics":
        return metrics_files(project)
    return list(project.params)


def read_values(
    ctx: RepoContext, side: Side, kind: Kind, files: list[str] | None = None
) -> VersionValues:
    """``kind`` values at ``side`` from ``files`` (default: the declared ones)."""
    out = VersionValues(side)
    names = [check_relpath(f, what=f"{kind} file") for f in files] if files else []
    names = names or declared_files(side, kind, out.warnings)
    if not names:
        return out
    blobs = side.snapshot.read_many(names)
    note: dict[str, Any] | None = None
    for name in names:
        data = blobs.get(name)
        if data is None:
            if note is None:
                note = note_of(ctx, side.commit)
            recorded = (note.get(kind) or {}).get(name) if isinstance(note, dict) else None
            if isinstance(recorded, dict):
                out.files[name] = FileValues(name, "note", _flat(recorded))
            else:
                out.files[name] = FileValues(name, "missing")
            continue
        value = parse_structured(name, data)
        if value is None:
            out.warnings.append(f"{side.label}: {name} is not a JSON/YAML document gitml can read")
            out.files[name] = FileValues(name, "unreadable")
        else:
            out.files[name] = FileValues(name, "file", _flat(value))
    return out


def _flat(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    flatten("", value, out, keep_lists=True)
    return out
