"""Column type names in ``schema:`` and how they match Arrow types.

Names are Arrow's own spelling (``str(pyarrow type)``: ``int64``, ``double``,
``timestamp[us, tz=UTC]``...) so what ``gitml`` prints as the observed type can
be pasted into ``gitml.yaml``. A few aliases (``float64`` → ``double``) and
*families* (``integer``, ``text``...) cover the common "any width will do"
case, which matters because CSV inference and pandas round-trips change widths.

Validation runs at spec-load time without pyarrow (``import`` stays cheap);
:func:`type_matches` imports pyarrow and is only called while data is checked.
"""

from __future__ import annotations

import re
from typing import Any

PRIMITIVES = frozenset(
    {
        "null", "bool",
        "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "halffloat", "float", "double",
        "string", "large_string", "string_view", "binary", "large_binary", "binary_view",
        "date32[day]", "date64[ms]",
    }
)  # fmt: skip
ALIASES = {
    "float16": "halffloat",
    "float32": "float",
    "float64": "double",
    "boolean": "bool",
    "utf8": "string",
    "large_utf8": "large_string",
    "date32": "date32[day]",
    "date64": "date64[ms]",
}
FAMILIES = {
    "integer": "any signed or unsigned integer width",
    "floating": "halffloat, float or double",
    "numeric": "any integer, floating or decimal type",
    "text": "string, large_string, string_view or a dictionary of them",
    "timestamp": "timestamp of any unit and time zone",
    "date": "date32 or date64",
    "any": "any type (the column only has to exist)",
}
_PARAMETRIC = re.compile(
    r"^(?:timestamp\[(?:s|ms|us|ns)(?:, tz=[^\]]+)?\]"
    r"|time32\[(?:s|ms)\]|time64\[(?:us|ns)\]|duration\[(?:s|ms|us|ns)\]"
    r"|decimal(?:32|64|128|256)\(\d+, -?\d+\)|fixed_size_binary\[\d+\]"
    r"|(?:list|large_list|list_view|large_list_view|fixed_size_list|struct|map|dictionary"
    r"|dense_union|sparse_union)<.*>(?:\[\d+\])?)$"
)


def normalize_type_name(name: str) -> str | None:
    """The canonical spelling of a schema type name, or None if it is not one."""
    text = name.strip()
    text = ALIASES.get(text, text)
    if text in PRIMITIVES or text in FAMILIES or _PARAMETRIC.match(text):
        return text
    return None


def known_type_names() -> list[str]:
    """Every plain name (for "did you mean")."""
    return sorted(PRIMITIVES | set(ALIASES) | set(FAMILIES))


def type_matches(expected: str, actual: Any) -> bool:
    """Does the Arrow type ``actual`` satisfy the normalized name ``expected``?"""
    import pyarrow as pa

    t = pa.types
    if expected == "any":
        return True
    if expected == "integer":
        return bool(t.is_integer(actual))
    if expected == "floating":
        return bool(t.is_floating(actual))
    if expected == "numeric":
        return bool(t.is_integer(actual) or t.is_floating(actual) or t.is_decimal(actual))
    if expected == "text":
        if t.is_dictionary(actual):
            actual = actual.value_type
        return bool(t.is_string(actual) or t.is_large_string(actual) or _is_string_view(actual))
    if expected == "timestamp":
        return bool(t.is_timestamp(actual))
    if expected == "date":
        return bool(t.is_date(actual))
    return str(actual) == expected


def _is_string_view(arrow_type: Any) -> bool:
    import pyarrow as pa

    check = getattr(pa.types, "is_string_view", None)
    return bool(check(arrow_type)) if check is not None else False
