"""One self-contained HTML page for ``gitml report``: no network, no script.

Charts are matplotlib SVG drawn inline (text as paths, so no font is needed
to view them): one line chart per metric across the report's points, and one
per ``plots:`` entry of gitml.yaml at the last point (its template: lines,
scatter, horizontal bars, a confusion matrix; images are embedded as data
URLs). Every value from the repository is HTML-escaped.
"""

from __future__ import annotations

import html
import io
import math
import time
from typing import Any

from gitml.compare.plots import PlotData
from gitml.compare.report import ReportData
from gitml.errors import UsageError

MAX_CHARTS = 40

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.fail,.error,.drift{background:#fde2e2}.moderate,.skip{background:#fff4d6}
.charts{display:flex;flex-wrap:wrap;gap:1em}.chart{border:1px solid #eee;padding:.4em}
.muted{color:#777}
"""


def _e(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return html.escape(f"{value:.6g}")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        import json

        return html.escape(json.dumps(value, ensure_ascii=False)[:200])
    return html.escape(str(value))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise UsageError(
            "gitml report draws its charts with matplotlib, which is not installed",
            hint="pip install 'gitml[report]'",
        ) from None
    matplotlib.use("svg", force=True)
    from matplotlib import pyplot as plt

    plt.rcParams["svg.fonttype"] = "path"
    plt.rcParams["svg.hashsalt"] = "gitml"  # the same data gives the same page
    return plt


def _svg_of(plt: Any, fig: Any) -> str:
    try:
        fig.tight_layout()
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
    finally:
        plt.close(fig)
    text = out.getvalue()
    return text[text.index("<svg") :]


def _plain(text: str) -> str:
    """Text from the repository for matplotlib: "$" would start math text."""
    return text.replace("$", r"\$")


def plot_svg(plot: PlotData) -> str:
    """One ``plots:`` chart (its template) as an inline ``<svg>``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 3.4), dpi=100)
    if plot.template == "confusion":
        _confusion(ax, plot)
    else:
        for series in plot.series:
            pairs = [(x, y) for x, y in zip(series.x, series.y, strict=True) if _number(y)]
            xs = [p[0] for p in pairs]
            ys = [float(p[1]) for p in pairs]
            label = _plain(series.label)
            if plot.template == "scatter":
                ax.scatter(xs, ys, s=12, label=label)
            elif plot.template == "bar_horizontal":
                ax.barh([str(x) for x in xs], ys, label=label)
            else:
                ax.plot(xs, ys, linewidth=1.4, label=label)
        if len(plot.series) > 1:
            ax.legend(fontsize=7)
        ax.grid(True, alpha=0.3)
    ax.set_title(_plain(plot.title), fontsize=10)
    ax.set_xlabel(_plain(plot.x_label), fontsize=8)
    ax.set_ylabel(_plain(plot.y_label), fontsize=8)
    ax.tick_params(labelsize=7)
    return _svg_of(plt, fig)


def _confusion(ax: Any, plot: PlotData) -> None:
    """Counts of (actual, predicted) pairs of the first series, as a heat map."""
    series = plot.series[0]
    labels = sorted({str(v) for v in (*series.x, *series.y)})
    index = {v: i for i, v in enumerate(labels)}
    grid = [[0] * len(labels) for _ in labels]
    for actual, predicted in zip(series.x, series.y, strict=True):
        grid[index[str(predicted)]][index[str(actual)]] += 1
    ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(labels)), [_plain(v) for v in labels])
    ax.set_yticks(range(len(labels)), [_plain(v) for v in labels])
    for row, counts in enumerate(grid):
        for col, count in enumerate(counts):
            ax.text(col, row, str(count), ha="center", va="center", fontsize=8)


def chart_svg(title: str, labels: list[str], values: list[float | None]) -> str:
    """A line chart as an inline ``<svg>`` element (matplotlib, Agg-free SVG backend)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 2.8), dpi=100)
    try:
        xs = list(range(len(labels)))
        ys = [math.nan if v is None else float(v) for v in values]
        ax.plot(xs, ys, marker="o", linewidth=1.6, color="#1f77b4")
        # "$" would start matplotlib's math text (a name from the repository is plain text)
        ax.set_title(title.replace("$", r"\$"), fontsize=10)
        ax.set_xticks(xs)
        ax.set_xticklabels([x.replace("$", r"\$") for x in labels], rotation=45, ha="right",
                           fontsize=7)  # fmt: skip
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(True, alpha=0.3)
    except BaseException:
        plt.close(fig)
        raise
    return _svg_of(plt, fig)


def _table(headers: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        css = f' class="{classes[i]}"' if classes and classes[i] else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _metrics_section(data: ReportData) -> str:
    labels = [p.label for p in data.points]
    keys: list[str] = []
    for p in data.points:
        keys += [k for k, v in p.metrics.items() if _number(v) and k not in keys]
    if not keys:
        return "<p class='muted'>No numeric metrics at these points.</p>"
    charts = []
    for key in keys[:MAX_CHARTS]:
        values = [p.metrics.get(key) if _number(p.metrics.get(key)) else None for p in data.points]
        svg = chart_svg(key, labels, values)
        charts.append(
            f"<div class='chart' data-metric='{html.escape(key, quote=True)}'>{svg}</div>"
        )
    more = len(keys) - MAX_CHARTS
    note = f"<p class='muted'>{more} more metrics not drawn.</p>" if more > 0 else ""
    return f"<div class='charts'>{''.join(charts)}</div>{note}"


_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".gif": "image/gif", ".svg": "image/svg+xml"}  # fmt: skip


def _plots_section(data: ReportData) -> str:
    if not data.plots:
        return "<p class='muted'>No plots declared (plots: in gitml.yaml).</p>"
    import base64
    import posixpath

    parts = []
    for plot in data.plots:
        name = html.escape(plot.name, quote=True)
        if plot.problem and not plot.series and not plot.images:
            parts.append(f"<div class='chart'><b>{_e(plot.name)}</b>: "
                         f"<span class='muted'>{_e(plot.problem)}</span></div>")  # fmt: skip
            continue
        for file, blob in plot.images:
            mime = _MIME.get(posixpath.splitext(file)[1].lower(), "application/octet-stream")
            src = f"data:{mime};base64,{base64.b64encode(blob).decode('ascii')}"
            alt = html.escape(file, quote=True)
            parts.append(f"<div class='chart' data-plot='{name}'><b>{_e(file)}</b><br>"
                         f"<img alt='{alt}' src='{src}'></div>")  # fmt: skip
        if plot.series:
            parts.append(f"<div class='chart' data-plot='{name}'>{plot_svg(plot)}</div>")
    return f"<div class='charts'>{''.join(parts)}</div>"


def _params_section(data: ReportData) -> str:
    keys: list[str] = []
    for p in data.points:
        keys += [k for k in p.params if k not in keys]
    if not keys:
        return "<p class='muted'>No params at these points.</p>"
    rows = [[_e(k), *(_e(p.params.get(k)) for p in data.points)] for k in keys]
    return _table(["param", *(_e(p.label) for p in data.points)], rows)


def _stages_section(data: ReportData) -> str:
    if not data.stage_history:
        return "<p class='muted'>No registry events.</p>"
    rows = [
        [_e(time.strftime("%Y-%m-%d %H:%M", time.gmtime(e["date"]))), _e(e["artifact"]),
         _e(e["action"]), _e(e["version"]), _e(e["stage"]), _e(e["tagger"])]
        for e in data.stage_history
    ]  # fmt: skip
    return _table(["date (UTC)", "artifact", "action", "version", "stage", "by"], rows)


def _review_section(data: ReportData) -> str:
    doc = data.review
    if doc is None:
        return "<p class='muted'>No review (fewer than two points).</p>"
    parts = [
        f"<p>{_e(doc['old']['rev'])} &rarr; {_e(doc['new']['rev'])}: "
        f"{doc['summary']['changed']} datasets changed, "
        f"{doc['summary']['drifted_columns']} columns drifted</p>"
    ]
    for d in doc["datasets"]:
        rows_info = d.get("rows") or {}
        parts.append(
            f"<h3>{_e(d['path'])} <span class='muted'>{_e(d['status'])} "
            f"{_e(rows_info.get('old'))} &rarr; {_e(rows_info.get('new'))} rows {_e(d['reason'])}"
            "</span></h3>"
        )
        stats = d.get("column_stats") or []
        if stats:
            rows = [
                [_e(c["column"]), _e(c["null_fraction"]["old"]), _e(c["null_fraction"]["new"]),
                 _e((c.get("mean") or {}).get("old")), _e((c.get("mean") or {}).get("new")),
                 _e(c.get("psi")), _e(c.get("drift"))]
                for c in stats
            ]  # fmt: skip
            headers = ["column", "nulls old", "nulls new", "mean old", "mean new", "psi", ""]
            parts.append(_table(headers, rows, [str(c.get("drift") or "") for c in stats]))
    return "".join(parts)


def _guards_section(data: ReportData) -> str:
    if not data.guards:
        return "<p class='muted'>No guard results recorded for the last point.</p>"
    rows = [
        [_e(r.get("guard")), _e(r.get("rule")), _e(r.get("status")), _e(r.get("column")),
         _e(r.get("observed")), _e(r.get("expected")), _e(r.get("message"))]
        for r in data.guards
    ]  # fmt: skip
    headers = ["guard", "rule", "status", "column", "observed", "expected", "message"]
    return _table(headers, rows, [str(r.get("status") or "") for r in data.guards])


def render(data: ReportData) -> str:
    """The whole page."""
    points = ", ".join(_e(p.label) for p in data.points)
    warnings = "".join(f"<li>{_e(w)}</li>" for w in data.warnings)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>gitml report: {_e(data.title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>gitml report: {_e(data.title)}</h1><p class='muted'>points: {points}</p>"
        + (f"<ul class='muted'>{warnings}</ul>" if warnings else "")
        + f"<h2>Guard results</h2>{_guards_section(data)}"
        + f"<h2>Metrics</h2>{_metrics_section(data)}"
        + f"<h2>Plots</h2>{_plots_section(data)}"
        + f"<h2>Params</h2>{_params_section(data)}"
        + f"<h2>Registry stage history</h2>{_stages_section(data)}"
        + f"<h2>Dataset review</h2>{_review_section(data)}"
        + "</body></html>\n"
    )
