"""What a stage's inputs and outputs look like now, and ``gitml.lock``.

Paths are hashed through the stat index (:func:`gitml.workspace.scan.scan`),
so an unchanged tree costs a few ``stat`` calls. ``gitml.lock`` is canonical
JSON (sorted keys, two-space indent, one trailing newline) written atomically,
so it diffs well and a crash leaves the old or the new file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitml.bounded import describe, load_json, quote, read_capped
from gitml.context import RepoContext
from gitml.errors import ConfigError, PipelineError
from gitml.pipelines.spec import Stage
from gitml.project.file import ProjectFile
from gitml.project.values import read_values
from gitml.store.durable import write_file_atomic
from gitml.store.hashing import hash_bytes, is_oid
from gitml.workspace.scan import observe
from gitml.workspace.status import workspace_oid

LOCK_FILE = "gitml.lock"
LOCK_VERSION = 1
MAX_LOCK_BYTES = 64 << 20


def canonical(value: Any) -> bytes:
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def path_oid(ctx: RepoContext, rel: str) -> str | None:
    """The oid ``rel`` (file or folder) would get if added now; None if absent."""
    result = observe(ctx, rel)
    if not result.exists:
        return None
    return workspace_oid(result)


def load_params(ctx: RepoContext, project: ProjectFile) -> dict[str, Any]:
    """All params files merged (top-level sections), each read bounded."""
    merged: dict[str, Any] = {}
    for name in project.params:
        try:
            data = read_values(ctx.root / name, source=name)
        except FileNotFoundError:
            continue
        if isinstance(data, dict):
            merged.update(data)
    return merged


def stage_params(stage: Stage, params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in stage.params:
        node: Any = params
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise PipelineError(
                    f"stage {stage.name!r}: param {quote(key)} is not in the params files"
                )
            node = node[part]
        out[key] = node
    return out


def inputs_state(ctx: RepoContext, stage: Stage, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "cmd": stage.cmd,
        "deps": {dep: path_oid(ctx, dep) for dep in stage.deps},
        "params": stage_params(stage, params),
    }


def run_key(inputs: dict[str, Any], stage: Stage) -> str:
    """The run-cache key: command, deps, params and the output names."""
    return hash_bytes(canonical({**inputs, "outs": sorted(stage.outs)}))


def changes(
    ctx: RepoContext, stage: Stage, inputs: dict[str, Any], recorded: dict[str, Any] | None
) -> list[str]:
    """Why the stage must run (empty: up to date)."""
    if recorded is None:
        return ["never run"]
    why: list[str] = []
    if recorded.get("cmd") != inputs["cmd"]:
        why.append("command changed")
    old_deps = recorded.get("deps") or {}
    why += [f"dep {d} changed" for d, oid in inputs["deps"].items() if old_deps.get(d) != oid]
    why += [f"dep {d} removed" for d in old_deps if d not in inputs["deps"]]
    old_params = recorded.get("params") or {}
    why += [f"param {k} changed" for k, v in inputs["params"].items() if old_params.get(k) != v]
    why += [f"param {k} removed" for k in old_params if k not in inputs["params"]]
    old_outs = recorded.get("outs") or {}
    for out in stage.outs:
        entry = old_outs.get(out)
        current = path_oid(ctx, out)
        if current is None:
            why.append(f"out {out} missing")
        elif not isinstance(entry, dict) or entry.get("oid") != current:
            why.append(f"out {out} changed")
    why += [f"metrics {m} missing" for m in stage.metrics if not (ctx.root / m).is_file()]
    return why


_LOCK_HINT = f"restore it with `git checkout {LOCK_FILE}`, or delete it and run gitml repro"


def read_lock(root: Path) -> dict[str, Any]:
    """``gitml.lock``, checked entry by entry (it is tracked: a clone may bring any bytes).

    Anything that is not exactly what :func:`write_lock` writes is one
    ConfigError naming the file, the entry and what is wrong.
    """
    try:
        data = read_capped(root / LOCK_FILE, source=LOCK_FILE, max_bytes=MAX_LOCK_BYTES)
        lock = load_json(data, source=LOCK_FILE, max_bytes=MAX_LOCK_BYTES)
    except FileNotFoundError:
        return {"version": LOCK_VERSION, "stages": {}}
    except ConfigError as exc:
        raise ConfigError(exc.message, _LOCK_HINT) from None
    problem = lock_problem(lock)
    if problem is not None:
        raise ConfigError(f"{LOCK_FILE}: {problem}", _LOCK_HINT)
    result: dict[str, Any] = lock
    return result


def lock_problem(lock: object) -> str | None:
    """What is wrong with a decoded gitml.lock, or None (the shape write_lock writes)."""
    if not isinstance(lock, dict):
        return f"must be a JSON object, not {describe(lock)}"
    version = lock.get("version")
    if type(version) is not int or version != LOCK_VERSION:
        return f"'version' must be {LOCK_VERSION}, not {quote(version)}"
    stages = lock.get("stages")
    if not isinstance(stages, dict):
        return f"'stages' must be a mapping of stage name to its last run, not {describe(stages)}"
    for name, entry in stages.items():
        problem = _entry_problem(entry)
        if problem is not None:
            return f"stage {quote(name)}: {problem}"
    return None


def _entry_problem(entry: object) -> str | None:
    if not isinstance(entry, dict):
        return f"must be a mapping, not {describe(entry)}"
    if not isinstance(entry.get("cmd"), str):
        return f"'cmd' must be text, not {describe(entry.get('cmd'))}"
    for key in ("deps", "params", "outs", "metrics"):
        if not isinstance(entry.get(key, {}), dict):
            return f"{key!r} must be a mapping, not {describe(entry[key])}"
    for dep, oid in entry.get("deps", {}).items():
        if oid is not None and not is_oid(oid):
            return f"dep {quote(dep)}: the hash must be 64 hex digits or null, not {describe(oid)}"
    for out, rec in entry.get("outs", {}).items():
        if not isinstance(rec, dict):
            return f"out {quote(out)} must be a mapping, not {describe(rec)}"
        oid = rec.get("oid")
        if not isinstance(oid, str) or not is_oid(oid):
            return f"out {quote(out)}: 'oid' must be 64 hex digits, not {describe(oid)}"
        for key in ("size", "nfiles"):
            value = rec.get(key)
            if type(value) is not int or value < 0:
                return f"out {quote(out)}: {key!r} must be a whole number, not {describe(value)}"
        if rec.get("kind") not in ("file", "dir"):
            return f"out {quote(out)}: 'kind' must be 'file' or 'dir', not {quote(rec.get('kind'))}"
    return None


def write_lock(ctx: RepoContext, lock: dict[str, Any]) -> None:
    write_file_atomic(ctx.root / LOCK_FILE, canonical(lock))
    ctx.git.add([LOCK_FILE])


def read_metrics(ctx: RepoContext, stage: Stage) -> dict[str, Any]:
    """Each metrics file of ``stage`` (None when absent or unreadable)."""
    out: dict[str, Any] = {}
    for name in stage.metrics:
        try:
            out[name] = read_values(ctx.root / name, source=name)
        except (OSError, ConfigError):
            out[name] = None
    return out
