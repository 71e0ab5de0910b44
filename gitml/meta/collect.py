"""Gathering what a commit's metadata records: data pointers, params, metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitml.context import RepoContext
from gitml.guards.projectfile import ProjectFile
from gitml.workspace.pointer import Pointer

MAX_FILE_BYTES = 4 * 1024 * 1024


def pointer_summary(pointers: dict[str, Pointer]) -> dict[str, dict[str, Any]]:
    return {
        path: {"kind": p.kind, "oid": p.oid, "size": p.size, "nfiles": p.nfiles}
        for path, p in sorted(pointers.items())
    }


def read_structured(path: Path) -> Any:
    """A JSON or YAML file's content, or None if absent/unreadable/too big."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        if path.suffix == ".json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except Exception:  # a malformed user file is simply not recorded
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
        value = read_structured(ctx.root / name)
        if value is not None:
            out[name] = value
    return out


def collect_metrics(ctx: RepoContext, project: ProjectFile) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in metrics_files(project):
        value = read_structured(ctx.root / name)
        if value is not None:
            out[name] = value
    return out
