"""The record a registry tag message carries.

Layout (what ``git cat-file tag`` and ``gto show``/``gto history`` display)::

    Register churn v3.0.0: models/churn.pkl (1.2 MB)

    ```json
    {
      "gitml_record": 1,
      "kind": "registration",
      ...
    }
    ```

The first line is for humans (GTO, forges and ``git tag -n`` show it); the fenced
JSON block is for machines and carries a schema number so later gitml versions can
extend it. The JSON is indented, so no line starts with ``#``: ``git tag -m`` strips
such lines as comments by default. ASCII-only JSON survives any message encoding.

Tag messages are untrusted: ``parse_record`` returns None for anything that is not
exactly a record of a schema we know (foreign GTO message, newer schema, bad types,
unsafe model path, absurd nesting) and never raises.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from gitml import progress
from gitml.bounded import load_json
from gitml.errors import ConfigError, UnsafePathError
from gitml.git.refname import is_git_oid
from gitml.safepath import check_relpath
from gitml.store.hashing import is_oid

Json: TypeAlias = "bool | int | float | str | list[Json] | dict[str, Json] | None"

SCHEMA = 1
MAX_RECORD_BYTES = 16 << 20  # a registration with its params and metrics
_FENCE_RE = re.compile(r"^```json[ \t]*\n(.*?)\n```[ \t]*$", re.MULTILINE | re.DOTALL)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]+")
EventAction = Literal["assign", "unassign", "deprecate", "deregister"]
_ACTIONS: tuple[EventAction, ...] = ("assign", "unassign", "deprecate", "deregister")


@dataclass(frozen=True, slots=True)
class GuardSummary:
    """One guard's outcome at registration time (the guard layer owns the details)."""

    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """The registered model: pointer's tracked path, object id and size in bytes."""

    path: str
    oid: str
    size: int


@dataclass(frozen=True, slots=True)
class RegistrationRecord:
    """What a registration tag says about the version it creates."""

    artifact: str
    version: str
    commit: str
    model: ModelInfo
    data: Mapping[str, str] = field(default_factory=dict)  # tracked path -> oid
    params: Mapping[str, Json] = field(default_factory=dict)
    metrics: Mapping[str, Json] = field(default_factory=dict)
    guards: tuple[GuardSummary, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class EventRecord:
    """What a stage, deprecation or deregistration tag says (who meant what)."""

    action: EventAction
    artifact: str
    version: str | None = None
    stage: str | None = None
    note: str = ""


Record = RegistrationRecord | EventRecord


human_size = progress.human_size  # the one size format (kept here for older imports)


def one_line(text: str, limit: int = 200) -> str:
    """Collapse control characters and newlines so ``text`` fits on one message line."""
    flat = _CONTROL_RE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _finite(value: Json) -> Json:
    # JSON has no NaN/Infinity; a diverged loss must not make the record unreadable.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    return value


def _to_json(record: Record) -> dict[str, Json]:
    if isinstance(record, EventRecord):
        return {
            "gitml_record": SCHEMA,
            "kind": "event",
            "action": record.action,
            "artifact": record.artifact,
            "version": record.version,
            "stage": record.stage,
            "note": record.note,
        }
    return {
        "gitml_record": SCHEMA,
        "kind": "registration",
        "artifact": record.artifact,
        "version": record.version,
        "commit": record.commit,
        "model": {"path": record.model.path, "oid": record.model.oid, "size": record.model.size},
        "data": dict(record.data),
        "params": _finite(dict(record.params)),
        "metrics": _finite(dict(record.metrics)),
        "guards": [{"name": g.name, "passed": g.passed, "detail": g.detail} for g in record.guards],
        "note": record.note,
    }


def format_record(headline: str, record: Record) -> str:
    """The full tag message: one-line ``headline``, blank line, fenced JSON."""
    body = json.dumps(_to_json(record), indent=2, ensure_ascii=True, allow_nan=False)
    return f"{one_line(headline)}\n\n```json\n{body}\n```\n"


def _is_int(value: object, expected: int | None = None) -> bool:
    # json gives bool for true/false and bool is an int subclass: refuse it.
    return type(value) is int and (expected is None or value == expected)


def _str(obj: Mapping[str, object], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise ValueError(key)
    return value


def _opt_str(obj: Mapping[str, object], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(key)
    return value


def _dict(obj: Mapping[str, object], key: str) -> dict[str, Json]:
    value = obj.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(key)
    return value


def _registration(obj: Mapping[str, object]) -> RegistrationRecord:
    model = _dict(obj, "model")
    size = model.get("size")
    if not _is_int(size) or not isinstance(size, int) or size < 0:
        raise ValueError("model.size")
    path = check_relpath(_str(model, "path"), what="model path")
    oid, commit = _str(model, "oid"), _str(obj, "commit")
    if not is_oid(oid) or not is_git_oid(commit):
        raise ValueError("oid")
    data = _dict(obj, "data")
    if not all(is_oid(v) for v in data.values()):
        raise ValueError("data")
    guards_raw = obj.get("guards", [])
    if not isinstance(guards_raw, list):
        raise ValueError("guards")
    guards = []
    for g in guards_raw:
        if not isinstance(g, dict) or not isinstance(g.get("passed"), bool):
            raise ValueError("guards")
        guards.append(GuardSummary(_str(g, "name"), bool(g["passed"]), _str(g, "detail")))
    return RegistrationRecord(
        artifact=_str(obj, "artifact"),
        version=_str(obj, "version"),
        commit=commit,
        model=ModelInfo(path, oid, size),
        data={k: str(v) for k, v in data.items()},
        params=_dict(obj, "params"),
        metrics=_dict(obj, "metrics"),
        guards=tuple(guards),
        note=_opt_str(obj, "note") or "",
    )


def _event(obj: Mapping[str, object]) -> EventRecord:
    action = obj.get("action")
    for known in _ACTIONS:
        if action == known:
            return EventRecord(
                action=known,
                artifact=_str(obj, "artifact"),
                version=_opt_str(obj, "version"),
                stage=_opt_str(obj, "stage"),
                note=_opt_str(obj, "note") or "",
            )
    raise ValueError("action")


def parse_record(message: str) -> Record | None:
    """The record in a tag message, or None if there is none we can trust."""
    blocks = _FENCE_RE.findall(message)
    if not blocks:
        return None
    try:
        obj = load_json(blocks[-1], source="registry record", max_bytes=MAX_RECORD_BYTES)
        if not isinstance(obj, dict) or not _is_int(obj.get("gitml_record"), SCHEMA):
            return None
        if obj.get("kind") == "registration":
            return _registration(obj)
        if obj.get("kind") == "event":
            return _event(obj)
    except (ValueError, ConfigError, UnsafePathError):  # ConfigError: bad JSON, too big/deep
        return None
    return None
