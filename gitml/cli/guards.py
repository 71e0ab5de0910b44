"""Guards and commit metadata: guard run, show, log."""

from __future__ import annotations

from typing import Any

import typer

from gitml import api
from gitml.cli.output import (
    JSON_HELP,
    console,
    human_size,
    iso_time,
    plain,
    print_json,
    progress,
    say,
    table,
    to_jsonable,
)
from gitml.errors import EXIT_CHECK_FAILED

guard_app = typer.Typer(
    help="Data and model guards declared in gitml.yaml."
    "\n\nExamples:\n\n\b\n  gitml guard run\n  gitml guard run --help\n",
    no_args_is_help=True,
)
_STATUS_STYLE = {"pass": "green", "fail": "red", "error": "red", "skip": "dim"}


def _short(value: Any, width: int = 40) -> str:
    if isinstance(value, float):
        value = f"{value:.4g}"
    text = "" if value is None else plain(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def render_report(report: Any, *, all_rows: bool = False) -> None:
    """The guard table: each failed rule with column, observed and expected."""
    rows = report.results if all_rows else [r for r in report.results if r.status != "pass"]
    if rows:
        grid = table("guard", "rule", "column", "status", "observed", "expected", "message")
        grid.columns[-1].overflow = "fold"
        for r in rows:
            style = _STATUS_STYLE.get(r.status, "")
            grid.add_row(
                r.guard,
                r.rule,
                r.column or "",
                f"[{style}]{r.status}[/]",
                _short(r.observed, 24),
                _short(r.expected, 36),
                r.message,
            )
        console().print(grid)
    counts = report.counts()
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    verdict = "[green]guards passed[/]" if report.ok else "[red]guards FAILED[/]"
    console().print(f"{verdict} ({summary or 'nothing to check'})")


@guard_app.command("run")
def guard_run(
    targets: list[str] = typer.Argument(None, help="Guard names or paths (default: all guards)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
    all_rows: bool = typer.Option(False, "--all", help="Show passing rules too."),
) -> None:
    """Run guards by hand. Exit 1 if any rule fails.

    Examples:

    \b
      gitml guard run
      gitml guard run train-data --json
    """
    with progress() as cb:
        report = api.guard_run(targets or None, callback=cb)
    if json_out:
        print_json(report.to_dict())
    else:
        render_report(report, all_rows=all_rows)
    if not report.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


def show(
    rev: str = typer.Argument(
        "HEAD", help="Commit to show: a revision, NAME@VERSION or NAME#STAGE."
    ),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show the metadata gitml attached to a commit (data, params, metrics, guards).

    Examples:

    \b
      gitml show
      gitml show HEAD~3 --json
      gitml show churn#prod
    """
    doc = api.show(rev)
    if json_out:
        print_json(doc)
        return
    flag = "verified" if doc.get("verified") else "[yellow]UNVERIFIED (guards bypassed)[/]"
    console().print(f"commit {doc['commit']}  {flag}")
    for path, entry in sorted((doc.get("data") or {}).items()):
        extra = f", {entry.get('nfiles')} files" if entry.get("kind") == "dir" else ""
        size = human_size(entry.get("size"))
        console().print(
            f"  data    {path}  {entry.get('oid', '')[:12]}  {size}{extra}",
            markup=False,
        )
    for name, values in sorted((doc.get("metrics") or {}).items()):
        console().print(f"  metrics {name}: {plain(values)}", markup=False)
    for name, values in sorted((doc.get("params") or {}).items()):
        console().print(f"  params  {name}: {plain(values)}", markup=False)
    guards = doc.get("guards")
    if guards:
        counts = guards.get("counts", {})
        verdict = "passed" if guards.get("ok") else "FAILED"
        tally = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        console().print(f"  guards  {verdict}" + (f" ({tally})" if tally else ""), markup=False)
        for r in guards.get("results", []):
            if r.get("status") != "pass":
                console().print(
                    f"          {r.get('guard')}.{r.get('rule')} {r.get('status')}: "
                    f"observed {plain(r.get('observed'))} expected {plain(r.get('expected'))}",
                    markup=False,
                )


def log(
    path: str = typer.Argument(None, help="A tracked path or metrics file (default: all metrics)."),
    metrics: bool = typer.Option(False, "--metrics", help="Metrics of each commit."),
    max_count: int = typer.Option(None, "-n", "--max-count", help="At most N commits."),
    rev: str = typer.Option(
        "HEAD", "--rev", metavar="REV", help="Start from REV (also NAME@VERSION, NAME#STAGE)."
    ),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
    md: bool = typer.Option(False, "--md", help="Markdown table."),
) -> None:
    """History of a dataset, model or metric across commits, from commit metadata.

    Examples:

    
      gitml log metrics.json
      gitml log data/train -n 5 --md
      gitml log --metrics --rev churn@v1
    """
    with progress() as cb:
        rows = api.log(path, metrics=metrics, rev=rev, max_count=max_count, callback=cb)
    if json_out:  # dates as ISO 8601, as in every other document (docs/JSON.md)
        docs = to_jsonable(rows)
        for doc, row in zip(docs, rows, strict=True):
            doc["date"] = iso_time(row.date)
        print_json(docs)
        return
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row.values if k not in keys]
    headers = ["commit", "date", "subject", *keys]
    lines = [
        [
            row.commit[:10],
            iso_time(row.date),
            _short(row.subject, 40),
            *[_short(row.values.get(k), 18) for k in keys],
        ]
        for row in rows
    ]
    if md:
        print("| " + " | ".join(headers) + " |\n|" + "---|" * len(headers))
        for line in lines:
            print("| " + " | ".join(c.replace("|", "\\|") for c in line) + " |")
        return
    if not rows:
        say("No commits with gitml metadata" + (f" for {path}" if path else "") + ".")
        return
    grid = table(*headers)
    for line in lines:
        grid.add_row(*line)
    console().print(grid)


def register(app: typer.Typer) -> None:
    app.add_typer(guard_app, name="guard")
    app.command()(show)
    app.command()(log)
