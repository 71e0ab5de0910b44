"""``dvc.yaml`` + ``dvc.lock``: stage outputs to import, stages to report.

The lock file holds what was produced (paths relative to the stage's
``wdir``, with their md5); ``dvc.yaml`` says where ``wdir`` is and which
outputs DVC does not cache (``cache: false``, typical for metrics). Stages
with ``foreach``/``matrix`` appear in the lock as ``name@key``; their
definition is the ``do:`` body (or the stage itself for ``matrix``).
Templated values (``${...}``) are resolved by DVC, not here: a templated
``wdir`` makes that stage's outputs "not converted", a templated output entry
only matters if it might be ``cache: false``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, replace
from typing import Any

from gitml.bounded import quote
from gitml.errors import InteropError
from gitml.interop.dvcfiles import DvcOutput, DvcStage, Parsed, Skipped, load_doc, parse_out
from gitml.interop.toplevel import CARRIED, TopLevel, plot_item, read_top_level

_TOP_LEVEL_KEPT = ("stages", "vars", "schema")


@dataclass
class _StageDef:
    name: str
    wdir_raw: str
    outs: dict[str, bool] = field(default_factory=dict)  # normalised raw path → cached
    templated_uncached: bool = False


def _plot_props(opts: dict[str, Any]) -> dict[str, Any] | None:
    props = {k: v for k, v in opts.items() if k not in ("cache", "persist")}
    return props or None


def as_list(value: Any, what: str, source: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str | dict):
        return [value]
    raise InteropError(f"{source}: {what} must be a list")


def named(item: Any, source: str) -> tuple[str, dict[str, Any]]:
    """``"path"`` or ``{"path": {options}}`` → (path, options)."""
    if isinstance(item, str):
        return item, {}
    if isinstance(item, dict) and len(item) == 1:
        ((name, opts),) = item.items()
        if isinstance(name, str) and (opts is None or isinstance(opts, dict)):
            return name, opts or {}
    raise InteropError(f"{source}: cannot read the entry {quote(item)}")


def _names(body: dict[str, Any], key: str, source: str) -> list[str]:
    out: list[str] = []
    for item in as_list(body.get(key), key, source):
        if isinstance(item, dict) and key == "params":
            out += [f"{file}:{','.join(map(str, keys or []))}" for file, keys in item.items()]
        else:
            out.append(named(item, source)[0])
    return out


def _stage_body(name: str, body: Any, source: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InteropError(f"{source}: stage {quote(name)} must be a mapping")
    if "foreach" in body:
        do = body.get("do")
        if not isinstance(do, dict):
            raise InteropError(f"{source}: stage {quote(name)}: foreach needs a 'do' mapping")
        return do
    return body


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        return any(_has_template(k) or _has_template(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return False


def _norm(base: str, path: str) -> str:
    """``base/path`` normalised ("" for the top)."""
    joined = posixpath.normpath(posixpath.join(base, path) if base else path)
    return "" if joined == "." else joined


def read_stage_defs(
    source: str, data: bytes, notes: list[str], top: TopLevel
) -> tuple[dict[str, _StageDef], list[DvcStage]]:
    """The stages of a dvc.yaml; its top-level sections are merged into ``top``."""
    doc = load_doc(source, data)
    for key in doc:
        if key not in _TOP_LEVEL_KEPT and key not in CARRIED:
            notes.append(f"{source}: top-level {quote(key)} is not carried over")
    top.merge(read_top_level(source, doc))
    stages = doc.get("stages") or {}
    if not isinstance(stages, dict):
        raise InteropError(f"{source}: stages must be a mapping")
    defs: dict[str, _StageDef] = {}
    listed: list[DvcStage] = []
    base = posixpath.dirname(source)
    for name, raw_body in stages.items():
        body = _stage_body(str(name), raw_body, source)
        wdir = body.get("wdir", ".")
        if not isinstance(wdir, str):
            raise InteropError(f"{source}: stage {quote(name)}: wdir must be a string")
        sdef = _StageDef(str(name), wdir)
        for key in ("outs", "metrics", "plots"):
            for item in as_list(body.get(key), key, source):
                path, opts = named(item, source)
                cached = opts.get("cache", True) is not False
                if "${" in path or "${" in wdir:
                    sdef.templated_uncached |= not cached
                    continue
                sdef.outs[posixpath.normpath(path)] = cached
                if key == "plots":  # drawn by gitml report, cached or not
                    top.plots.append(
                        plot_item(_norm(base, wdir), {path: _plot_props(opts)}, source)
                    )
        defs[str(name)] = sdef
        cmd = body.get("cmd", [])
        template = any(k in raw_body for k in ("foreach", "matrix", "vars")) or _has_template(body)
        listed.append(
            DvcStage(
                name=str(name),
                source=source,
                cmd=[str(c) for c in as_list(cmd, "cmd", source)],
                wdir=_norm(base, wdir),
                deps=_names(body, "deps", source),
                outs=_names(body, "outs", source),
                params=_names(body, "params", source),
                metrics=_names(body, "metrics", source),
                plots=_names(body, "plots", source),
                body=body,
                template=template,
            )
        )
    return defs, listed


def parse_pipeline(
    yaml_source: str,
    yaml_data: bytes | None,
    lock_source: str,
    lock_data: bytes | None,
    dvc_root: str,
) -> Parsed:
    """The outputs recorded in ``dvc.lock`` and the stages of ``dvc.yaml`` (same folder)."""
    out = Parsed(top=TopLevel())
    defs: dict[str, _StageDef] = {}
    if yaml_data is not None:
        assert out.top is not None
        defs, out.stages = read_stage_defs(yaml_source, yaml_data, out.notes, out.top)
    if lock_data is None:
        return out
    doc = load_doc(lock_source, lock_data)
    stages = doc.get("stages", {}) if "schema" in doc else doc  # 1.0 had no schema key
    if not isinstance(stages, dict):
        raise InteropError(f"{lock_source}: stages must be a mapping")
    base = posixpath.dirname(lock_source)
    out.stages = [
        replace(s, lock=stages.get(s.name) if isinstance(stages.get(s.name), dict) else None)
        for s in out.stages
    ]
    for name, body in stages.items():
        if not isinstance(body, dict):
            raise InteropError(f"{lock_source}: stage {quote(name)} must be a mapping")
        sdef = defs.get(str(name).split("@", 1)[0])
        wdir_raw = sdef.wdir_raw if sdef else "."
        outs = body.get("outs") or []
        if not isinstance(outs, list):
            raise InteropError(f"{lock_source}: stage {quote(name)}: outs must be a list")
        if "${" in wdir_raw:
            out.skipped += [
                Skipped(
                    str(o.get("path") if isinstance(o, dict) else o),
                    lock_source,
                    f"stage {name}: templated wdir",
                )
                for o in outs
            ]
            continue
        folder = _norm(base, wdir_raw)
        for entry in outs:
            raw = entry.get("path") if isinstance(entry, dict) else None
            cached = True
            if sdef is not None and isinstance(raw, str):
                known = sdef.outs.get(posixpath.normpath(raw))
                if known is None and sdef.templated_uncached:
                    out.skipped.append(
                        Skipped(
                            raw,
                            lock_source,
                            f"stage {name}: cannot tell from "
                            "the templated dvc.yaml whether DVC caches it",
                        )
                    )
                    continue
                cached = known is not False
            item = parse_out(
                entry, folder, source=lock_source, dvc_root=dvc_root, stage=str(name), cached=cached
            )
            (out.outputs if isinstance(item, DvcOutput) else out.skipped).append(item)  # type: ignore[arg-type]
    return out
