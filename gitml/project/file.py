"""``gitml.yaml``: the one project file several features share.

This module owns the file as a whole: it parses it safely with line numbers,
refuses unknown top-level keys, checks each section's top-level type, fully
validates ``guards:`` (see :mod:`gitml.project.guardspec`) and ``artifacts:``
(:mod:`gitml.project.specartifacts`), and hands the other
sections over raw (:class:`YamlMap` with line info) so their owners validate
them with the same helpers and error style (:func:`check_keys`,
:func:`node_error`, ``expect_*`` in :mod:`gitml.project.yamlnodes`).

Cheap to import: no pyarrow, PyYAML only when a file is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitml.errors import ConfigError, GitmlError
from gitml.project.guardspec import GuardsSpec, parse_guards
from gitml.project.specartifacts import ArtifactSpec, parse_artifacts
from gitml.project.specplots import PlotSpec, parse_plots
from gitml.project.yamlnodes import (
    YamlList,
    YamlMap,
    check_keys,
    node_error,
    parse_yaml,
)
from gitml.safepath import check_relpath

PROJECT_FILE = "gitml.yaml"
SECTIONS = ("guards", "artifacts", "stages", "params", "metrics", "plots", "evaluate")
DEFAULT_PARAMS = ("params.yaml",)
MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ProjectFile:
    """A parsed gitml.yaml. Raw sections are empty YamlMaps when absent."""

    source: str
    exists: bool
    raw: YamlMap
    guards: GuardsSpec
    artifacts: dict[str, ArtifactSpec]
    stages: YamlMap
    params: tuple[str, ...]  # params files, default ("params.yaml",)
    evaluate: YamlMap
    metrics: tuple[str, ...] = ()  # project-wide metrics files (besides artifacts', stages')
    plots: tuple[PlotSpec, ...] = ()  # what gitml report draws (project/specplots.py)


def load_project(root: Path) -> ProjectFile:
    """Read ``root/gitml.yaml``; a missing file is an empty project."""
    path = root / PROJECT_FILE
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return parse_project(b"", exists=False)
    except OSError as exc:
        raise ConfigError(f"{PROJECT_FILE}: cannot read: {exc.strerror}") from None
    return parse_project(data)


def project_from(data: bytes | None, *, source: str = PROJECT_FILE) -> ProjectFile:
    """gitml.yaml from a blob (staged or committed); None is an empty project."""
    if data is None:  # built directly: a hook in a repo without gitml.yaml needs no YAML
        empty = YamlMap(source, 1)
        return ProjectFile(
            source, False, empty, GuardsSpec({}, source), {}, empty, DEFAULT_PARAMS, empty
        )
    return parse_project(data, source=source)


def parse_project(
    text: str | bytes, *, source: str = PROJECT_FILE, exists: bool = True
) -> ProjectFile:
    """Parse gitml.yaml content (e.g. a staged or committed blob) and validate it."""
    if len(text) > MAX_BYTES:
        raise ConfigError(f"{source}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    root = parse_yaml(text, source=source)
    if not isinstance(root, YamlMap):
        line = root.line if isinstance(root, YamlList) else 1
        raise ConfigError(
            f"{source}:{line}: the file must be a mapping with keys {', '.join(SECTIONS)}"
        )
    check_keys(root, SECTIONS, "gitml.yaml (top level)")
    return ProjectFile(
        source=source,
        exists=exists,
        raw=root,
        guards=parse_guards(root),
        artifacts=parse_artifacts(_section_map(root, "artifacts")),
        stages=_section_map(root, "stages"),
        params=_files(root, "params", DEFAULT_PARAMS),
        evaluate=_section_map(root, "evaluate"),
        metrics=_files(root, "metrics", ()),
        plots=parse_plots(root),
    )


def _section_map(root: YamlMap, key: str) -> YamlMap:
    value = root.get(key)
    if value is None:
        return YamlMap(root.source, root.line_of(key))
    if not isinstance(value, YamlMap):
        raise node_error(root, key, f"'{key}' must be a mapping")
    return value


def _files(root: YamlMap, section: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A top-level list of files (``params:``, ``metrics:``); one file may be
    given alone."""
    value = root.get(section)
    if value is None:
        return default
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, YamlList | list):
        raise node_error(root, section, f"'{section}' must be a list of files")
    out = []
    for i, item in enumerate(items):
        where: YamlMap | YamlList = items if isinstance(items, YamlList) else root
        key: int | str = i if isinstance(items, YamlList) else section
        if not isinstance(item, str):
            raise node_error(where, key, f"'{section}' items must be file paths")
        try:
            out.append(check_relpath(item, what=f"{section} file"))
        except GitmlError as exc:
            raise node_error(where, key, exc.message) from None
    return tuple(out)
