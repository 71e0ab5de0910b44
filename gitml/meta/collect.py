"""Gathering what a commit's metadata records: data pointers, params, metrics.

Everything is read from a :class:`~gitml.workspace.snapshot.Snapshot`: the
note of a commit is built from that commit's tree (``HEAD:params.yaml``, the
pointers in ``HEAD``), never from the workspace.
"""

from __future__ import annotations

from typing import Any

from gitml.errors import GitmlError
from gitml.project.file import ProjectFile
from gitml.project.values import parse_values
from gitml.safepath import check_relpath
from gitml.workspace.pointer import Pointer
from gitml.workspace.snapshot import Snapshot


def pointer_summary(pointers: dict[str, Pointer]) -> dict[str, dict[str, Any]]:
    return {
        path: {"kind": p.kind, "oid": p.oid, "size": p.size, "nfiles": p.nfiles}
        for path, p in sorted(pointers.items())
    }


def parse_structured(name: str, data: bytes | None) -> Any:
    """A params/metrics file's content (the one reader, :mod:`gitml.project.values`),
    or None if absent, too big, too deep or malformed."""
    if data is None:
        return None
    try:
        return parse_values(data, source=name)
    except GitmlError:  # a malformed, too big or too deep file is not recorded
        return None


def metrics_files(project: ProjectFile) -> list[str]:
    """Every metrics file gitml.yaml mentions (metrics:, guards, artifacts, stages)."""
    found: list[str] = list(project.metrics)
    for guard in project.guards.guards.values():
        if guard.model is not None and guard.model.metrics_path:
            found.append(guard.model.metrics_path)
    for artifact in project.artifacts.values():
        found += artifact.metrics
    for _name, body in project.stages.items():
        value = body.get("metrics") if hasattr(body, "get") else None
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found += [v for v in value if isinstance(v, str)]
    return sorted({f for f in found if _safe(f)})


def _safe(path: str) -> bool:
    """Only repo-relative paths are read (stages: is validated by its own loader)."""
    try:
        check_relpath(path, what="metrics file")
    except GitmlError:
        return False
    return True


def _collect(snapshot: Snapshot, names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, data in snapshot.read_many(names).items():
        value = parse_structured(name, data)
        if value is not None:
            out[name] = value
    return out


def collect_params(snapshot: Snapshot, project: ProjectFile) -> dict[str, Any]:
    return _collect(snapshot, list(project.params))


def collect_metrics(snapshot: Snapshot, project: ProjectFile) -> dict[str, Any]:
    return _collect(snapshot, metrics_files(project))
