"""Data from other repositories: get, import, update, ls."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from gitml import api
from gitml.cli.output import JSON_HELP, console, human_size, print_json, progress, say, table
from gitml.errors import UsageError

if TYPE_CHECKING:
    from gitml.access.imports import Imported

REV_HELP = "Revision of the source: commit, branch, tag, NAME@VERSION, NAME#STAGE (default HEAD)."


def get(
    repo: str = typer.Argument(..., help="Repository URL or local path."),
    path: str = typer.Argument(..., help="File or folder in it (relative to its root)."),
    rev: str = typer.Option(None, "--rev", help=REV_HELP),
    out: str = typer.Option(None, "-o", "--out", help="Where to write it (default: its name)."),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite a different file there."),
) -> None:
    """Copy a file or folder of any version of a repository here, untracked.

    Only the source's git history is cloned (under the user cache folder); the
    data comes from its data remote, verified, through your cache.

    Examples:

    \b
      gitml get git@host:team/registry.git data/customers.csv --rev churn@v2
      gitml get ../registry models/model.skops -o /tmp/model.skops
    """
    with progress() as cb:
        done = api.get(repo, path, out, rev, force=force, callback=cb)
    say(f"copied {path} ({human_size(done.size)}) at {done.commit[:12]} → {done.dest}")


def import_(
    repo: str = typer.Argument(..., help="Repository URL or local path."),
    path: str = typer.Argument(..., help="File or folder in it (relative to its root)."),
    rev: str = typer.Option(None, "--rev", help=REV_HELP + " Recorded: update follows it."),
    out: str = typer.Option(None, "-o", "--out", help="Where to put it (default: its name)."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace an existing pointer there."),
) -> None:
    """Copy a file or folder of another repository here and track it: its
    pointer records the source URL, path, revision and the locked commit.

    Examples:

    \b
      gitml import ../registry data/customers.csv -o data/customers.csv
      gitml import git@host:team/registry.git models/model.skops --rev churn#prod
    """
    with progress() as cb:
        done = api.import_data(repo, path, out, rev, force=force, callback=cb)
    say(
        f"imported {path} ({human_size(done.size)}) from {done.source.url} at "
        f"{done.source.commit[:12]} → {done.path}.gitml"
    )
    say("Next: git commit -m '...' (the pointer is staged)")


def update(
    paths: list[str] = typer.Argument(None, help="Imports to move (default: all)."),
    rev: str = typer.Option(None, "--rev", help="Follow this revision of the source from now on."),
    force: bool = typer.Option(False, "--force", "-f", help="Discard unsaved changes to them."),
) -> None:
    """Move imports to the newest commit of the revision they follow (or --rev).

    Examples:

    \b
      gitml update
      gitml update data/customers.csv --rev v3
    """
    with progress() as cb:
        done = api.update(paths or None, rev, force=force, callback=cb)
    if not done:
        say("no imports here (gitml import URL PATH makes one)")
    for item in done:
        say(_update_line(item))


def _update_line(item: Imported) -> str:
    at = item.source.commit[:12]
    if not item.changed:
        return f"{item.path}: up to date ({item.source.url} at {at})"
    return f"{item.path}: updated to {at} ({human_size(item.size)})"


def ls(
    args: list[str] = typer.Argument(None, help="[REPO_URL] [PATH] (default: here, the top)."),
    rev: str = typer.Option(None, "--rev", help=REV_HELP),
    recursive: bool = typer.Option(False, "-R", "--recursive", help="Every file below PATH."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List the files, tracked data (with sizes) and models of a repository.

    Examples:

    \b
      gitml ls
      gitml ls ../registry data --rev v2
      gitml ls git@host:team/registry.git -R --json
    """
    args = args or []
    if len(args) > 2:
        raise UsageError("give at most a repository and a path", "gitml ls ../registry data")
    repo = args[0] if args else None
    path = args[1] if len(args) > 1 else ""
    with progress() as cb:
        listing = api.ls(repo, path, rev, recursive=recursive, callback=cb)
    if json_out:
        print_json(listing.to_dict())
        return
    rows = table("path", "kind", "size")
    for e in listing.entries:
        kind = {"git": "git", "folder": "folder", "file": "data", "dir": "data folder"}[e.kind]
        rows.add_row(e.path + ("/" if e.kind in ("folder", "dir") else ""), kind,
                     "" if e.size is None else human_size(e.size))  # fmt: skip
    say(f"{listing.repo} at {listing.rev} ({listing.commit[:12]})")
    if listing.entries:
        console().print(rows)
    else:
        say("(nothing here)")
    for m in listing.models:
        stages = ", ".join(f"{s}={v}" for s, v in m.stages.items())
        say(f"model {m.name}@{m.version}" + (f" ({stages})" if stages else ""))


def register(app: typer.Typer) -> None:
    app.command()(get)
    app.command("import")(import_)
    app.command()(update)
    app.command()(ls)
