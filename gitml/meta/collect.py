"""Gathering what a commit's metadata records: data pointers, params, metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.project.file import ProjectFile
from gitml.project.values import read_values
from gitml.workspace.pointer import Pointer


def pointer_summary(pointers: dict[str, Pointer]) -> dict[str, dict[str, Any]]:
    return {
        path: {"kind": p.kind, "oid": p.oid, "size": p.size, "nfiles": p.nfiles}
        for path, p in sorted(pointers.items())
    }


def read_structured(root: Path, name: str) -> Any:
    """A params/metrics file's content, or None if absent/unreadable/too big."""
    try:
        return read_values(root / name, source=name)
    except (OSError, GitmlError):  # a malformed, too big or too deep file is not recorded
        return None


def metrics_files(project: ProjectFile) -> list[str]:
    """Every metrics file gitml.yaml mentions (guards, artifacts, stages)."""
    found: list[str] = []
    for guard in project.guards.guards.values():
        if guard.model is not None and guard.model.metrics_path:
            found.append(guard.model.metrics_path)
    for section in (project.artifacts, project.stages):
        for _name, body in section.items():
            if not hasattr(body, "get"):
                continue
            value = body.get("metrics")
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, list):
                found += [v for v in value if isinstance(v, str)]
    return sorted(set(found))


def collect_params(ctx: RepoContext, project: ProjectFile) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in project.params:
        value = read_structured(ctx.root, name)
        if value is not None:
            out[name] = value
    return out


def collect_metrics(ctx: RepoContext, project: ProjectFile) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in metrics_files(project):
        value = read_structured(ctx.root, name)
        if value is not None:
            out[name] = value
    return out
