"""``-S [FILE:]section.key=VALUE``: parameter overrides of one experiment.

A value is read as a YAML scalar (``0.1`` is a number, ``true`` a bool). A
grid of values -- ``0.1,0.2,0.3`` or ``range(0.01,1,0.1)`` -- expands into one
experiment per combination (cartesian product of every grid given). The key
must already exist in a params file: a typo is an error, not a new param.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml.bounded import load_yaml, parse_structured, quote, read_structured
from gitml.errors import UsageError
from gitml.project.yamlnodes import MAX_YAML_BYTES
from gitml.store.durable import write_file_atomic

MAX_GRID = 1000
_RANGE = re.compile(r"^range\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*(?:,\s*([^,()]+?)\s*)?\)$")


@dataclass(frozen=True, slots=True)
class Override:
    file: str | None  # None: the params file that has the section
    key: str  # "train.C"
    value: Any


def _scalar(text: str, where: str) -> Any:
    if text == "":
        return ""
    return load_yaml(text, source=where, max_bytes=64 * 1024)


def _number(text: str, where: str) -> float:
    value = _scalar(text, where)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UsageError(f"{where}: {quote(text)} is not a number")
    return float(value) if isinstance(value, float) else value


def _grid(text: str, where: str) -> list[Any]:
    match = _RANGE.match(text.strip())
    if match:
        start, stop = _number(match[1], where), _number(match[2], where)
        step = _number(match[3], where) if match[3] else 1
        if step == 0 or (stop - start) / step <= 0:
            raise UsageError(f"{where}: range({match[1]},{match[2]},{step}) is empty")
        count = math.ceil((stop - start) / step - 1e-9)
        if count > MAX_GRID:
            raise UsageError(f"{where}: {count} values, more than {MAX_GRID}")
        exact = all(isinstance(v, int) for v in (start, stop, step))
        return [start + i * step if exact else round(start + i * step, 10) for i in range(count)]
    if "," in text and not text.lstrip().startswith(("[", "{")):
        return [_scalar(part.strip(), where) for part in text.split(",")]
    return [_scalar(text, where)]


def parse_overrides(texts: list[str]) -> list[list[Override]]:
    """Every combination the ``-S`` texts name (one list of overrides each)."""
    axes: list[list[Override]] = []
    for text in texts:
        where = f"-S {quote(text)}"
        spec, eq, value = text.partition("=")
        file, colon, key = spec.rpartition(":")
        key = key.strip()
        if not eq or not key or any(not part for part in key.split(".")):
            raise UsageError(f"{where}: expected [FILE:]section.key=VALUE", "-S train.C=0.1")
        axes.append([Override(file if colon else None, key, v) for v in _grid(value, where)])
    combos = [list(c) for c in itertools.product(*axes)]
    if len(combos) > MAX_GRID:
        raise UsageError(f"the -S grids make {len(combos)} experiments, more than {MAX_GRID}")
    return combos


def _load(root: Path, name: str) -> Any:
    try:
        return read_structured(root / name, source=name, max_bytes=MAX_YAML_BYTES)
    except FileNotFoundError:
        return None


def override_docs(
    docs: dict[str, Any], params_files: tuple[str, ...], overrides: list[Override]
) -> set[str]:
    """Set the overrides in the params documents ``docs`` (file → document, in
    place); the names of the files changed. A key that is not there is a UsageError."""
    if overrides and not params_files:
        raise UsageError("gitml.yaml names no params files", "add `params: [params.yaml]`")
    changed: set[str] = set()
    for over in overrides:
        section = over.key.split(".")[0]
        if over.file is not None and over.file not in params_files:
            raise UsageError(
                f"{quote(over.file)} is not a params file",
                f"params files: {', '.join(params_files)}",
            )
        name = over.file or next(
            (f for f in params_files if isinstance(docs.get(f), dict) and section in docs[f]),
            params_files[0],
        )
        node = docs.get(name)
        parts = over.key.split(".")
        for i, part in enumerate(parts):
            if not isinstance(node, dict) or part not in node:
                level = ".".join(parts[:i]) or "the top level"
                choices = ", ".join(map(str, node)) if isinstance(node, dict) else "none"
                raise UsageError(
                    f"param {quote(over.key)} is not in {name}",
                    f"keys at {level}: {choices[:200]}",
                )
            if i == len(parts) - 1:
                node[part] = over.value
            else:
                node = node[part]
        changed.add(name)
    return changed


def apply_overrides(root: Path, params_files: tuple[str, ...], overrides: list[Override]) -> None:
    """Rewrite the params files under ``root`` with the overrides (key must exist)."""
    if not overrides:
        return
    docs = {f: _load(root, f) for f in params_files}
    for name in sorted(override_docs(docs, params_files, overrides)):
        write_file_atomic(root / name, _dump(name, docs[name]))


def check_overrides(
    files: dict[str, bytes | None], params_files: tuple[str, ...], overrides: list[Override]
) -> None:
    """Refuse overrides that ``apply_overrides`` would refuse, given the params
    files' bytes (e.g. at the base commit): a queued experiment must not fail late."""
    docs = {
        name: None
        if data is None
        else parse_structured(data, source=name, max_bytes=MAX_YAML_BYTES)
        for name, data in files.items()
    }
    override_docs(docs, params_files, overrides)


def _dump(name: str, doc: Any) -> bytes:
    if name.endswith(".json"):
        return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    import yaml

    text: str = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return text.encode("utf-8")


def describe_overrides(overrides: list[Override]) -> dict[str, Any]:
    """``{"train.C": 0.1}`` (``file:key`` when a file was named) for notes and tables."""
    return {(f"{o.file}:{o.key}" if o.file else o.key): o.value for o in overrides}
