"""The data behind the ``plots:`` of ``gitml.yaml`` at one commit, for ``gitml report``.

Each plot's files are read as committed (git files, or tracked data already
in the cache, up to :data:`MAX_FILE_BYTES` each): JSON or YAML (a list of
records, or a mapping holding one such list), CSV or TSV; a folder stands
for every data file below it (as DVC's ``plots: - eval/plots/metrics``); an
image plot keeps its bytes. Nothing here draws: :mod:`gitml.compare.html` does.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.project.specplots import IMAGE_SUFFIXES, PlotSpec

MAX_FILE_BYTES = 16 << 20
MAX_PLOTS = 40
DATA_SUFFIXES = (".json", ".yaml", ".yml", ".csv", ".tsv")


@dataclass
class Series:
    label: str  # the file (and field when several)
    x: list[Any]
    y: list[Any]


@dataclass
class PlotData:
    name: str
    template: str
    title: str
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    images: list[tuple[str, bytes]] = field(default_factory=list)  # (file, bytes)
    problem: str = ""  # why nothing could be drawn


def _records(name: str, data: bytes) -> list[dict[str, Any]]:
    if name.endswith((".csv", ".tsv")):
        text = data.decode("utf-8", "replace")
        rows = csv.DictReader(io.StringIO(text), delimiter="\t" if name.endswith(".tsv") else ",")
        return [{k: _number(v) for k, v in row.items() if k is not None} for row in rows]
    from gitml.meta.collect import parse_structured

    doc = parse_structured(name, data)
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        doc = lists[0] if len(lists) == 1 else None
    if not isinstance(doc, list):
        raise GitmlError(f"{name} is not a list of records")
    return [r for r in doc if isinstance(r, dict)]


def _number(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Files:
    """Files of one commit: git blobs, or tracked data the cache has."""

    def __init__(self, ctx: RepoContext, commit: str) -> None:
        from gitml.workspace.revisions import pointers_at

        self.ctx, self.commit = ctx, commit
        self.blobs = ctx.git.ls_tree(commit)
        self.pointers = {
            p: ptr for p, ptr in pointers_at(ctx, commit).items() if ptr.kind == "file"
        }

    def below(self, path: str) -> list[str]:
        names = [*self.blobs, *self.pointers]
        if path in names:
            return [path]
        return sorted(n for n in names if n.startswith(path + "/"))

    def read(self, path: str) -> bytes:
        sha = self.blobs.get(path)
        if sha is not None:
            return self.ctx.git.read_blobs([sha])[sha][: MAX_FILE_BYTES + 1]
        ptr = self.pointers.get(path)
        if ptr is None or ptr.size > MAX_FILE_BYTES or not self.ctx.store.has(ptr.oid):
            raise GitmlError(f"{path} is not in git at {self.commit[:12]} nor in the cache")
        return self.ctx.store.read_bytes(ptr.oid)


def plot_data(ctx: RepoContext, commit: str, specs: tuple[PlotSpec, ...]) -> list[PlotData]:
    files = _Files(ctx, commit)
    out = []
    for spec in specs[:MAX_PLOTS]:
        plot = PlotData(spec.name, spec.template, spec.title or spec.name,
                        spec.x_label or "", spec.y_label or "")  # fmt: skip
        try:
            _fill(plot, spec, files)
        except GitmlError as exc:
            plot.problem = exc.message
        if not plot.series and not plot.images and not plot.problem:
            plot.problem = "no data at this commit"
        out.append(plot)
    return out


def _fill(plot: PlotData, spec: PlotSpec, files: _Files) -> None:
    for part in spec.series:
        names = files.below(part.file)
        if not names:
            raise GitmlError(f"{part.file} does not exist at {files.commit[:12]}")
        for name in names:
            if name.lower().endswith(IMAGE_SUFFIXES):
                plot.images.append((name, files.read(name)))
                continue
            if not name.endswith(DATA_SUFFIXES):
                continue
            records = _records(name, files.read(name))
            _series(plot, name, records, part.x, part.y)


def _series(
    plot: PlotData, name: str, records: list[dict[str, Any]], x: str | None, ys: tuple[str, ...]
) -> None:
    if not records:
        return
    if x is None:
        x = "step" if "step" in records[0] else None
    fields = list(ys) or [k for k, v in records[0].items() if k != x and _numeric(v)]
    label_x = x or "row"
    plot.x_label = plot.x_label or label_x
    for y in fields:
        xs = [r.get(x) if x is not None else i for i, r in enumerate(records)]
        values = [r.get(y) for r in records]
        label = name if len(fields) == 1 else f"{name}: {y}"
        plot.series.append(Series(label, xs, values))
        if not plot.y_label and len(fields) == 1:
            plot.y_label = y
