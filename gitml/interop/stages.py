"""A DVC stage as a gitml stage (``gitml.yaml`` ``stages:``).

Mapping (see docs/DVC.md):

* ``cmd`` (a string or a list, joined with ``&&``); a ``wdir`` becomes
  ``cd <wdir> && ...`` because gitml runs every command at the repository top;
* ``deps``, ``outs``: paths made repository-relative (resolved against the
  dvc.yaml folder and ``wdir``, validated like every other DVC path);
* ``metrics`` with ``cache: false`` stay metrics (JSON kept in git); cached
  metrics and plots become outs; uncached plots are plain files (not carried);
* ``params``: ``key`` (of ``<wdir>/params.yaml``) and ``{file: [keys]}`` become
  the same dotted keys; their files must be in ``gitml.yaml``'s ``params:``;
* ``desc`` becomes ``description``.

Not convertible (listed, left to DVC): ``foreach``/``matrix``/``vars`` and
``${...}`` templating, an uncached out that is not a metric, external
(URL/absolute) paths, params files other than YAML/JSON.
"""

from __future__ import annotations

import json
import posixpath
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.bounded import quote, read_capped
from gitml.errors import GitmlError
from gitml.interop.dvcfiles import DvcStage, resolve
from gitml.interop.dvcstages import as_list, named
from gitml.interop.yaml12 import MAX_BYTES, load_yaml
from gitml.project.yamlnodes import safe_name


@dataclass
class StageSpec:
    dvc: DvcStage
    name: str  # the gitml stage name
    wdir: str
    spec: dict[str, Any]  # the body under ``stages: NAME:``
    params_files: list[str] = field(default_factory=list)
    params: dict[str, tuple[str, str]] = field(default_factory=dict)  # key → (file, DVC key)
    notes: list[str] = field(default_factory=list)


class NotConvertible(Exception):
    """The stage cannot be expressed as a gitml stage; the message says why."""


def gitml_name(stage: DvcStage) -> str:
    folder = posixpath.dirname(stage.source)
    # gitml.yaml refuses unsafe stage names (check_name): a folder "my data" gives "my-data-..."
    return safe_name(f"{folder}-{stage.name}" if folder else stage.name)


def _path(wdir: str, raw: object, what: str, source: str) -> str:
    try:
        path = resolve(wdir, raw, source=source, what=what)
    except GitmlError as exc:
        raise NotConvertible(exc.message) from None
    if path is None:
        raise NotConvertible(f"{what} {quote(raw)} is outside the repository")
    return path


def _cmd(body: dict[str, Any], wdir: str) -> str:
    raw = body.get("cmd")
    parts = [str(c) for c in as_list(raw, "cmd", "dvc.yaml")] if raw is not None else []
    if not parts:
        raise NotConvertible("it has no cmd")
    cmd = " && ".join(parts)
    return f"cd {shlex.quote(wdir)} && {cmd}" if wdir else cmd


def _param_keys(root: Path, file: str) -> list[str]:
    """All top-level keys of a params file (DVC's ``- file.yaml:`` with no keys)."""
    try:
        data = load_yaml(read_capped(root / file, source=file, max_bytes=MAX_BYTES), source=file)
    except OSError as exc:
        raise NotConvertible(f"cannot read params file {file}: {exc.strerror}") from None
    except GitmlError as exc:  # not YAML/JSON, too big, too deep: names the file and limit
        raise NotConvertible(f"cannot read params file {exc.message}") from None
    if not isinstance(data, dict):
        raise NotConvertible(f"params file {file} is not a mapping")
    return [str(k) for k in data]


def _params(root: Path, spec: StageSpec, items: list[Any]) -> None:
    source = spec.dvc.source
    for item in items:
        pairs: list[tuple[str, list[str] | None]]
        if isinstance(item, str):
            pairs = [("params.yaml", [item])]
        elif isinstance(item, dict):
            pairs = [(str(f), [str(k) for k in keys] if keys else None) for f, keys in item.items()]
        else:
            raise NotConvertible(f"cannot read the params entry {quote(item)}")
        for raw_file, keys in pairs:
            file = _path(spec.wdir, raw_file, "params file", source)
            if posixpath.splitext(file)[1] not in (".yaml", ".yml", ".json"):
                raise NotConvertible(f"params file {file}: gitml reads YAML and JSON params only")
            if file not in spec.params_files:
                spec.params_files.append(file)
            for key in keys if keys is not None else _param_keys(root, file):
                if key in spec.params and spec.params[key][0] != file:
                    raise NotConvertible(f"param {key} is in two files; gitml merges them")
                spec.params[key] = (file, key)


def build_spec(root: Path, stage: DvcStage) -> StageSpec:
    """The gitml stage for ``stage``; NotConvertible says why there is none."""
    if stage.template:
        raise NotConvertible(
            "foreach/matrix/vars and ${...} templating have no gitml "
            "equivalent yet; write the stages out by hand"
        )
    body = stage.body
    wdir = _path("", stage.wdir, "wdir", stage.source) if stage.wdir else ""
    spec = StageSpec(stage, gitml_name(stage), wdir, {"cmd": _cmd(body, wdir)})
    deps = [
        _path(wdir, named(d, stage.source)[0], "dep", stage.source)
        for d in as_list(body.get("deps"), "deps", stage.source)
    ]
    outs: list[str] = []
    metrics: list[str] = []
    for key in ("outs", "metrics", "plots"):
        for item in as_list(body.get(key), key, stage.source):
            raw, opts = named(item, stage.source)
            path = _path(wdir, raw, key[:-1], stage.source)
            cached = opts.get("cache", True) is not False
            if opts.get("persist"):
                spec.notes.append(f"{path}: persist: true is not carried over")
            if cached:
                outs.append(path)
            elif key == "metrics":
                metrics.append(path)
            elif key == "plots":
                pass  # a plain file in git, drawn by gitml report (plots:, toplevel.py)
            else:
                raise NotConvertible(f"out {path} has cache: false; gitml tracks every out")
    _params(root, spec, as_list(body.get("params"), "params", stage.source))
    for key, value in (
        ("deps", deps),
        ("params", list(spec.params)),
        ("outs", outs),
        ("metrics", metrics),
    ):
        if value:
            spec.spec[key] = value
    if isinstance(body.get("desc"), str):
        spec.spec["description"] = body["desc"]
    if body.get("frozen") is True:
        spec.spec["frozen"] = True
    if body.get("always_changed"):
        spec.notes.append(f"stage {stage.name}: always_changed: true is not carried over")
    return spec


def same_spec(a: Any, b: Any) -> bool:
    """Stage bodies equal as data (YamlMap/YamlList compare like dict/list)."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)
