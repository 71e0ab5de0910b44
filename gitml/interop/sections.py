"""Writing a DVC project's top-level ``artifacts:``, ``metrics:``, ``plots:`` and
``params:`` into ``gitml.yaml`` (see :mod:`gitml.interop.toplevel`).

As for stages, entries are added as text (your comments stay), what is
already there with the same meaning is left alone, a name gitml.yaml already
uses for something else is never overwritten (it is listed as not converted),
and the result is checked by gitml's own parser before it is written.
"""

from __future__ import annotations

import json
from typing import Any

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.interop.results import Carried, ImportResult, NotConverted
from gitml.interop.toplevel import TopLevel
from gitml.project.edit import CannotEdit, add_entries, add_list_items
from gitml.project.file import PROJECT_FILE, ProjectFile, parse_project
from gitml.store.durable import write_file_atomic


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def carry_top_level(
    ctx: RepoContext, top: TopLevel, result: ImportResult, *, dry_run: bool
) -> None:
    if not (top.artifacts or top.metrics or top.plots or top.params):
        return
    path = ctx.root / PROJECT_FILE
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        text = ""
    try:
        project = parse_project(text, exists=bool(text))
        updated = _edited(text, project, top, result)
        parse_project(updated)
    except (CannotEdit, GitmlError) as exc:
        why = exc.message if isinstance(exc, GitmlError) else str(exc)
        result.not_converted.append(
            NotConverted("artifacts, metrics and plots", "dvc.yaml", f"{PROJECT_FILE}: {why}")
        )
        result.carried = []
        return
    if updated != text and not dry_run:
        write_file_atomic(path, updated.encode("utf-8"))
        ctx.git.add([PROJECT_FILE])


def _edited(text: str, project: ProjectFile, top: TopLevel, result: ImportResult) -> str:
    new: dict[str, dict[str, Any]] = {}
    for name, body in top.artifacts.items():
        body = dict(body)
        if body.get("type") == "model" and top.metrics and "metrics" not in body:
            body["metrics"] = list(top.metrics)
        have = project.artifacts.get(name)
        source = top.sources.get(f"artifact {name}", "dvc.yaml")
        if have is not None and have.path != body["path"]:
            result.not_converted.append(
                NotConverted(f"artifact {name}", source,
                             f"{PROJECT_FILE} already declares it with path {have.path} (kept)")
            )  # fmt: skip
            continue
        if have is None:
            new[name] = body
        result.carried.append(Carried("artifact", name, f"artifacts: {name} ({body['path']})"))
    if new:
        text = add_entries(text, "artifacts", new)
    metrics = [m for m in top.metrics if m not in project.metrics]
    if metrics:
        text = add_list_items(text, "metrics", metrics)
    result.carried += [Carried("metrics", m, "metrics:") for m in top.metrics]
    raw_plots = project.raw.get("plots") or []
    plots = [p for p in top.plots if not any(_same(p, q) for q in raw_plots)]
    if plots:
        text = add_list_items(text, "plots", plots)
    result.carried += [Carried("plot", _plot_name(p), "plots: (gitml report)") for p in top.plots]
    params = [p for p in top.params if p not in project.params]
    if params and "params" not in project.raw:  # keep reading the default file too
        params = list(dict.fromkeys([*project.params, *params]))
    try:
        text = add_list_items(text, "params", params) if params else text
    except CannotEdit as exc:
        why = f"{PROJECT_FILE}: {exc}"
        result.not_converted += [NotConverted(f"params file {p}", "dvc.yaml", why) for p in params]
    else:
        result.carried += [Carried("params", p, "params:") for p in top.params]
    return text


def _plot_name(item: Any) -> str:
    return item if isinstance(item, str) else str(next(iter(item)))
