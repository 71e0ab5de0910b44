"""Model registry commands: register, promote, demote, deprecate, models."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import typer

from gitml import api
from gitml.cli.output import (
    JSON_HELP,
    console,
    human_size,
    iso_time,
    print_json,
    progress,
    say,
    table,
    warn,
)


class Bump(StrEnum):
    major = "major"
    minor = "minor"
    patch = "patch"


models_app = typer.Typer(
    help="Registered models: list and show."
    "\n\nExamples:\n\n\b\n  gitml models\n  gitml models show churn\n",
    invoke_without_command=True,
)


def register_cmd(
    name: str = typer.Argument(..., help="Artifact name (declared in gitml.yaml, or use --path)."),
    path: str = typer.Option(None, "--path", help="Model path; declares it in gitml.yaml."),
    rev: str = typer.Option(None, "--rev", help="Commit holding the model (default HEAD)."),
    version: str = typer.Option(None, "--version", help="Explicit version, e.g. v3.0.0."),
    bump: Bump = typer.Option(None, "--bump", help="Version part to raise (default major)."),
    message: str = typer.Option("", "--message", "-m", help="Note stored with the version."),
    force: bool = typer.Option(False, "--force", help="Register even if model guards fail."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Register the committed model as a new version (an annotated git tag).

    Examples:

    \b
      gitml register churn --path models/model.pkl
      gitml register churn --bump minor -m "retrained on May data"
      gitml register churn --rev HEAD~1 --version v2.1.0
    """
    with progress() as cb:
        result = api.register(name, path=path, rev=rev, version=version,
                              bump=bump.value if bump is not None else None,
                              message=message, force=force, callback=cb)  # fmt: skip
    if json_out:
        print_json(result)
        return
    if result.declared:
        say(f"declared artifact {name} ({result.path}) in gitml.yaml")
    if result.forced:
        warn("registered despite failing model guards (--force); the record says so")
    for message_text in result.warnings:
        warn(message_text)
    say(f"registered {name} {result.version} ({result.path}, {human_size(result.size)}) "
        f"at {result.commit[:12]} as tag {result.tag}")  # fmt: skip
    say("Share it: git push origin " + result.tag)


def promote(
    ref: str = typer.Argument(..., help="NAME@VERSION (or NAME#STAGE, NAME@latest)."),
    stage: str = typer.Argument(..., help="Stage, e.g. staging or prod."),
    message: str = typer.Option("", "--message", "-m", help="Why."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Assign a version to a stage.

    Examples:

    \b
      gitml promote churn@v3.0.0 prod
      gitml promote churn#staging prod -m "passed the A/B test"
      gitml promote churn@latest staging --json
    """
    result = api.promote(ref, stage, message=message)
    if json_out:
        print_json(result, schema="gitml.promote/1")
        return
    say(f"{result.artifact} {result.version} is now in {stage} (tag {result.tag})")


def demote(
    name: str = typer.Argument(..., help="Artifact name."),
    stage: str = typer.Argument(..., help="Stage to leave."),
    version: str = typer.Option(None, "--version", help="Version to demote (default: current)."),
    message: str = typer.Option("", "--message", "-m", help="Why."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Take a stage away from a version (default: the stage's current version).

    Examples:

    \b
      gitml demote churn prod
      gitml demote churn staging --version v2.0.0 -m "superseded"
    """
    result = api.demote(name, stage, version=version, message=message)
    if json_out:
        print_json(result, schema="gitml.demote/1")
        return
    say(f"{result.artifact} {result.version} left {stage} (tag {result.tag})")


def deprecate(
    target: str = typer.Argument(..., help="NAME (the whole artifact) or NAME@VERSION."),
    message: str = typer.Option("", "--message", "-m", help="Why."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Retire an artifact, or withdraw one version of it.

    Examples:

    \b
      gitml deprecate churn@v1.0.0 -m "trained on leaked labels"
      gitml deprecate old-model
    """
    result = api.deprecate(target, message=message)
    if json_out:
        print_json(result, schema="gitml.deprecate/1")
        return
    what = f"{result.artifact} {result.version}" if result.version else result.artifact
    verb = "withdrew" if result.action == "deregister" else "deprecated"
    say(f"{verb} {what} (tag {result.tag})")


def _metrics_cell(metrics: dict[str, Any]) -> str:
    from gitml.registry.service import describe

    return describe(metrics)


@models_app.callback()
def models_list(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
    all_: bool = typer.Option(False, "--all", help="Include deprecated artifacts."),
) -> None:
    """List registered models: latest version, stages, key metrics, when and by whom.

    Examples:

    \b
      gitml models
      gitml models --all --json
    """
    if ctx.invoked_subcommand is not None:
        return
    with progress() as cb:
        rows = api.models(all_=all_, callback=cb)
    if json_out:
        print_json(rows)
        return
    if not rows:
        say("No registered models. Register one with: gitml register NAME --path MODEL")
        return
    grid = table("name", "latest", "stages", "metrics", "registered", "by")
    for r in rows:
        stages = ", ".join(f"{s}={v}" for s, v in r.stages.items())
        name = r.name + (" (deprecated)" if r.deprecated else "")
        grid.add_row(
            name,
            r.latest or "-",
            stages or "-",
            _metrics_cell(r.metrics) or "-",
            iso_time(r.registered_at),
            r.registered_by or "-",
        )
    console().print(grid)


@models_app.command("show")
def models_show(
    name: str = typer.Argument(..., help="Artifact name."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Versions with lineage (commit, data, params, metrics) and the stage history.

    Examples:

    \b
      gitml models show churn
    """
    detail = api.model_show(name)
    if json_out:
        print_json(detail)
        return
    stages = ", ".join(f"{s}={v}" for s, v in detail.stages.items()) or "none"
    say(f"[bold]{detail.name}[/]" + (" (deprecated)" if detail.deprecated else "")
        + f"  stages: {stages}")  # fmt: skip
    grid = table("version", "commit", "stages", "metrics", "data", "registered", "by")
    for v in detail.versions:
        version = v.version if v.active else f"{v.version} (withdrawn)"
        grid.add_row(version, v.commit[:12], ", ".join(v.stages) or "-",
                      _metrics_cell(v.metrics) or "-", str(len(v.data)) + " paths",
                      iso_time(v.registered_at), v.registered_by)  # fmt: skip
    console().print(grid)
    say("history:")
    for h in detail.history:
        console().print(f"  {iso_time(h.at)}  {h.summary or h.tag}  ({h.by})", markup=False)
    for w in detail.warnings:
        warn(w)


def register(app: typer.Typer) -> None:
    app.command("register")(register_cmd)
    app.command()(promote)
    app.command()(demote)
    app.command()(deprecate)
    app.add_typer(models_app, name="models")
