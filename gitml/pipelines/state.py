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

from gitml.context import RepoContext
from gitml.errors import ConfigError, PipelineError
from gitml.guards.projectfile import ProjectFile
from gitml.pipelines.spec import Stage
from gitml.store.durable import write_file_atomic
from gitml.store.hashing import hash_bytes
from gitml.workspace.scan import observe
from gitml.workspace.status import workspace_oid

LOCK_FILE = "gitml.lock"
LOCK_VERSION = 1


def canonical(value: Any) -> bytes:
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def path_oid(ctx: RepoContext, rel: str) -> str | None:
    """The oid ``rel`` (file or folder) would get if added now; None if absent."""
    result = observe(ctx, rel)
    if not result.exists:
        return None
    return workspace_oid(result)


def load_params(ctx: RepoContext, project: ProjectFile) -> dict[str, Any]:
    """All params files merged (top-level sections)."""
    import yaml

    merged: dict[str, Any] = {}
    for name in project.params:
        path = ctx.root / name
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            continue
        try:
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise ConfigError(f"{name}: cannot parse: {exc}") from None
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
                    f"stage {stage.name!r}: param {key!r} is not in the params files"
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


def read_lock(root: Path) -> dict[str, Any]:
    path = root / LOCK_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {"version": LOCK_VERSION, "stages": {}}
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{LOCK_FILE}: cannot read: {exc}", "restore it with git checkout"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("stages"), dict):
        raise ConfigError(f"{LOCK_FILE}: not a gitml lock file", "restore it with git checkout")
    return data


def write_lock(ctx: RepoContext, lock: dict[str, Any]) -> None:
    write_file_atomic(ctx.root / LOCK_FILE, canonical(lock))
    ctx.git.add([LOCK_FILE])


def read_metrics(ctx: RepoContext, stage: Stage) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in stage.metrics:
        try:
            out[name] = json.loads((ctx.root / name).read_text("utf-8"))
        except (OSError, ValueError):
            out[name] = None
    return out
