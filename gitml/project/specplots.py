"""The ``plots:`` section of ``gitml.yaml``: charts ``gitml report`` draws.

The grammar is DVC's top-level ``plots:`` (so ``import-dvc`` carries a DVC
project's plots over as they are written), a list whose items are either

- a file: ``- eval/plots/metrics.json`` (a data file, every numeric field
  against the row number or ``step``), or an image (``.png``, ``.jpg``,
  ``.svg``: shown as it is), or a folder of images;
- a named plot: ``- ROC: {template: simple, x: fpr, y: {eval/roc/train.json:
  tpr, eval/roc/test.json: tpr}, title: ROC}``. ``x``/``y`` are a field, or a
  mapping file -> field (or list of fields). ``template``: ``linear``
  (default), ``simple``, ``scatter``, ``smooth``, ``confusion``, ``bar_horizontal``.

Data files are JSON (a list of records, or a mapping holding one), YAML, CSV
or TSV, read at the version the report shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitml.errors import GitmlError
from gitml.project.yamlnodes import YamlList, YamlMap, check_keys, node_error
from gitml.safepath import check_relpath

PLOT_KEYS = ("template", "x", "y", "title", "x_label", "y_label")
TEMPLATES = ("linear", "simple", "scatter", "smooth", "confusion", "bar_horizontal")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg", ".gif")


@dataclass(frozen=True, slots=True)
class PlotSeries:
    """One file's part of a plot: its x field (None: the row number or ``step``)
    and y fields (empty: every numeric field)."""

    file: str
    x: str | None = None
    y: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlotSpec:
    name: str
    series: tuple[PlotSeries, ...]
    template: str = "linear"
    title: str | None = None
    x_label: str | None = None
    y_label: str | None = None
    image: bool = False  # the files are images, shown as they are


def parse_plots(root: YamlMap) -> tuple[PlotSpec, ...]:
    value = root.get("plots")
    if value is None:
        return ()
    if not isinstance(value, YamlList):
        raise node_error(root, "plots", "'plots' must be a list (of files or named plots)")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            path = _file(value, i, item)
            out.append(
                PlotSpec(path, (PlotSeries(path),), image=path.lower().endswith(IMAGE_SUFFIXES))
            )
            continue
        if not isinstance(item, YamlMap) or len(item) != 1:
            raise node_error(value, i, "a plot is a file, or one NAME: {x:, y:, template:}")
        name = next(iter(item))
        body = item[name]
        out.append(_named(item, str(name), body))
    return tuple(out)


def _one_file(path: str) -> PlotSpec:
    return PlotSpec(path, (PlotSeries(path),), image=path.lower().endswith(IMAGE_SUFFIXES))


def _file(node: YamlMap | YamlList, key: int | str, raw: object) -> str:
    if not isinstance(raw, str):
        raise node_error(node, key, "plot files are paths")
    try:
        return check_relpath(raw.strip().rstrip("/"), what="plot file")
    except GitmlError as exc:
        raise node_error(node, key, exc.message) from None


def _named(item: YamlMap, name: str, body: object) -> PlotSpec:
    where = f"plot {name!r}"
    if body is None:  # "- eval/plots/metrics:" with no options: a file
        return _one_file(_file(item, name, name))
    if not isinstance(body, YamlMap):
        raise node_error(item, name, f"{where} must be a mapping with x:, y:, template:")
    check_keys(body, PLOT_KEYS, where)
    template = body.get("template", "linear")
    if template not in TEMPLATES:
        raise node_error(
            body, "template", f"{where}: template must be one of {', '.join(TEMPLATES)}"
        )
    x, y = body.get("x"), body.get("y")
    if isinstance(y, YamlMap):
        series = [PlotSeries(_file(y, f, f), _x_for(body, x, f), _fields(y, f, y[f])) for f in y]
    else:  # the name is the file, y (and x) are its fields
        path = _file(item, name, name)
        series = [
            PlotSeries(path, _x_for(body, x, path), _fields(body, "y", y) if y is not None else ())
        ]
    texts = {k: body.get(k) for k in ("title", "x_label", "y_label")}
    for key, text in texts.items():
        if text is not None and not isinstance(text, str):
            raise node_error(body, key, f"{where}: {key} must be text")
    return PlotSpec(
        name,
        tuple(series),
        str(template),
        texts["title"],  # type: ignore[arg-type]
        texts["x_label"],  # type: ignore[arg-type]
        texts["y_label"],  # type: ignore[arg-type]
    )


def _x_for(body: YamlMap, x: object, file: str) -> str | None:
    if x is None:
        return None
    if isinstance(x, str):
        return x
    if isinstance(x, YamlMap):
        value = x.get(file)
        if value is None and len(x) == 1:
            value = next(iter(x.values()))
        if isinstance(value, str):
            return value
    raise node_error(body, "x", "x must be a field, or a mapping file -> field")


def _fields(node: YamlMap, key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, YamlList) and all(isinstance(v, str) for v in value):
        return tuple(str(v) for v in value)
    raise node_error(node, key, "y must be a field or a list of fields")
