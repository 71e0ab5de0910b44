"""A safe YAML loader that reads scalars the way DVC wrote them (YAML 1.2 core).

DVC writes its files with ruamel.yaml, which follows YAML 1.2: ``yes``, ``on``,
``2023-01-01`` or ``1:20`` are plain strings there and are written unquoted.
PyYAML's SafeLoader follows YAML 1.1 and would turn a file named ``on`` into
``True`` or a folder named ``2023-01-01`` into a date. This loader keeps
PyYAML's safe constructor (no Python objects, no code) with the YAML 1.2 core
schema's implicit types only: null, true/false, decimal/octal/hex ints, floats.

DVC files and params files arrive with a clone: they are read through
:func:`gitml.bounded.load_yaml` (size cap, node/alias and depth limits), never
with a bare ``yaml.load``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import yaml

from gitml.bounded import load_yaml as load_bounded

MAX_BYTES = 64 << 20  # a DVC file or params file; dvc.lock of a big pipeline stays well below
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Yaml12Loader(_Base):  # type: ignore[valid-type,misc]
    """SafeLoader with YAML 1.2 core-schema implicit resolvers."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {}


_RESOLVERS: list[tuple[str, str, str]] = [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?[0-9]+$", "-+0123456789"),
    ("tag:yaml.org,2002:int", r"^0o[0-7]+$", "0"),
    ("tag:yaml.org,2002:int", r"^0x[0-9a-fA-F]+$", "0"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+.0123456789",
    ),
]

for _tag, _pattern, _first in _RESOLVERS:
    Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)  # "0777" is decimal in YAML 1.2


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_yaml(data: bytes | str, *, source: str, max_bytes: int = MAX_BYTES) -> Any:
    """Parse one YAML 1.2 document safely and bounded (raises ConfigError naming ``source``)."""
    return load_bounded(data, source=source, max_bytes=max_bytes, loader=Yaml12Loader)
