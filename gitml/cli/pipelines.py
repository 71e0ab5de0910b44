"""Pipeline commands: repro, dag, monitor."""

from __future__ import annotations

import sys
from collections.abc import Callable

import typer

from gitml import api
from gitml.cli.guards import render_report
from gitml.cli.output import JSON_HELP, console, print_json, progress, say
from gitml.errors import EXIT_CHECK_FAILED

_VERB = {
    "up-to-date": "up to date",
    "ran": "ran",
    "restored": "restored from the run cache",
    "would-run": "would run",
    "would-restore": "would restore from the run cache",
    "guard-failed": "ran, but its guards FAILED",
    "skipped": "not run",
    "frozen": "frozen (not run)",
}


def stage_echo(to_stderr: bool) -> Callable[[bytes], None]:
    def echo(chunk: bytes) -> None:
        stream = sys.stderr if to_stderr else sys.stdout
        stream.flush()
        stream.buffer.write(chunk)
        stream.buffer.flush()

    return echo


def repro(
    stages: list[str] = typer.Argument(None, help="Stages to bring up to date (default: all)."),
    force: bool = typer.Option(
        False, "--force", "-f", help="Run even if up to date (no run cache)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say what would run."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Run up to N independent stages at once."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Run the out-of-date stages of gitml.yaml in dependency order. Exit 1 on a
    failed command or guard.

    Examples:

    \b
      gitml repro
      gitml repro train --dry-run
      gitml repro -f evaluate
    """
    with progress() as cb:
        result = api.repro(
            stages or None,
            force=force,
            dry_run=dry_run,
            echo=stage_echo(json_out),
            jobs=jobs,
            callback=cb,
        )
    if json_out:
        print_json(result.to_dict())
    else:
        for run in result.stages:
            why = f" ({'; '.join(run.reasons)})" if run.reasons else ""
            say(f"stage {run.stage}: {_VERB[run.action]}{why}")
            if run.guards is not None and not run.guards.ok:
                render_report(run.guards)
            elif run.register and run.action in ("ran", "restored"):
                say(f"  new model for {run.register!r}: commit, then gitml register {run.register}")
    if not result.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


def dag(
    dot: bool = typer.Option(False, "--dot", help="Graphviz DOT output."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show the stage graph (each stage with the stages it depends on).

    Examples:

    \b
      gitml dag
      gitml dag --dot | dot -Tsvg > pipeline.svg
      gitml dag --json
    """
    if json_out:
        graph = api.pipeline()
        stages = [{"name": n, "upstream": list(graph.upstream[n])} for n in graph.order]
        print_json({"stages": stages}, schema="gitml.dag/1")
        return
    console().print(api.dag(dot=dot), markup=False)


def monitor(
    name: str = typer.Argument(..., help="The model artifact (artifacts: in gitml.yaml)."),
    data: str = typer.Option(..., "--data", help="New labelled data (file or folder)."),
    metric: str = typer.Option(..., "--metric", help="Metric of the evaluation JSON to watch."),
    minimum: float = typer.Option(..., "--min", help="Healthy when metric >= this."),
    stage: str = typer.Option("prod", "--stage", help="Registry stage of the model to evaluate."),
    retrain: bool = typer.Option(False, "--retrain", help="When degraded: add the data and repro."),
    register: bool = typer.Option(
        False, "--register", help="Commit and register a retrained model."
    ),
    promote: bool = typer.Option(False, "--promote", help="Also put it into --stage."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Evaluate a model on new data. Exit 0 healthy, 1 degraded, 10 retrained.

    Examples:

    \b
      gitml monitor churn --data new/ --metric auc --min 0.8
      gitml monitor churn --data new/ --metric auc --min 0.8 --retrain --register
    """
    with progress() as cb:
        result = api.monitor(
            name,
            data,
            metric=metric,
            minimum=minimum,
            stage=stage,
            retrain=retrain,
            register=register,
            promote=promote,
            echo=stage_echo(True),
            callback=cb,
        )
    if json_out:
        print_json(result)
    else:
        say(result.message)
        if result.copied:
            say(f"added {len(result.copied)} new file(s) to the data")
        if result.registered:
            say(
                f"registered {name} {result.registered}"
                + (f" and promoted it to {result.promoted}" if result.promoted else "")
            )
        say(f"recorded in {result.record}")
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    app.command()(repro)
    app.command()(dag)
    app.command()(monitor)
