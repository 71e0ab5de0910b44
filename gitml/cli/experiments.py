"""``gitml exp``: run, queue, compare and keep pipeline experiments."""

from __future__ import annotations

from typing import Any

import typer

from gitml import api
from gitml.cli.output import console, print_json, progress, say, table
from gitml.cli.pipelines import stage_echo
from gitml.errors import EXIT_CHECK_FAILED, UsageError

exp_app = typer.Typer(
    help="Experiments: pipeline runs with other params, kept on hidden Git refs."
    "\n\nExamples:\n\n\b\n  gitml exp run -S train.C=0.1 --name c01\n  gitml exp show\n",
    no_args_is_help=True,
)


def _verdict(ok: bool | None) -> str:
    return {None: "-", True: "passed", False: "FAILED"}[ok]


@exp_app.command("run")
def run(
    set_param: list[str] = typer.Option(
        None,
        "--set-param",
        "-S",
        help="[FILE:]section.key=VALUE (a,b,c or range(a,b,step): a grid).",
    ),
    name: str = typer.Option(None, "--name", "-n", help="Experiment name (default: exp-XXXXXX)."),
    queue: bool = typer.Option(False, "--queue", help="Only queue it; run later with --run-all."),
    run_all: bool = typer.Option(False, "--run-all", help="Run every queued experiment."),
    jobs: int = typer.Option(
        1, "--jobs", "-j", help="Experiments at a time (--run-all), else stages at a time."
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Run the pipeline of HEAD with overridden params in a temporary worktree;
    record the result on refs/gitml/exps/. Exit 1 if it failed or its guards failed.

    Examples:

    \b
      gitml exp run -S train.C=0.1 --name c01
      gitml exp run -S 'train.C=range(0.01,1,0.1)' --queue
      gitml exp run --run-all -j 2
    """
    if run_all:
        if set_param or name or queue:
            raise UsageError(
                "--run-all takes no -S, --name or --queue", "gitml exp run --run-all -j 2"
            )
        with progress() as cb:
            runs = api.exp_run_all(jobs=jobs, callback=cb)
        if json_out:
            print_json(runs)
        elif not runs:
            say("no queued experiments")
        for done in [] if json_out else runs:
            console().print(
                f"{done.name}: {done.last_line or f'exit {done.exit_code}'} (log: {done.log})",
                markup=False,
                highlight=False,
            )
        if any(r.exit_code != 0 for r in runs):
            raise typer.Exit(EXIT_CHECK_FAILED)
        return
    if queue:
        with progress() as cb:
            names = api.exp_queue(set_param or [], name=name, callback=cb)
        if json_out:
            print_json({"queued": names})
        else:
            console().print(f"queued {', '.join(names)}", markup=False, highlight=False)
        return
    with progress() as cb:
        outcome = api.exp_run(
            set_param or [], name=name, jobs=jobs, echo=stage_echo(json_out), callback=cb
        )
    if json_out:
        print_json(
            {
                "name": outcome.name,
                "ref": outcome.ref,
                "commit": outcome.commit,
                "base": outcome.base,
                "status": outcome.status,
                "guards_ok": outcome.guards_ok,
                "error": outcome.error,
            }
        )
    else:
        console().print(
            f"experiment {outcome.name} (based on {outcome.base[:7]}): {outcome.status}, "
            f"guards {_verdict(outcome.guards_ok)}; recorded as {outcome.ref}",
            markup=False,
            highlight=False,
        )
        if outcome.error:
            console().print(outcome.error, markup=False, highlight=False)
    if outcome.status != "ok" or outcome.guards_ok is False:
        raise typer.Exit(EXIT_CHECK_FAILED)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


@exp_app.command("show")
def show(
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    md: bool = typer.Option(False, "--md", help="A Markdown table."),
    sort_by: str = typer.Option(None, "--sort-by", help="Sort by this metric (best first)."),
    ascending: bool = typer.Option(False, "--ascending", help="With --sort-by: smallest first."),
) -> None:
    """One row per experiment: name, base commit, status, guards, params changed, metrics.

    Examples:

    \b
      gitml exp show
      gitml exp show --sort-by accuracy --md
    """
    from gitml.pipelines.experiments.manage import flat_files

    with progress() as cb:
        exps = api.exp_show(sort_by=sort_by, ascending=ascending, callback=cb)
    if json_out:
        print_json([e.to_dict() for e in exps])
        return
    if not exps:
        say("no experiments yet: gitml exp run -S section.key=value")
        return
    metric_names = sorted({k for e in exps for k in flat_files(e.metrics)})
    headers = ["experiment", "base", "status", "guards", "params", *metric_names]
    rows = [
        [
            e.name,
            e.base[:7],
            e.status,
            _verdict(e.guards_ok),
            " ".join(f"{k}={_fmt(v)}" for k, v in e.overrides.items()) or "-",
            *[_fmt(flat_files(e.metrics).get(m)) for m in metric_names],
        ]
        for e in exps
    ]
    if md:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        console().print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)
        return
    out = table(*headers)
    for row in rows:
        out.add_row(*row)
    console().print(out)


@exp_app.command("diff")
def diff(
    old: str = typer.Argument(..., help="Experiment (or commit)."),
    new: str = typer.Argument(..., help="Experiment (or commit)."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Params, metrics and data that differ between two experiments.

    Examples:

    \b
      gitml exp diff c01 c02
    """
    rows = api.exp_diff(old, new)
    if json_out:
        print_json(
            [
                {"kind": r.kind, "key": r.key, "old": r.old, "new": r.new, "change": r.change}
                for r in rows
            ]
        )
        return
    if not rows:
        say(f"{old} and {new} have the same params, metrics and data")
        return
    out = table("kind", "key", old, new, "change")
    for r in rows:
        change = r.change
        out.add_row(
            r.kind, r.key, _fmt(r.old), _fmt(r.new), "" if change is None else f"{change:+.4g}"
        )
    console().print(out)


@exp_app.command("apply")
def apply(
    name: str = typer.Argument(..., help="The experiment."),
    force: bool = typer.Option(
        False, "--force", "-f", help="Even if it failed or its guards failed; overwrite changes."
    ),
) -> None:
    """Bring an experiment's params, lock, pointers, metrics and data into the
    workspace (staged: review, then git commit).

    Examples:

    \b
      gitml exp apply c01
      gitml exp apply c02 --force   # its guards failed
    """
    with progress() as cb:
        done = api.exp_apply(name, force=force, callback=cb)
    console().print(
        f"applied {done.name}: {len(done.files)} files staged, {len(done.data)} data paths "
        "checked out; git commit to keep it",
        markup=False,
        highlight=False,
    )


@exp_app.command("branch")
def branch(
    name: str = typer.Argument(..., help="The experiment."),
    branch_name: str = typer.Argument(..., help="The new branch."),
) -> None:
    """Create a branch at the experiment's commit.

    Examples:

    \b
      gitml exp branch c01 better-c
    """
    sha = api.exp_branch(name, branch_name)
    console().print(f"branch {branch_name} at {sha[:7]}", markup=False, highlight=False)


@exp_app.command("remove")
def remove(names: list[str] = typer.Argument(..., help="Experiments.")) -> None:
    """Delete experiments (or drop queued ones).

    Examples:

    \b
      gitml exp remove c02
    """
    for done in api.exp_remove(names):
        console().print(f"removed {done}", markup=False, highlight=False)


@exp_app.command("push")
def push(
    remote: str = typer.Argument(..., help="Git remote."),
    name: str = typer.Argument(..., help="The experiment."),
) -> None:
    """Push an experiment: data objects, then its ref and notes.

    Examples:

    \b
      gitml exp push origin c01
    """
    with progress() as cb:
        done = api.exp_push(remote, name, callback=cb)
    console().print(
        f"pushed {done.name} to {remote} ({done.objects} data objects"
        + (f" to {done.data_remote})" if done.data_remote else ", no data remote)"),
        markup=False,
        highlight=False,
    )


@exp_app.command("pull")
def pull(
    remote: str = typer.Argument(..., help="Git remote."),
    name: str = typer.Argument(..., help="The experiment."),
) -> None:
    """Fetch an experiment: its ref and notes, then its data objects.

    Examples:

    \b
      gitml exp pull origin c01
    """
    with progress() as cb:
        done = api.exp_pull(remote, name, callback=cb)
    console().print(
        f"pulled {done.name} from {remote} ({done.objects} data objects"
        + (f" from {done.data_remote})" if done.data_remote else ", no data remote)"),
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(exp_app, name="exp")
