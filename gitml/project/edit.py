"""Adding stages to ``gitml.yaml`` without rewriting what the user wrote.

The file is hand-edited (comments, order, guards), so it is never re-dumped:
the new stages are serialised alone and inserted as text at the end of the
``stages:`` block (created when absent, or replacing ``stages: {}``), with the
block's own indentation; a ``params:`` line is appended when the stages read
params files other than the default ``params.yaml``. The caller re-parses the
result with gitml's own validators before writing it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

_STAGES = re.compile(r"^stages\s*:(.*)$")
_EMPTY = ("", "{}", "null", "~")


class CannotEdit(Exception):
    """The file's layout is one we do not edit automatically (message says why)."""


def dump_stages(stages: dict[str, dict[str, Any]], indent: int) -> list[str]:
    """``NAME:\\n  cmd: ...`` lines for ``stages``, indented by ``indent`` spaces."""
    text = yaml.safe_dump(
        stages, sort_keys=False, default_flow_style=None, width=4096, allow_unicode=True, indent=2
    )
    pad = " " * indent
    return [pad + line if line else line for line in text.splitlines()]


def _value(line: str) -> str:
    match = _STAGES.match(line)
    assert match is not None
    return match.group(1).split(" #", 1)[0].strip()


def add_stages(
    text: str,
    stages: dict[str, dict[str, Any]],
    params_files: list[str],
    current_params: tuple[str, ...] | None,
) -> str:
    """``text`` with ``stages`` added (and ``params:`` when needed)."""
    lines = text.splitlines()
    at = next((i for i, line in enumerate(lines) if _STAGES.match(line)), None)
    if at is None:
        while lines and not lines[-1].strip():
            lines.pop()
        lines += ["stages:", *dump_stages(stages, 2)]
    elif _value(lines[at]) in _EMPTY:
        end, indent = at, None
        for i in range(at + 1, len(lines)):
            line = lines[i]
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not line[0].isspace():
                break
            end = i
            indent = indent or len(line) - len(line.lstrip())
        if end == at and _value(lines[at]) != "":
            lines[at] = "stages:"
        lines[end + 1 : end + 1] = dump_stages(stages, indent or 2)
    else:
        raise CannotEdit("its stages: section is written in flow style ({...})")
    if current_params is None:  # no params: key, so only params.yaml is read
        if any(f != "params.yaml" for f in params_files):
            wanted = ["params.yaml", *[f for f in params_files if f != "params.yaml"]]
            lines.append(f"params: {json.dumps(wanted)}")
    else:
        absent = [f for f in params_files if f not in current_params]
        if absent:
            raise CannotEdit(f"add {', '.join(absent)} to params: in gitml.yaml")
    return "\n".join(lines) + "\n"
