"""The one editor of ``gitml.yaml``: adding entries without rewriting what the user wrote.

The file is hand-edited (comments, order, guards), so it is never re-dumped:
the new entries (stages from DVC import, an artifact from ``gitml register``)
are serialised alone and inserted as text at the end of their top-level block
(created when absent, or replacing ``stages: {}``), with the block's own
indentation; every other line stays byte for byte. For stages a ``params:``
line is appended when they read params files other than the default
``params.yaml``. The caller re-parses the result with gitml's own validators
before writing it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import yaml

_EMPTY = ("", "{}", "null", "~")

# (entries, indent) -> the lines (without line ends) that write them.
Render = Callable[[dict[str, dict[str, Any]], int], list[str]]


class CannotEdit(Exception):
    """The file's layout is one we do not edit automatically (message says why)."""


def dump_entries(entries: dict[str, dict[str, Any]], indent: int) -> list[str]:
    """``NAME:\n  key: ...`` lines for ``entries`` (YAML), indented by ``indent`` spaces."""
    text = yaml.safe_dump(
        entries, sort_keys=False, default_flow_style=None, width=4096, allow_unicode=True, indent=2
    )
    pad = " " * indent
    return [pad + line if line else line for line in text.splitlines()]


def dump_quoted(entries: dict[str, dict[str, Any]], indent: int) -> list[str]:
    """Like :func:`dump_entries` for flat string fields, every value double-quoted
    (``path: "models/churn.pkl"``): safe for any text a user may give as a path."""
    pad = " " * indent
    out: list[str] = []
    for name, body in entries.items():
        out.append(f"{pad}{name}:")
        out += [f"{pad}  {key}: {json.dumps(value)}" for key, value in body.items()]
    return out


def _header(section: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(section)}\s*:(.*)$")


def _value(header: re.Pattern[str], line: str) -> str:
    match = header.match(line.rstrip("\r\n"))
    assert match is not None
    return match.group(1).split(" #", 1)[0].strip()


def add_entries(
    text: str, section: str, entries: dict[str, dict[str, Any]], *, render: Render = dump_entries
) -> str:
    """``text`` with ``entries`` added at the end of the top-level ``section:`` block."""
    header = _header(section)
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if header.match(line.rstrip("\r\n"))), None)
    if at is None:
        while lines and not lines[-1].strip():
            lines.pop()
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        return "".join(lines) + "".join(f"{ln}\n" for ln in [f"{section}:", *render(entries, 2)])
    if _value(header, lines[at]) not in _EMPTY:
        raise CannotEdit(f"its {section}: section is written in flow style ({{...}})")
    end, indent = at, None
    for i in range(at + 1, len(lines)):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            break
        end = i
        indent = indent or len(line) - len(line.lstrip())
    if end == at and _value(header, lines[at]) != "":
        lines[at] = f"{section}:" + lines[at][len(lines[at].rstrip("\r\n")) :]
    if not lines[end].endswith("\n"):
        lines[end] += "\n"
    lines[end + 1 : end + 1] = [f"{ln}\n" for ln in render(entries, indent or 2)]
    return "".join(lines)


def add_list_items(text: str, section: str, items: list[Any]) -> str:
    """``text`` with ``items`` appended to the top-level list ``section:`` (made
    when absent, or replacing ``section: []``), at the list's own indentation."""
    header = _header(section)
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if header.match(line.rstrip("\r\n"))), None)
    dumped = yaml.safe_dump(
        items, sort_keys=False, default_flow_style=False, width=4096, allow_unicode=True
    ).splitlines()
    if at is None:
        while lines and not lines[-1].strip():
            lines.pop()
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        return "".join(lines) + "".join(f"{ln}\n" for ln in [f"{section}:", *_pad(dumped, 2)])
    value = _value(header, lines[at])
    if value not in (*_EMPTY, "[]"):
        raise CannotEdit(f"its {section}: section is written in flow style ([...])")
    end, indent = at, None
    for i in range(at + 1, len(lines)):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and not line.startswith("-"):
            break
        end = i
        indent = len(line) - len(line.lstrip()) if indent is None else indent
    if value:
        lines[at] = f"{section}:" + lines[at][len(lines[at].rstrip("\r\n")) :]
    if not lines[end].endswith("\n"):
        lines[end] += "\n"
    lines[end + 1 : end + 1] = [f"{ln}\n" for ln in _pad(dumped, 2 if indent is None else indent)]
    return "".join(lines)


def _pad(lines: list[str], indent: int) -> list[str]:
    return [" " * indent + line if line else line for line in lines]


def add_artifact(text: str, name: str, path: str) -> str:
    """``text`` with artifact ``name: {path: PATH}`` added under ``artifacts:``."""
    return add_entries(text, "artifacts", {name: {"path": path}}, render=dump_quoted)


def add_stages(
    text: str,
    stages: dict[str, dict[str, Any]],
    params_files: list[str],
    current_params: tuple[str, ...] | None,
) -> str:
    """``text`` with ``stages`` added (and ``params:`` when needed)."""
    out = add_entries(text, "stages", stages)
    if current_params is None:  # no params: key, so only params.yaml is read
        if any(f != "params.yaml" for f in params_files):
            wanted = ["params.yaml", *[f for f in params_files if f != "params.yaml"]]
            out += ("" if out.endswith("\n") else "\n") + f"params: {json.dumps(wanted)}\n"
    else:
        absent = [f for f in params_files if f not in current_params]
        if absent:
            raise CannotEdit(f"add {', '.join(absent)} to params: in gitml.yaml")
    return out
