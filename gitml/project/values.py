"""The one reader of params and metrics files: the JSON/YAML files gitml.yaml names.

Every feature reads them here (commit notes, guards, pipeline locks, registry
records, monitor), so each file is read the same way everywhere: one size cap
(:data:`MAX_VALUES_BYTES`), JSON for ``.json`` and YAML (safe, bounded) for
anything else, a final symlink/FIFO/device refused rather than followed
(a cloned ``params.yaml -> ~/.config/gh/hosts.yml`` must not reach a note),
and one error: :class:`~gitml.errors.ConfigError` naming the file and what is
wrong, never its content. A missing file is ``FileNotFoundError``; callers
decide whether that matters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitml.bounded import parse_structured, read_capped

MAX_VALUES_BYTES = 4 << 20  # a params or metrics file; several go into one commit note


def parse_values(data: str | bytes, *, source: str) -> Any:
    """The content of a params/metrics file (``source`` names it, e.g. a blob at a commit)."""
    json_ = source.lower().endswith(".json")
    return parse_structured(data, source=source, max_bytes=MAX_VALUES_BYTES, json_=json_)


def read_values(path: Path, *, source: str) -> Any:
    """The parsed file at ``path`` (``source``: its name in messages)."""
    return parse_values(read_capped(path, source=source, max_bytes=MAX_VALUES_BYTES), source=source)
