"""Validation of a data guard's keys: ``data format schema rows rules change``.

Split from :mod:`gitml.project.guardspec` only to keep modules small; same rules:
strict keys, numbers are numbers, every error names the line.
"""

from __future__ import annotations

import re

from gitml.project.guardspec_types import (
    DEFAULT_PSI_MAX,
    FORMATS,
    RULE_CHECKS,
    RULE_KEYS,
    AllowedRule,
    DataSpec,
    DriftSpec,
    NullFractionRule,
    RangeRule,
    RegexRule,
    RowChangeSpec,
    RowsSpec,
    Rule,
    SchemaSpec,
    UniqueRule,
)
from gitml.project.typenames import known_type_names, normalize_type_name
from gitml.project.yamlnodes import (
    YamlMap,
    check_keys,
    did_you_mean,
    expect_bool,
    expect_list,
    expect_map,
    expect_number,
    expect_relpath,
    expect_str,
    expect_str_list,
    node_error,
)


def parse_data(body: YamlMap, where: str) -> DataSpec:
    """The DataSpec of a guard body that has data checks."""
    path = expect_relpath(body, "data", where, required=True)
    assert path is not None
    fmt = expect_str(body, "format", where)
    if fmt is not None and fmt not in FORMATS:
        raise node_error(
            body,
            "format",
            f"{where}: format {fmt!r} is not one of {', '.join(FORMATS)}",
            did_you_mean(fmt, FORMATS),
        )
    return DataSpec(
        path=path,
        format=fmt,
        schema=_parse_schema(body, where),
        rows=_parse_rows(body, where),
        rules=_parse_rules(body, where),
        row_change=_parse_row_change(body, where),
        drift=_parse_drift(body, where),
        line=body.line_of("data"),
    )


def _parse_schema(body: YamlMap, where: str) -> SchemaSpec | None:
    node = expect_map(body, "schema", where)
    if node is None:
        return None
    check_keys(node, ("columns", "strict"), f"{where} schema")
    cols = expect_map(node, "columns", f"{where} schema")
    if cols is None:
        raise node_error(node, None, f"{where} schema: missing 'columns:' (column: type)")
    columns = []
    for column, type_name in cols.items():
        if not isinstance(type_name, str) or normalize_type_name(type_name) is None:
            raise node_error(
                cols,
                column,
                f"{where} schema: unknown type {type_name!r} for column {column!r}",
                did_you_mean(str(type_name), known_type_names()),
            )
        columns.append((column, normalize_type_name(type_name) or type_name))
    strict = bool(expect_bool(node, "strict", f"{where} schema"))
    return SchemaSpec(tuple(columns), strict, node.line)


def _parse_rows(body: YamlMap, where: str) -> RowsSpec | None:
    node = expect_map(body, "rows", where)
    if node is None:
        return None
    w = f"{where} rows"
    check_keys(node, ("min", "max"), w)
    lo = expect_number(node, "min", w, minimum=0, integer=True)
    hi = expect_number(node, "max", w, minimum=0, integer=True)
    if lo is None and hi is None:
        raise node_error(node, None, f"{w}: give min:, max: or both")
    if lo is not None and hi is not None and lo > hi:
        raise node_error(node, "max", f"{w}: max ({hi}) is below min ({lo})")
    return RowsSpec(None if lo is None else int(lo), None if hi is None else int(hi), node.line)


def _mostly(item: YamlMap, where: str) -> float:
    value = expect_number(item, "mostly", where, minimum=0.0, maximum=1.0)
    if value is not None and value <= 0.0:
        raise node_error(item, "mostly", f"{where}: 'mostly' must be above 0")
    return 1.0 if value is None else value


def _parse_rules(body: YamlMap, where: str) -> tuple[Rule, ...]:
    items = expect_list(body, "rules", where)
    if items is None:
        return ()
    rules: list[Rule] = []
    for index, item in enumerate(items):
        if not isinstance(item, YamlMap):
            raise node_error(
                items,
                index,
                f"{where}: each rule is a mapping like {{column: tenure, range: {{min: 0}}}}",
            )
        rules.append(_parse_rule(item, where))
    return tuple(rules)


def _parse_rule(item: YamlMap, where: str) -> Rule:
    check_keys(item, RULE_KEYS, where)
    column = expect_str(item, "column", where, required=True)
    assert column is not None
    checks = [k for k in item if k in RULE_CHECKS]
    if len(checks) != 1:
        found = ", ".join(checks) if checks else "none"
        raise node_error(
            item,
            checks[1] if checks[1:] else None,
            f"{where}: a rule has exactly one check of {', '.join(RULE_CHECKS)} (found {found})",
        )
    check = checks[0]
    w = f"{where} {check}"
    line = item.line_of(check)
    if check == "null_fraction":
        if "mostly" in item:
            raise node_error(
                item, "mostly", f"{w}: null_fraction is already a fraction; drop 'mostly'"
            )
        node = expect_map(item, check, where)
        assert node is not None
        check_keys(node, ("max",), w)
        limit = expect_number(node, "max", w, minimum=0.0, maximum=1.0)
        if limit is None:
            raise node_error(node, None, f"{w}: missing 'max:' (e.g. max: 0.01)")
        return NullFractionRule(column, limit, line)
    mostly = _mostly(item, where)
    if check == "range":
        node = expect_map(item, check, where)
        assert node is not None
        check_keys(node, ("min", "max"), w)
        lo, hi = expect_number(node, "min", w), expect_number(node, "max", w)
        if lo is None and hi is None:
            raise node_error(node, None, f"{w}: give min:, max: or both")
        if lo is not None and hi is not None and lo > hi:
            raise node_error(node, "max", f"{w}: max ({hi:g}) is below min ({lo:g})")
        return RangeRule(column, lo, hi, mostly, line)
    if check == "allowed":
        values = expect_list(item, check, where)
        if not values:
            raise node_error(item, check, f"{w}: give a non-empty list of values")
        for i, value in enumerate(values):
            if not isinstance(value, str | int | float):
                raise node_error(values, i, f"{w}: values must be text, numbers or booleans")
        return AllowedRule(column, tuple(values), mostly, line)
    if check == "regex":
        pattern = expect_str(item, check, where)
        assert pattern is not None
        try:
            re.compile(pattern)
        except re.error as exc:
            raise node_error(item, check, f"{w}: invalid regular expression: {exc}") from None
        return RegexRule(column, pattern, mostly, line)
    if expect_bool(item, check, where) is not True:
        raise node_error(item, check, f"{w}: 'unique: false' checks nothing; remove the rule")
    return UniqueRule(column, mostly, line)


def _parse_change(body: YamlMap, where: str) -> YamlMap | None:
    node = expect_map(body, "change", where)
    if node is not None:
        check_keys(node, ("rows", "drift"), f"{where} change")
        if "rows" not in node and "drift" not in node:
            raise node_error(node, None, f"{where} change: give rows:, drift: or both")
    return node


def _parse_row_change(body: YamlMap, where: str) -> RowChangeSpec | None:
    change = _parse_change(body, where)
    node = expect_map(change, "rows", f"{where} change") if change is not None else None
    if node is None:
        return None
    w = f"{where} change.rows"
    check_keys(node, ("max_drop", "max_growth"), w)
    drop = expect_number(node, "max_drop", w, minimum=0.0, maximum=1.0)
    growth = expect_number(node, "max_growth", w, minimum=0.0)
    if drop is None and growth is None:
        raise node_error(node, None, f"{w}: give max_drop:, max_growth: or both")
    return RowChangeSpec(drop, growth, node.line)


def _parse_drift(body: YamlMap, where: str) -> DriftSpec | None:
    change = body.get("change")
    if not isinstance(change, YamlMap) or "drift" not in change:
        return None
    w = f"{where} change.drift"
    node = change["drift"]
    if node is None or node is True:
        return DriftSpec(None, DEFAULT_PSI_MAX, change.line_of("drift"))
    node = expect_map(change, "drift", f"{where} change")
    assert node is not None
    check_keys(node, ("columns", "psi_max"), w)
    columns = expect_str_list(node, "columns", w)
    psi_max = expect_number(node, "psi_max", w, minimum=0.0)
    return DriftSpec(columns, DEFAULT_PSI_MAX if psi_max is None else psi_max, node.line)
