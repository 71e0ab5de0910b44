"""Snapshot commands: init, add, status, diff, checkout, rm."""

from __future__ import annotations

import typer

from gitml import api
from gitml.cli.output import (
    JSON_HELP,
    REMOTE_CLOUD_HELP,
    console,
    human_size,
    print_json,
    progress,
    say,
    table,
    warn,
)
from gitml.errors import EXIT_CHECK_FAILED, UsageError

_STATE_STYLE = {
    "clean": "green",
    "modified": "yellow",
    "stale": "cyan",
    "missing": "red",
    "not-in-cache": "red",
}


def init(
    no_hooks: bool = typer.Option(False, "--no-hooks", help="Do not install git hooks."),
) -> None:
    """Set up gitml in this git repository (config, cache, hooks, notes).

    Examples:

    
      gitml init
      gitml init --no-hooks      # hooks later: gitml hooks install
    """
    from rich.markup import escape

    result = api.init(hooks=not no_hooks)
    say(("Initialised" if result.created else "Reinitialised") + f" gitml in {result.root}")
    for message in result.messages:
        say(escape(message))  # the pre-commit snippet holds `[pre-commit]`, not markup


def add(
    targets: list[str] = typer.Argument(..., help="Files or folders to snapshot."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
    force: bool = typer.Option(
        False,
        "--force",
        "-f",
        help="Record the workspace even over a pointer it does not follow "
        "(moved by git without its data, or in merge conflict).",
    ),
) -> None:
    """Snapshot files or folders into the cache and stage their pointers.

    Examples:

    \b
      gitml add data/train.parquet
      gitml add data/ models/model.pkl --json
    """
    with progress() as cb:
        result = api.add(targets, force=force, callback=cb)
    if json_out:
        print_json(result)
        return
    for item in result.added:
        what = f"{item.nfiles} files, " if item.kind == "dir" else ""
        verb = "added" if item.changed else "unchanged"
        say(f"{verb} {item.path} ({what}{human_size(item.size)}) → {item.path}.gitml")
    if result.added:
        say("Next: git commit -m '...' (the pointers are staged)")


def status(
    targets: list[str] = typer.Argument(None, help="Tracked paths (default: all)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 if anything differs."),
    cloud: bool = typer.Option(
        False, "--cloud", "-c", help="Compare the cache with the data remote."
    ),
    remote_name: str = typer.Option(None, "-r", "--remote", help=REMOTE_CLOUD_HELP),
) -> None:
    """Show what changed in tracked data, file by file (or, with --cloud, what is unpushed).

    Examples:

    \b
      gitml status
      gitml status data/ --exit-code    # exit 1 if anything differs
      gitml status --cloud               # what is not pushed yet (default remote)
      gitml status -r s3                 # the same against remote s3
    """
    if cloud or remote_name is not None:
        _remote_status(targets or [], remote_name, json_out, exit_code)
        return
    with progress() as cb:
        result = api.status(targets or [], callback=cb)
    dirty = [s for s in result if s.state != "clean"]
    if json_out:
        print_json(result)
    elif not result:
        say("No tracked data. Track some with: gitml add PATH")
    else:
        for item in result:
            style = _STATE_STYLE[item.state]
            hint = f"  ({item.message})" if item.message and item.state != "clean" else ""
            console().print(f"[{style}]{item.state:>12}[/]  {item.path}{hint}")
            for change in item.changes[:50]:
                console().print(f"{'':>14}  {change.change}: {change.path}", markup=False)
            if len(item.changes) > 50:
                console().print(f"{'':>14}  ... and {len(item.changes) - 50} more")
        imports = [s.path for s in result if s.source is not None]
        if imports:
            _import_lines(imports)
    if dirty and exit_code:
        raise typer.Exit(EXIT_CHECK_FAILED)


def _import_lines(paths: list[str]) -> None:
    """One line per import whose source moved on (a ``git fetch`` per source)."""
    with progress() as cb:
        states = api.import_status(paths, callback=cb)
    for state in states:
        if state.error is not None:
            warn(f"cannot check the source of {state.path}: {state.error}")
        elif state.moved and state.newest is not None:
            follows = state.rev or "its default branch"
            console().print(
                f"{'source moved':>12}  {state.path}  ({state.url}: {follows} is at "
                f"{state.newest[:12]}, imported {state.locked[:12]}; gitml update {state.path})",
                markup=False,
            )


def _remote_status(targets: list[str], name: str | None, json_out: bool, exit_code: bool) -> None:
    with progress() as cb:
        result = api.remote_status(targets, remote=name, callback=cb)
    if json_out:
        print_json(result)
    else:
        say(f"remote {result.remote}: {result.total} objects needed by the workspace")
        say(f"  not yet pushed:  {len(result.not_pushed)}" + _examples(result.not_pushed))
        say(f"  not yet fetched: {len(result.not_fetched)}" + _examples(result.not_fetched))
    if exit_code and (result.not_pushed or result.not_fetched):
        raise typer.Exit(EXIT_CHECK_FAILED)


def _examples(found: dict[str, str]) -> str:
    names = sorted(set(found.values()))[:3]
    return (
        f"  ({', '.join(names)}{', ...' if len(set(found.values())) > 3 else ''})" if names else ""
    )


def diff(
    revs: list[str] = typer.Argument(
        None,
        help="[OLD [NEW]]: revisions or NAME@VERSION / NAME#STAGE (default HEAD vs "
        "workspace); with --rows: TABLE [OLD [NEW]].",
    ),
    path: list[str] = typer.Option(None, "--path", "-p", help="Limit to these tracked paths."),
    by_rows: bool = typer.Option(False, "--rows", help="Row-level diff of one table."),
    key: list[str] = typer.Option(
        None, "--key", "-k", metavar="COLUMN", help="With --rows: match rows by this column."
    ),
    limit: int = typer.Option(10, "--limit", metavar="N", help="With --rows: examples shown."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
    md: bool = typer.Option(False, "--md", help="Markdown table."),
) -> None:
    """Per tracked path: files added, deleted and modified between two revisions;
    with --rows, the rows of one table added, removed and changed.

    Examples:

    \b
      gitml diff                  # HEAD vs the workspace
      gitml diff v1 v2 -p data/train
      gitml diff churn@v1 churn#prod --md
      gitml diff data/customers.parquet --rows --key id HEAD~1 HEAD
    """
    revs = revs or []
    if by_rows:
        from gitml.cli.compare import row_diff

        if not revs or len(revs) > 3:
            raise UsageError(
                "--rows takes a table and at most two revisions",
                "gitml diff data/customers.parquet --rows --key id HEAD~1 HEAD",
            )
        row_diff(revs[0], revs[1:], key or None, limit, json_out, md)
        return
    if key:
        raise UsageError("--key needs --rows", "gitml diff data.csv --rows --key id")
    if len(revs) > 2:
        raise UsageError("give at most two revisions", "gitml diff HEAD~1 HEAD")
    old = revs[0] if revs else "HEAD"
    new = revs[1] if len(revs) == 2 else None
    with progress() as cb:
        result = api.diff(old, new, path or None, callback=cb)
    if json_out:
        print_json(result)
        return
    rows = [
        (c.path, c.change, human_size(c.old_size), human_size(c.new_size))
        for p in result.paths
        for c in p.changes
    ]
    notes = [f"{p.path}: {p.note}" for p in result.paths if p.note]
    if md:
        print(f"| path | change | {result.old} | {result.new} |\n|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(r.replace("|", "\\|") for r in row) + " |")
        for note in notes:
            print(f"\n> {note}")
        return
    if not rows and not notes:
        say(f"No changes in tracked data between {result.old} and {result.new}.")
        return
    grid = table("path", "change", f"size at {result.old}", f"size at {result.new}")
    for row in rows:
        grid.add_row(*row)
    console().print(grid)
    for p in result.paths:
        added = sum(c.change == "added" for c in p.changes)
        deleted = sum(c.change == "deleted" for c in p.changes)
        modified = sum(c.change == "modified" for c in p.changes)
        say(f"{p.path}: {added} added, {deleted} deleted, {modified} modified")
    for note in notes:
        say(f"[yellow]{note}[/]")


def checkout(
    targets: list[str] = typer.Argument(
        None, help="Tracked paths, PATH@REV, or NAME@VERSION / NAME#STAGE."
    ),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite unsaved changes."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would change."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
    output: str = typer.Option(
        None,
        "--output",
        "-o",
        help="Write a copy of that version here (a model version, or PATH@REV).",
    ),
    conflict: str = typer.Option(
        None,
        "--conflict",
        metavar="ours|theirs",
        help="Resolve a merge conflict in a pointer: check out that side and write "
        "NAME.ours and NAME.theirs beside each file both sides changed.",
    ),
) -> None:
    """Make workspace data match its pointers, an older revision, or a model version.

    Examples:

    \b
      gitml checkout                     # data matching the checked-out pointers
      gitml checkout data/train@HEAD~2
      gitml checkout churn@v3.0.0 -o /tmp/model.pkl
      gitml checkout data/customers.csv@v1 -o /tmp/customers-v1.csv
      gitml checkout data --conflict ours   # after a merge conflict in data.gitml
    """
    if conflict is not None:
        _resolve(targets or [], conflict, force=force, json_out=json_out)
        return
    with progress() as cb:
        result = api.checkout(
            targets or [], force=force, dry_run=dry_run, output=output, callback=cb
        )
    if json_out:
        print_json(result)
        return
    verb = "would write" if dry_run else "wrote"
    say(
        f"{verb} {len(result.written)} files, removed {len(result.deleted)}, "
        f"{result.unchanged} already up to date"
    )


def _resolve(targets: list[str], side: str, *, force: bool, json_out: bool) -> None:
    if len(targets) != 1:
        raise UsageError(
            "--conflict takes exactly one tracked path", "gitml checkout data --conflict ours"
        )
    with progress() as cb:
        result = api.resolve_conflict(targets[0], side, force=force, callback=cb)
    if json_out:
        print_json(result, schema="gitml.resolve/1")
        return
    for path in result.conflicts:
        console().print(f"both changed: {path}", markup=False)
    say(
        f"checked out {result.side} of {result.tracked} and wrote "
        f"{len(result.extras)} files to compare ({', '.join(result.extras[:4])}"
        f"{', ...' if len(result.extras) > 4 else ''}); edit, delete the .ours/.theirs "
        f"files, then gitml add {result.tracked}"
    )


def rm(
    targets: list[str] = typer.Argument(..., help="Tracked paths to stop tracking."),
) -> None:
    """Stop tracking paths; their data stays on disk.

    Examples:

    \b
      gitml rm data/old.csv
    """
    for pointer in api.remove(targets):
        say(f"removed {pointer} (data kept)")


def du(
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
    cloud: bool = typer.Option(False, "--cloud", "-c", help="The data remote instead."),
    remote_name: str = typer.Option(None, "-r", "--remote", help=REMOTE_CLOUD_HELP),
) -> None:
    """How much the cache holds: logical size (every version as whole files),
    stored size (chunks shared by versions counted once) and the dedup ratio;
    with --cloud, the same for the data remote.

    Examples:

    \b
      gitml du
      gitml du --json
      gitml du --cloud
      gitml du -r s3
    """
    with progress() as cb:
        usage = api.du(remote=cloud, remote_name=remote_name, callback=cb)
    if json_out:
        print_json(
            {
                "logical": usage.logical,
                "stored": usage.stored,
                "ratio": round(usage.ratio, 3),
                "objects": usage.objects,
                "whole_files": usage.whole_files,
                "chunked_files": usage.chunked_files,
                "chunks": usage.chunks,
                "damaged_lists": usage.damaged_lists,
            },
            schema="gitml.du/1",
        )
        return
    say(f"logical: {human_size(usage.logical)}")
    say(f"stored: {human_size(usage.stored)}")
    say(f"dedup ratio: {usage.ratio:.2f}")
    say(
        f"objects: {usage.objects} ({usage.whole_files} whole, {usage.chunks} chunks of "
        f"{usage.chunked_files} chunked files)"
    )
    if usage.damaged_lists:
        console().print(
            f"{usage.damaged_lists} chunked files have a damaged chunk list: run gitml fsck",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(add)
    app.command()(status)
    app.command()(diff)
    app.command()(checkout)
    app.command()(rm)
    app.command()(du)
