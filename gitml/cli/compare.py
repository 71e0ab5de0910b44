"""Comparing versions: metrics show/diff, params diff (and the row diff, review, report).

Every REV may be a commit, branch, tag, ``HEAD~N``, ``NAME@vX.Y.Z``,
``NAME@latest`` or ``NAME#STAGE``; ``workspace`` (or leaving B out) is the
working tree.
"""

from __future__ import annotations

from typing import Any

import typer

from gitml import api
from gitml.cli.output import JSON_HELP, console, plain, print_json, say, table, warn
from gitml.errors import UsageError

REV_HELP = "[A [B]]: revisions or NAME@VERSION / NAME#STAGE (default HEAD vs the workspace)."
FILE_HELP = "Read this file (repeatable) instead of those gitml.yaml declares."
MD_HELP = "Markdown (for a pull request comment)."

metrics_app = typer.Typer(
    help="Metrics at revisions, and how they changed."
    "\n\nExamples:\n\n\b\n  gitml metrics show\n  gitml metrics diff churn#prod\n",
    no_args_is_help=True,
)
params_app = typer.Typer(
    help="Params and how they changed between revisions."
    "\n\nExamples:\n\n\b\n  gitml params diff\n  gitml params diff HEAD~1 HEAD --all\n",
    no_args_is_help=True,
)


def number(value: Any) -> str:
    """A value for a table: floats with up to 6 significant digits, else :func:`plain`."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return plain(value)


def signed(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:+.6g}"


def percent(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f}%"


def render(headers: list[str], rows: list[list[str]], md: bool) -> None:
    """Rows as a Markdown table (``md``) or the terminal's table; cells are plain text."""
    if md:
        print("| " + " | ".join(headers) + " |\n|" + "---|" * len(headers))
        for row in rows:
            print("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row) + " |")
        return
    from rich.text import Text

    grid = table(*headers)
    for row in rows:
        grid.add_row(*(Text(c) for c in row))
    console().print(grid)


def _revs(revs: list[str] | None, most: int = 2) -> tuple[str, str | None]:
    revs = revs or []
    if len(revs) > most:
        raise UsageError("give at most two revisions", "gitml metrics diff HEAD~1 HEAD")
    old = revs[0] if revs else "HEAD"
    new = revs[1] if len(revs) == 2 else None
    return old, new


def _check_formats(json_out: bool, md: bool) -> None:
    if json_out and md:
        raise UsageError("choose one of --json and --md", "gitml metrics diff --md")


@metrics_app.command("show")
def metrics_show(
    revs: list[str] = typer.Argument(None, help="Revisions (default: the workspace)."),
    file: list[str] = typer.Option(None, "--file", "-f", metavar="PATH", help=FILE_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
    md: bool = typer.Option(False, "--md", help=MD_HELP),
) -> None:
    """Metrics at each revision, from the files committed there (nested keys dotted).

    Examples:

    \b
      gitml metrics show
      gitml metrics show HEAD~1 churn@v1 churn#prod --md
      gitml metrics show --file eval/metrics.json --json
    """
    _check_formats(json_out, md)
    result = api.metrics_show(revs or None, files=file or None)
    if json_out:
        print_json(result.to_dict())
        return
    for version in result.versions:
        for message in version.warnings:
            warn(message)
    labels = [v.side.label for v in result.versions]
    keys: list[tuple[str, str]] = []
    for version in result.versions:
        for name, found in sorted(version.files.items()):
            keys += [(name, k) for k in found.values if (name, k) not in keys]
    if not keys:
        say("No metrics at " + ", ".join(labels) + " (declare them in gitml.yaml or use --file).")
        return
    rows = []
    for name, key in keys:
        cells = []
        for version in result.versions:
            fv = version.files.get(name)
            cells.append(number(fv.values[key]) if fv and key in fv.values else "-")
        rows.append([name, key, *cells])
    render(["file", "metric", *labels], rows, md)


def _show_diff(result: Any, json_out: bool, md: bool, what: str) -> None:
    if json_out:
        print_json(result.to_dict())
        return
    for message in result.warnings:
        warn(message)
    old, new = result.old.label, result.new.label
    if not result.changes:
        say(f"No {what} changed between {old} and {new}.")
        return
    rows = [
        [
            c.file,
            c.key,
            number(c.old) if c.change != "added" else "-",
            number(c.new) if c.change != "removed" else "-",
            signed(c.delta) if c.change != "unchanged" else "0",
            percent(c.pct),
        ]
        for c in result.changes
    ]
    if md:
        changed = sum(c.change != "unchanged" for c in result.changes)
        print(f"**{what}: {changed} changed** between `{old}` and `{new}`\n")
    key_header = "param" if what == "params" else "metric"
    render(["file", key_header, old, new, "change", "%"], rows, md)


@metrics_app.command("diff")
def metrics_diff(
    revs: list[str] = typer.Argument(None, help=REV_HELP),
    file: list[str] = typer.Option(None, "--file", "-f", metavar="PATH", help=FILE_HELP),
    all_rows: bool = typer.Option(False, "--all", help="Also the metrics that did not change."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
    md: bool = typer.Option(False, "--md", help=MD_HELP),
) -> None:
    """How metrics changed: old, new, the difference and the relative change.

    Examples:

    \b
      gitml metrics diff                     # HEAD vs the workspace
      gitml metrics diff churn#prod churn@latest --md
      gitml metrics diff HEAD~1 HEAD --all --json
    """
    _check_formats(json_out, md)
    old, new = _revs(revs)
    result = api.metrics_diff(old, new, files=file or None, all_rows=all_rows)
    _show_diff(result, json_out, md, "metrics")


@params_app.command("diff")
def params_diff(
    revs: list[str] = typer.Argument(None, help=REV_HELP),
    file: list[str] = typer.Option(None, "--file", "-f", metavar="PATH", help=FILE_HELP),
    all_rows: bool = typer.Option(False, "--all", help="Also the params that did not change."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
    md: bool = typer.Option(False, "--md", help=MD_HELP),
) -> None:
    """Which params changed (dotted keys), from the params files at each revision.

    Examples:

    \b
      gitml params diff                      # HEAD vs the workspace
      gitml params diff churn@v1 churn@v2
      gitml params diff HEAD~3 HEAD --all --md
    """
    _check_formats(json_out, md)
    old, new = _revs(revs)
    result = api.params_diff(old, new, files=file or None, all_rows=all_rows)
    _show_diff(result, json_out, md, "params")


def row_diff(
    path: str, revs: list[str], key: list[str] | None, limit: int, json_out: bool, md: bool
) -> None:
    """``gitml diff TABLE --rows``: counts first, then at most ``limit`` examples."""
    from gitml.cli.output import progress

    _check_formats(json_out, md)
    old, new = _revs(revs)
    with progress() as cb:
        result = api.diff_rows(path, old, new, key=key, limit=limit, callback=cb)
    if json_out:
        print_json(result.to_dict())
        return
    for line in _row_summary(result, md):
        print(line) if md else say(_escape(line))
    for what, examples in result.examples.items():
        total = result.counts[what]
        if not examples:
            continue
        shown = f", first {len(examples)}" if len(examples) < total else ""
        title = f"{what} rows ({total}{shown})"
        print(f"\n**{title}**\n") if md else say(f"\n{_escape(title)}:")
        if what == "changed":
            headers = [*(result.key or []), "column", "old", "new"]
            cells = [
                [*(number(v) for v in ex["key"].values()), col, number(c["old"]), number(c["new"])]
                for ex in examples
                for col, c in ex["cells"].items()
            ]
            if not md:
                for ex in examples:
                    name = ", ".join(f"{k}={number(v)}" for k, v in ex["key"].items())
                    changes = "; ".join(
                        f"{col}: {number(c['old'])} -> {number(c['new'])}"
                        for col, c in ex["cells"].items()
                    )
                    say(_escape(f"  {name}: {changes}"))
                continue
            render(headers, cells, md)
            continue
        columns = list(examples[0])
        render(columns, [[number(row[c]) for c in columns] for row in examples], md)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _row_summary(result: Any, md: bool) -> list[str]:
    counts, cols = result.counts, result.columns
    keyed = f" by key {', '.join(result.key)}" if result.key else " by whole rows"
    head = f"{result.path}: {result.old.label} -> {result.new.label}{keyed}"
    lines = [f"**{head}**" if md else head, ""] if md else [head]
    lines.append(
        f"rows: {result.rows['old']} -> {result.rows['new']}; "
        f"{counts['added']} added, {counts['removed']} removed, "
        f"{counts['changed']} changed, {counts['unchanged']} unchanged"
    )
    parts = []
    if cols["added"]:
        parts.append("added " + ", ".join(cols["added"]))
    if cols["removed"]:
        parts.append("removed " + ", ".join(cols["removed"]))
    if cols["retyped"]:
        parts.append(
            "retyped "
            + ", ".join(f"{r['column']} {r['old']} -> {r['new']}" for r in cols["retyped"])
        )
    if parts:
        lines.append("columns: " + "; ".join(parts))
    if result.changed_columns:
        lines.append(
            "changed cells: " + ", ".join(f"{c} {n}" for c, n in result.changed_columns.items())
        )
    return [line + "  " if md and line else line for line in lines]


def review(
    revs: list[str] = typer.Argument(
        None, help="[A [B]]: revisions or NAME@VERSION / NAME#STAGE (default: HEAD~1 vs HEAD)."
    ),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
    md: bool = typer.Option(False, "--md", help=MD_HELP),
) -> None:
    """Review every changed dataset from stored statistics (no data is read or downloaded):
    rows, columns, nulls, min/max/mean, top values and drift (PSI).

    Examples:

    \b
      gitml review                          # the last commit's data changes
      gitml review main HEAD --md           # for a pull request comment
      gitml review churn#prod churn@latest --json
    """
    _check_formats(json_out, md)
    revs = revs or []
    if len(revs) > 2:
        raise UsageError("give at most two revisions", "gitml review main HEAD")
    old = revs[0] if len(revs) == 2 else (None if not revs else revs[0])
    new = revs[1] if len(revs) == 2 else (None if not revs else "HEAD")
    result = api.review(old, new)
    if json_out:
        print_json(result.to_dict())
        return
    for line in review_lines(result.to_dict(), md):
        print(line) if md else say(_escape(line))


def _pct_text(rows: dict[str, Any]) -> str:
    if rows.get("old") is None or rows.get("new") is None:
        return f"{number(rows.get('old'))} -> {number(rows.get('new'))}"
    pct = f" ({rows['pct']:+.2f}%)" if rows.get("pct") is not None else ""
    return f"{rows['old']} -> {rows['new']}{pct}"


def _pair(value: dict[str, Any] | None, fmt: str = "") -> str:
    if not value:
        return ""
    old, new = value.get("old"), value.get("new")

    def one(v: Any) -> str:
        if fmt == "%" and isinstance(v, int | float):
            return f"{v * 100:.1f}%"
        if isinstance(v, dict):
            return ", ".join(f"{k} {f * 100:.0f}%" for k, f in v.items()) or "-"
        return number(v)

    return one(new) if old == new else f"{one(old)} -> {one(new)}"


def review_lines(doc: dict[str, Any], md: bool) -> list[str]:
    """The review as lines of text or Markdown (a summary line first, then tables)."""
    old, new = doc["old"]["rev"], doc["new"]["rev"]
    summary = doc["summary"]
    head = f"dataset review {old} -> {new}: {summary['changed']} changed"
    if summary["drifted_columns"]:
        head += f", {summary['drifted_columns']} columns drifted"
    if summary["without_statistics"]:
        head += f", {summary['without_statistics']} without statistics"
    lines = [f"**{head}**" if md else head]
    if not doc["datasets"]:
        lines.append("No tracked dataset changed.")
        return lines
    for d in doc["datasets"]:
        lines.append("")
        title = f"{d['path']}: {d['status']}"
        if d["status"] == "compared":
            title = f"{d['path']}: rows {_pct_text(d['rows'])}"
        elif d["status"] == "no-statistics":
            title += f" ({d['reason']})"
        lines.append(f"### {title}" if md else title)
        cols = d.get("columns") or {}
        parts = [f"{what} " + ", ".join(cols[what]) for what in ("added", "removed")
                 if cols.get(what)]  # fmt: skip
        parts += [
            f"retyped {r['column']} {r['old']} -> {r['new']}" for r in cols.get("retyped", [])
        ]
        if parts:
            lines.append(("" if md else "  ") + "columns: " + "; ".join(parts))
        stats = d.get("column_stats") or []
        if not stats:
            continue
        headers = ["column", "nulls", "min", "max", "mean", "top", "psi", ""]
        rows = []
        for c in stats:
            flag = {"drift": "DRIFT", "moderate": "moderate"}.get(c.get("drift", ""), "")
            rows.append([
                c["column"], _pair(c.get("null_fraction"), "%"), _pair(c.get("min")),
                _pair(c.get("max")), _pair(c.get("mean")), _pair(c.get("top")),
                "" if c.get("psi") is None else f"{c['psi']:.3f}", flag,
            ])  # fmt: skip
        if md:
            lines.append("")
            lines.append("| " + " | ".join(headers) + " |")
            lines.append("|" + "---|" * len(headers))
            lines += ["| " + " | ".join(x.replace("|", "\\|") for x in r) + " |" for r in rows]
        else:
            widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
            for r in [headers, *rows]:
                lines.append("  " + "  ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)))
    return lines


def report(
    spec: str = typer.Argument(
        None, metavar="A..B", help="The commits to chart (default: HEAD's history)."
    ),
    models: str = typer.Option(None, "--models", metavar="NAME", help="Chart a model's versions."),
    output: str = typer.Option("report.html", "--output", "-o", metavar="FILE", help="Write here."),
) -> None:
    """One self-contained HTML page: metrics charts, params, registry stage history,
    the dataset review and guard results (no network needed to view it).

    Examples:

    \b
      gitml report v1..HEAD -o report.html
      gitml report --models churn -o churn.html
    """
    written = api.report(output, spec, model=models)
    say(_escape(f"wrote {written}"))


def register(app: typer.Typer) -> None:
    app.add_typer(metrics_app, name="metrics")
    app.add_typer(params_app, name="params")
    app.command()(review)
    app.command()(report)
