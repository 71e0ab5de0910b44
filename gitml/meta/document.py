"""The per-commit metadata document stored as a Git note on ``refs/notes/gitml``.

One JSON object per commit, schema-versioned, canonical (sorted keys) so two
writers of the same facts produce the same note:

    {"schema": 1, "gitml": "0.1.0", "python": "3.11.7",
     "verified": true,            # guards ran before the commit (pre-commit hook)
     "bypassed": false,           # the commit skipped the hook (--no-verify)
     "data": {"data/raw": {"kind": "dir", "oid": "...", "size": 1, "nfiles": 1}},
     "params": {...}, "metrics": {"metrics/churn.json": {...}},
     "stats": {"<guard>": {...reference statistics...}},
     "datasets": {"data/c.parquet": {"oid": "...", "size": 1, "stats": {...}}},  # hookflow/datasets
     "guards": {"ok": true, "results": [{"guard", "rule", "status", "observed", "expected", ...}]},
     "monitor": [...]}           # optional, appended by gitml monitor
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gitml.bounded import load_json
from gitml.errors import ConfigError
from gitml.version import __version__

SCHEMA = 1


@dataclass
class Metadata:
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    guards: dict[str, Any] | None = None
    verified: bool = True
    bypassed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "gitml": __version__,
            "python": platform.python_version(),
            "verified": self.verified,
            "bypassed": self.bypassed,
            "data": self.data,
            "params": self.params,
            "metrics": self.metrics,
            "stats": self.stats,
            "guards": self.guards,
            **self.extra,
        }
        return json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=False, default=str) + "\n"


MAX_NOTE_BYTES = 16 << 20


def parse_note(
    text: str | None, *, on_bad: Callable[[str], None] | None = None
) -> dict[str, Any] | None:
    """A note's document, or None for no note or one that is not ours.

    Notes are shared through remotes, so they are untrusted input: anything
    that is not a JSON object with our schema number is ignored, never fatal.
    A note that cannot even be decoded (bad JSON, larger than
    :data:`MAX_NOTE_BYTES`, nested deeper than the JSON limit) is also None,
    and ``on_bad`` is told why (one line, never the note's text) so the caller
    can warn about that one commit and go on with the others.
    """
    if not text:
        return None
    # An amend or rebase appends the old commit's note to the new one
    # (notes.rewriteMode=concatenate): the first document is the newest.
    try:
        doc = load_json(text, source="gitml note", max_bytes=MAX_NOTE_BYTES, first=True)
    except ConfigError as exc:
        if on_bad is not None:
            on_bad(exc.message)
        return None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        return None
    return doc
