"""``foreach:``/``matrix:`` stages and ``${...}`` templating, as in DVC.

``${train.C}`` in any string of a stage is replaced by that param (the params
files merged); inside a generated stage ``${item}``, ``${item.x}`` and
``${key}`` name the current item. A string that is exactly one ``${...}``
takes the value itself (a list stays a list); elsewhere the value is written
as text. Generated stages are named ``<stage>@<key>``::

    stages:
      train:
        foreach: [small, large]          # or a mapping, or ${models}
        do: {cmd: python train.py ${item}, outs: [models/${item}.pkl]}
      fit:
        matrix: {model: [lr, svm], C: [0.1, 1]}   # every combination
        cmd: python fit.py ${item.model} ${item.C}
        outs: [fits/${item.model}-${item.C}.json]

Errors name the line of gitml.yaml, like every other complaint about it.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from gitml.bounded import describe, quote
from gitml.project.yamlnodes import YamlList, YamlMap, check_keys, node_error, safe_name

_REF = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}")
MAX_GENERATED = 1000


def _lookup(scope: dict[str, Any], name: str) -> tuple[bool, Any]:
    node: Any = scope
    for part in name.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _render_str(text: str, scope: dict[str, Any], parent: Any, key: Any, where: str) -> Any:
    def value_of(name: str) -> Any:
        found, value = _lookup(scope, name)
        if not found:
            known = ", ".join(sorted(scope)) or "none"
            raise node_error(
                parent, key, f"{where}: ${{{name}}} is not defined", f"defined: {known[:200]}"
            )
        return value

    whole = _REF.fullmatch(text.strip())
    if whole:
        return value_of(whole[1])
    return _REF.sub(lambda m: _text(value_of(m[1])), text)


def render(
    node: Any, scope: dict[str, Any], where: str, parent: Any = None, key: Any = None
) -> Any:
    """A copy of ``node`` with every ``${...}`` replaced; line info kept."""
    if isinstance(node, YamlMap):
        out = YamlMap(node.source, node.line)
        out.key_lines = dict(node.key_lines)
        for k, v in node.items():
            out[k] = render(v, scope, where, node, k)
        return out
    if isinstance(node, YamlList):
        items = YamlList(node.source, node.line)
        items.item_lines = list(node.item_lines)
        items.extend(render(v, scope, where, node, i) for i, v in enumerate(node))
        return items
    if isinstance(node, str) and "${" in node:
        return _render_str(node, scope, parent, key, where)
    return node


def _items(body: YamlMap, key: str, scope: dict[str, Any], where: str) -> Any:
    value = body[key]
    if isinstance(value, str):
        value = _render_str(value, scope, body, key, where)
    return value


def _name(stages: YamlMap, base: str, key: Any, seen: dict[str, Any]) -> str:
    part = safe_name(_text(key))
    name = f"{base}@{part}"
    if not part or name in seen:
        raise node_error(
            stages,
            base,
            f"stage {quote(base)}: item {quote(_text(key))} gives no unique stage name",
        )
    return name


def expand(stages: YamlMap, params: dict[str, Any]) -> dict[str, Any]:
    """``stages:`` with foreach/matrix stages expanded and ``${...}`` rendered.

    Returns name → rendered body (a YamlMap for valid input; the caller checks the rest).
    """
    out: dict[str, Any] = {}
    for base, body in stages.items():
        where = f"stage {quote(base)}"
        if not isinstance(body, YamlMap):
            out[base] = body
            continue
        if "foreach" in body:
            check_keys(body, ("foreach", "do"), where)
            template = body.get("do")
            if not isinstance(template, YamlMap):
                message = f"{where}: foreach needs a do: mapping (cmd:, deps:, outs:)"
                raise node_error(body, "do" if "do" in body else None, message)
            items = _items(body, "foreach", params, where)
            if isinstance(items, dict):
                pairs = list(items.items())
            elif isinstance(items, list):
                pairs = [(i if isinstance(v, dict | list) else v, v) for i, v in enumerate(items)]
            else:
                raise node_error(
                    body,
                    "foreach",
                    f"{where}: foreach must be a list or a mapping, not {describe(items)}",
                )
            if not pairs or len(pairs) > MAX_GENERATED:
                raise node_error(
                    body, "foreach", f"{where}: foreach needs 1 to {MAX_GENERATED} items"
                )
            for key, item in pairs:
                name = _name(stages, base, key, out)
                scope = {**params, "item": item, "key": key}
                out[name] = render(template, scope, f"stage {quote(name)}")
            continue
        if "matrix" in body:
            matrix = body["matrix"]
            if not isinstance(matrix, YamlMap) or not matrix:
                raise node_error(
                    body, "matrix", f"{where}: matrix must be a mapping of name to values"
                )
            axes: list[list[tuple[str, Any]]] = []
            for axis in matrix:
                values = _items(matrix, axis, params, where)
                if not isinstance(values, list) or not values:
                    raise node_error(
                        matrix, axis, f"{where}: matrix {quote(axis)} must be a non-empty list"
                    )
                axes.append([(axis, v) for v in values])
            combos = list(itertools.islice(itertools.product(*axes), MAX_GENERATED + 1))
            if len(combos) > MAX_GENERATED:
                raise node_error(body, "matrix", f"{where}: more than {MAX_GENERATED} combinations")
            template = YamlMap(body.source, body.line)
            template.key_lines = dict(body.key_lines)
            template.update({k: v for k, v in body.items() if k != "matrix"})
            for combo in combos:
                item = dict(combo)
                name = _name(stages, base, "-".join(_text(v) for v in item.values()), out)
                out[name] = render(template, {**params, "item": item}, f"stage {quote(name)}")
            continue
        out[base] = render(body, params, where)
    return out
