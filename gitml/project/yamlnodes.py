"""Safe YAML that remembers where things were written, and the shared error style.

``gitml.yaml`` is edited by hand, so every complaint about it must name the
line: ``gitml.yaml:14: unknown key 'nul_fraction' in guard 'raw' (did you mean
'null_fraction'?)``. PyYAML's constructors drop line numbers, so we *compose*
the document (the node graph keeps marks) with the safe loader and build plain
``dict``/``list`` subclasses that carry the source name and line of every key
and item. Scalars are built by PyYAML's safe constructor (no Python objects).

Every other feature that owns a section of ``gitml.yaml`` (artifacts, stages,
params, evaluate) validates its part with :func:`check_keys`, :func:`node_error`
and the ``expect_*`` helpers, so all messages look the same.

Hostile input is bounded by :func:`gitml.bounded.compose_yaml`, the one
bounded YAML reader: nesting deeper than :data:`MAX_DEPTH` or more than
:data:`MAX_NODES` nodes (both in :mod:`gitml.bounded`) with aliases expanded ("billion laughs") is a
:class:`ConfigError` before anything is built, and keys are always the text
as written (``on:`` stays ``"on"``, not ``True``).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from typing import Any

from gitml.bounded import compose_yaml, describe, quote
from gitml.errors import ConfigError, GitmlError

MAX_YAML_BYTES = 4 << 20  # a hand-edited file (gitml.yaml, params.yaml)
_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlMap(dict[str, Any]):
    """A mapping from a YAML file: a plain dict plus the line of each key."""

    source: str
    line: int
    key_lines: dict[str, int]

    def __init__(self, source: str, line: int) -> None:
        super().__init__()
        self.source = source
        self.line = line
        self.key_lines = {}

    def line_of(self, key: str | None = None) -> int:
        """Line where ``key`` was written (the mapping's own line if unknown/None)."""
        return self.line if key is None else self.key_lines.get(key, self.line)


class YamlList(list[Any]):
    """A sequence from a YAML file: a plain list plus the line of each item."""

    source: str
    line: int
    item_lines: list[int]

    def __init__(self, source: str, line: int) -> None:
        super().__init__()
        self.source = source
        self.line = line
        self.item_lines = []

    def line_of(self, index: int | None = None) -> int:
        if index is None or not 0 <= index < len(self.item_lines):
            return self.line
        return self.item_lines[index]


Node = YamlMap | YamlList


def node_error(
    node: Node, key: str | int | None, message: str, hint: str | None = None
) -> ConfigError:
    """A :class:`ConfigError` ``"<source>:<line>: <message>"`` for ``node[key]``."""
    if isinstance(node, YamlMap):
        line = node.line_of(key if isinstance(key, str) else None)
    else:
        line = node.line_of(key if isinstance(key, int) else None)
    return ConfigError(f"{node.source}:{line}: {message}", hint)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """``"did you mean 'x'?"`` for the closest choice, or None."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


MAX_NAME = 100
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_NOT_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """``text`` made into a valid name (runs of other characters become ``-``); may be ""."""
    return _NOT_NAME_RE.sub("-", text).strip("-._")[:MAX_NAME].rstrip("-._")


def check_name(node: YamlMap, name: str, kind: str) -> None:
    """Refuse a key of ``node`` that is not a safe name (stages, and the like).

    Safe: letters, digits, ``.``, ``_``, ``-``, starting with a letter or digit,
    at most :data:`MAX_NAME` characters: no path separators, spaces, quotes or
    control characters, so a name is safe in a message, a shell, a lock key.
    """
    if len(name) <= MAX_NAME and _NAME_RE.fullmatch(name):
        return
    fixed = safe_name(name)
    raise node_error(
        node,
        name,
        f"{kind} name {quote(name)} must be letters, digits, '.', '_' or '-' "
        f"(starting with a letter or digit, at most {MAX_NAME} characters)",
        f"did you mean {quote(fixed)}?" if fixed else None,
    )


def check_keys(node: YamlMap, allowed: Iterable[str], where: str) -> None:
    """Refuse the first key of ``node`` (in file order) that is not ``allowed``.

    ``where`` completes the sentence "unknown key 'k' in ...", e.g. ``"guard 'raw'"``.
    """
    allowed_keys = tuple(allowed)
    for key in node:
        if key not in allowed_keys:
            raise node_error(
                node, key, f"unknown key {quote(key)} in {where}", did_you_mean(key, allowed_keys)
            )


def expect_map(node: YamlMap, key: str, where: str) -> YamlMap | None:
    """``node[key]`` if it is a mapping, None if absent; else an error."""
    if key not in node:
        return None
    value = node[key]
    if not isinstance(value, YamlMap):
        raise node_error(node, key, f"{where}: {key!r} must be a mapping, not {describe(value)}")
    return value


def expect_list(node: YamlMap, key: str, where: str) -> YamlList | None:
    if key not in node:
        return None
    value = node[key]
    if not isinstance(value, YamlList):
        raise node_error(node, key, f"{where}: {key!r} must be a list, not {describe(value)}")
    return value


def expect_str(node: YamlMap, key: str, where: str, *, required: bool = False) -> str | None:
    if key not in node:
        if required:
            raise node_error(node, None, f"{where}: missing required key {key!r}")
        return None
    value = node[key]
    if not isinstance(value, str) or not value.strip():
        raise node_error(
            node, key, f"{where}: {key!r} must be non-empty text, not {describe(value)}"
        )
    return value


def expect_relpath(node: YamlMap, key: str, where: str, *, required: bool = False) -> str | None:
    """A safe repo-relative POSIX path (see :func:`gitml.safepath.check_relpath`)."""
    from gitml.safepath import check_relpath

    value = expect_str(node, key, where, required=required)
    if value is None:
        return None
    try:
        return check_relpath(value.strip().rstrip("/"), what=repr(key))
    except GitmlError as exc:
        raise node_error(
            node, key, f"{where}: {exc.message}", "use a path relative to the repo root"
        ) from None


def expect_number(
    node: YamlMap,
    key: str,
    where: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
) -> float | None:
    """A finite number (never a boolean, never a quoted string) within bounds."""
    if key not in node:
        return None
    value = node[key]
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or not _finite(value):
        what = "an integer" if integer else "a number"
        raise node_error(node, key, f"{where}: {key!r} must be {what}, not {describe(value)}")
    if minimum is not None and value < minimum:
        raise node_error(node, key, f"{where}: {key!r} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise node_error(node, key, f"{where}: {key!r} must be <= {maximum}, got {value}")
    return float(value) if not integer else value


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def expect_bool(node: YamlMap, key: str, where: str) -> bool | None:
    if key not in node:
        return None
    value = node[key]
    if not isinstance(value, bool):
        raise node_error(
            node, key, f"{where}: {key!r} must be true or false, not {describe(value)}"
        )
    return value


def expect_str_list(node: YamlMap, key: str, where: str) -> tuple[str, ...] | None:
    """A list of non-empty strings (a single string is accepted as a one-item list)."""
    if key not in node:
        return None
    value = node[key]
    if isinstance(value, str) and value.strip():
        return (value,)
    if not isinstance(value, YamlList):
        raise node_error(
            node, key, f"{where}: {key!r} must be a list of text, not {describe(value)}"
        )
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise node_error(
                value, i, f"{where}: items of {key!r} must be text, not {describe(item)}"
            )
    return tuple(value)


def parse_yaml(text: str | bytes, *, source: str, max_bytes: int = MAX_YAML_BYTES) -> Any:
    """Parse one YAML document safely into YamlMap/YamlList/scalars with lines.

    An empty document is an empty :class:`YamlMap`. Any problem (syntax, bad
    UTF-8, unknown tag, duplicate key, too deep, too big) is a ConfigError
    naming ``source`` and the line.
    """
    root = compose_yaml(text, source=source, max_bytes=max_bytes)
    if root is None:
        return YamlMap(source, 1)
    return _Builder(source).build(root)


class _Builder:
    """Turns a node graph (bounded by compose_yaml) into YamlMap/YamlList/scalars."""

    def __init__(self, source: str) -> None:
        import yaml

        self.source = source
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: Any, message: str) -> ConfigError:
        return ConfigError(f"{self.source}:{node.start_mark.line + 1}: {message}")

    def build(self, node: Any) -> Any:
        import yaml

        if isinstance(node, yaml.ScalarNode):
            try:
                return self.constructor.construct_object(node, deep=True)
            except Exception as exc:  # constructors raise ValueError, TypeError, ...
                # e.g. `2020-13-45` resolves to a timestamp and fails in datetime().
                raise self.fail(
                    node, f"bad value {quote(node.value)}: {type(exc).__name__}"
                ) from None
        if isinstance(node, yaml.SequenceNode):
            seq = YamlList(self.source, node.start_mark.line + 1)
            for item in node.value:
                seq.append(self.build(item))
                seq.item_lines.append(item.start_mark.line + 1)
            return seq
        if isinstance(node, yaml.MappingNode):
            return self.build_map(node)
        raise self.fail(node, "unsupported YAML node")

    def build_map(self, node: Any) -> YamlMap:
        import yaml

        out = YamlMap(self.source, node.start_mark.line + 1)
        merged: list[YamlMap] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                value = self.build(value_node)
                parts = value if isinstance(value, YamlList) else [value]
                for part in parts:
                    if not isinstance(part, YamlMap):
                        raise self.fail(key_node, "'<<' must merge a mapping or list of mappings")
                    merged.append(part)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, "a key must be plain text, not a list or mapping")
            key = str(key_node.value)
            if key in out:
                raise self.fail(key_node, f"duplicate key {quote(key)}")
            out[key] = self.build(value_node)
            out.key_lines[key] = key_node.start_mark.line + 1
        for part in merged:  # explicit keys win over merged ones (YAML merge semantics)
            for key, value in part.items():
                if key not in out:
                    out[key] = value
                    out.key_lines[key] = part.line_of(key)
        return out
