"""gitml config get|set|unset|list [--local]: read and edit .gitml/config.toml
(tracked) and .gitml/config.local.toml (ignored), keeping their comments."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from gitml import api
from gitml.cli.output import JSON_HELP, console, print_json, say
from gitml.errors import EXIT_CHECK_FAILED

if TYPE_CHECKING:
    from gitml.configfile import ConfigEntry

config_app = typer.Typer(
    help="Read and edit gitml's config (tracked .gitml/config.toml, or --local)."
    "\n\nExamples:\n\n\b\n  gitml config list\n  gitml config set --local cache.link hardlink\n",
    no_args_is_help=True,
)
_LOCAL_HELP = "Use .gitml/config.local.toml (ignored by git; secrets, local paths)."


@config_app.command("get")
def get(
    key: str = typer.Argument(..., help="A key such as cache.link or remote.origin.url."),
    local: bool = typer.Option(False, "--local", help="Only what the local file says."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Print the value gitml uses for KEY (exit 1 if it is set nowhere).

    Examples:

    \b
      gitml config get cache.link
      gitml config get remote.origin.timeout --json
    """
    entry = api.config_get(key, local=local)
    if entry is None:
        raise typer.Exit(EXIT_CHECK_FAILED)
    if json_out:
        print_json({"schema": "gitml.config.get/1", **_row(entry)})
    else:
        console().print(str(entry.value), markup=False)


@config_app.command("set")
def set_(
    key: str = typer.Argument(..., help="A key such as cache.link or remote.origin.url."),
    value: str = typer.Argument(..., help="The value (numbers for *.timeout, core.jobs...)."),
    local: bool = typer.Option(False, "--local", help=_LOCAL_HELP),
) -> None:
    """Set KEY to VALUE (the tracked file is staged; comments are kept).

    A cache outside the repository, cache.link hardlink|symlink and credentials
    are accepted only with --local.

    Examples:

    \b
      gitml config set cache.link copy
      gitml config set --local cache.dir /mnt/ssd/gitml-cache
      gitml config set --local remote.origin.timeout 900
    """
    api.config_set(key, value, local=local)
    say(f"set {key} in {'.gitml/config.local.toml' if local else '.gitml/config.toml'}")


@config_app.command("unset")
def unset(
    key: str = typer.Argument(..., help="A key such as core.remote."),
    local: bool = typer.Option(False, "--local", help=_LOCAL_HELP),
) -> None:
    """Remove KEY from one file (exit 1 if it was not set there).

    Examples:

    \b
      gitml config unset core.remote
      gitml config unset --local remote.s3.secret_access_key
    """
    if not api.config_unset(key, local=local):
        where = ".gitml/config.local.toml" if local else ".gitml/config.toml"
        typer.echo(f"{key} is not set in {where}", err=True)
        raise typer.Exit(EXIT_CHECK_FAILED)
    say(f"unset {key}")


@config_app.command("list")
def list_(
    local: bool = typer.Option(False, "--local", help="Only the local file."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List every key set, where it comes from (tracked/local), and whether gitml
    uses it: `refused` marks a tracked setting gitml does not trust.

    Examples:

    \b
      gitml config list
      gitml config list --json
    """
    listing = api.config_list(local=local)
    if json_out:
        print_json(
            {
                "schema": "gitml.config.list/1",
                "entries": [_row(e) for e in listing.entries],
                "error": listing.error,
            }
        )
        return
    for e in listing.entries:
        note = f"  ({e.note})" if e.note else ""
        state = "" if e.state == "in use" else f"  [{e.state}]"
        console().print(f"{e.key} = {e.value!s}  {e.source}{state}{note}", markup=False)
    if listing.error:
        typer.echo(f"warning: the config does not load: {listing.error}", err=True)


def _row(entry: ConfigEntry) -> dict[str, object]:
    return {
        "key": entry.key,
        "value": entry.value,
        "source": entry.source,
        "state": entry.state,
        "note": entry.note,
    }


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
