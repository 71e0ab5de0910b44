"""The top-level sections of a ``dvc.yaml`` that gitml carries over.

``artifacts:`` become gitml artifacts (path, type, description, labels) so
every GTO-registered DVC model is one ``gitml checkout NAME@vX`` and ``gitml
models show`` understand; a ``type: model`` artifact also gets the project's
metrics files as its ``metrics:`` (what DVC Studio shows beside a model
version), so registered versions show metrics. ``metrics:`` become gitml's
top-level ``metrics:``; ``plots:`` (and a stage's uncached plots) become
gitml's ``plots:`` in DVC's own grammar (project/specplots.py); ``params:``
files join gitml's ``params:``. Every path is made repo-relative and checked
like any path of a DVC file (untrusted input).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from gitml.bounded import quote
from gitml.errors import InteropError
from gitml.interop.dvcfiles import resolve

CARRIED = ("artifacts", "metrics", "plots", "params")
_ARTIFACT_FIELDS = ("path", "type", "desc", "labels")
_PLOT_FIELDS = ("template", "x", "y", "title", "x_label", "y_label")


@dataclass
class TopLevel:
    """What the dvc.yaml files of a project declare at the top level."""

    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)  # gitml.yaml bodies
    metrics: list[str] = field(default_factory=list)
    plots: list[Any] = field(default_factory=list)  # gitml.yaml plots: items
    params: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # "artifact NAME" etc. -> dvc.yaml

    def merge(self, other: TopLevel) -> None:
        for name, body in other.artifacts.items():
            self.artifacts.setdefault(name, body)
        self.metrics += [m for m in other.metrics if m not in self.metrics]
        self.plots += [p for p in other.plots if p not in self.plots]
        self.params += [p for p in other.params if p not in self.params]
        self.sources.update(other.sources)


def _path(base: str, raw: object, source: str, what: str) -> str:
    path = resolve(base, raw, source=source, what=what)
    if path is None:
        raise InteropError(f"{source}: {what} {quote(raw)} is outside the repository")
    return path


def _items(doc: dict[str, Any], key: str, source: str) -> list[Any]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InteropError(f"{source}: top-level {key} must be a list")
    return value


def read_top_level(source: str, doc: dict[str, Any]) -> TopLevel:
    base = posixpath.dirname(source)
    top = TopLevel()
    artifacts = doc.get("artifacts") or {}
    if not isinstance(artifacts, dict):
        raise InteropError(f"{source}: artifacts must be a mapping")
    for name, body in artifacts.items():
        if not isinstance(body, dict) or "path" not in body:
            raise InteropError(f"{source}: artifact {quote(name)} needs a path")
        entry: dict[str, Any] = {"path": _path(base, body["path"], source, f"artifact {name}")}
        for key in _ARTIFACT_FIELDS[1:]:
            value = body.get(key)
            if key == "labels" and isinstance(value, list):
                entry["labels"] = [str(v) for v in value]
            elif isinstance(value, str):
                entry["description" if key == "desc" else key] = value
        top.artifacts[str(name)] = entry
        top.sources[f"artifact {name}"] = source
    for item in _items(doc, "metrics", source):
        top.metrics.append(_path(base, item, source, "metrics file"))
    for item in _items(doc, "params", source):
        if isinstance(item, str):
            top.params.append(_path(base, item, source, "params file"))
    for item in _items(doc, "plots", source):
        top.plots.append(plot_item(base, item, source))
    return top


def plot_item(base: str, item: Any, source: str) -> Any:
    """A DVC plot definition as a gitml ``plots:`` item (paths repo-relative)."""
    if isinstance(item, str):
        return _path(base, item, source, "plot")
    if not isinstance(item, dict) or len(item) != 1:
        raise InteropError(f"{source}: cannot read the plot {quote(item)}")
    ((name, props),) = item.items()
    if props is None:
        return _path(base, name, source, "plot")
    if not isinstance(props, dict):
        raise InteropError(f"{source}: plot {quote(name)} must be a mapping")
    out: dict[str, Any] = {}
    for key in _PLOT_FIELDS:
        value = props.get(key)
        if value is None:
            continue
        if key in ("x", "y") and isinstance(value, dict):
            value = {_path(base, f, source, "plot file"): v for f, v in value.items()}
        out[key] = value
    y = props.get("y")
    named = str(name) if isinstance(y, dict) else _path(base, name, source, "plot")
    return {named: out}
