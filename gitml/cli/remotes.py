"""Remotes and team workflow: remote add|list|remove, push, fetch, pull, gc, fsck."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from gitml import api
from gitml.cli.output import console, human_size, print_json, progress, say
from gitml.errors import EXIT_CHECK_FAILED

if TYPE_CHECKING:
    from gitml.remotes.workflow import SyncResult

remote_app = typer.Typer(
    help="Data remotes (a folder, s3://, gs://, az://, ssh://).", no_args_is_help=True
)


@remote_app.command("add")
def remote_add(
    name: str = typer.Argument(..., help="Remote name."),
    url: str = typer.Argument(..., help="Folder path or s3://bucket/prefix, gs://, az://, ssh://."),
    endpoint_url: str = typer.Option(None, "--endpoint-url", help="S3-compatible endpoint."),
    default: bool = typer.Option(False, "--default", "-d", help="Make it the default remote."),
) -> None:
    """Add a data remote to the tracked config."""
    api.remote_add(name, url, endpoint_url=endpoint_url, default=default)
    say(
        f"added remote {name} (commit .gitml/config.toml to share it; secrets go in "
        ".gitml/config.local.toml)"
    )


@remote_app.command("list")
def remote_list(json_out: bool = typer.Option(False, "--json")) -> None:
    """List data remotes (credentials redacted)."""
    rows = api.remote_list()
    if json_out:
        print_json(rows)
        return
    for row in rows:
        console().print(
            f"{row['name']}\t{row['url']}" + ("\t(default)" if row["default"] else ""), markup=False
        )


@remote_app.command("remove")
def remote_remove(name: str = typer.Argument(...)) -> None:
    """Remove a data remote from the config."""
    api.remote_remove(name)
    say(f"removed remote {name}")


def _summary(verb: str, result: SyncResult) -> None:
    r = result.objects
    say(
        f"{verb} {len(r.transferred)} objects ({human_size(r.bytes)}), "
        f"{len(r.skipped)} already there" + (f"; {', '.join(result.git)}" if result.git else "")
    )
    for label in result.missing_manifests:
        say(f"[yellow]{label}: manifest not available; its files were skipped[/]")


def push(
    targets: list[str] = typer.Argument(None, help="Tracked paths (default: all)."),
    remote: str = typer.Option(None, "-r", "--remote", help="Data remote (default: core.remote)."),
    jobs: int = typer.Option(None, "-j", "--jobs", help="Parallel transfers."),
    all_commits: bool = typer.Option(False, "--all-commits", help="Data of every commit."),
) -> None:
    """Upload data objects (verified) and push registry tags and notes."""
    with progress() as cb:
        result = api.push(
            targets or [], remote=remote, jobs=jobs, all_commits=all_commits, callback=cb
        )
    _summary("pushed", result)


def fetch(
    targets: list[str] = typer.Argument(None, help="Tracked paths (default: all)."),
    remote: str = typer.Option(None, "-r", "--remote"),
    jobs: int = typer.Option(None, "-j", "--jobs"),
    all_commits: bool = typer.Option(False, "--all-commits"),
) -> None:
    """Download data objects into the cache (verified); fetch tags and notes."""
    with progress() as cb:
        result = api.fetch(
            targets or [], remote=remote, jobs=jobs, all_commits=all_commits, callback=cb
        )
    _summary("fetched", result)


def pull(
    targets: list[str] = typer.Argument(None, help="Tracked paths (default: all)."),
    remote: str = typer.Option(None, "-r", "--remote"),
    jobs: int = typer.Option(None, "-j", "--jobs"),
    all_commits: bool = typer.Option(False, "--all-commits"),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite unsaved changes."),
) -> None:
    """fetch, then checkout."""
    with progress() as cb:
        fetched, checked = api.pull(
            targets or [],
            remote=remote,
            jobs=jobs,
            all_commits=all_commits,
            force=force,
            callback=cb,
        )
    _summary("fetched", fetched)
    say(f"wrote {len(checked.written)} files, {checked.unchanged} already up to date")


def fsck(
    remote: bool = typer.Option(False, "--remote", help="Check the data remote instead."),
    remote_name: str = typer.Option(None, "-r", help="Which data remote."),
    verify: bool = typer.Option(False, "--verify", help="With --remote: download and hash."),
    all_commits: bool = typer.Option(False, "--all-commits", help="With --remote: every commit."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Re-hash every cache object (corrupt ones are quarantined), or check the
    remote. Exit 1 if anything is wrong."""
    with progress() as cb:
        result = api.fsck(
            remote=remote,
            remote_name=remote_name,
            verify=verify,
            all_commits=all_commits,
            callback=cb,
        )
    if json_out:
        print_json(result)
    else:
        where = "on the remote" if remote else "(quarantined)"
        for problem in result.problems:
            console().print(f"damaged cache: {problem}", markup=False)
        if result.problems:
            console().print(
                "hint: move each out of the cache (mv PATH PATH.damaged), then gitml fsck;"
                " gitml pull fetches what was in it",
                markup=False,
            )
        for oid in result.restored:
            console().print(f"restored {oid[:12]} from quarantine (its bytes match)", markup=False)
        for oid, who in result.corrupt.items():
            console().print(f"corrupt {oid[:12]} {where}, needed by {who}", markup=False)
        for oid, who in result.missing.items():
            console().print(f"missing {oid[:12]}, needed by {who}", markup=False)
        say(f"checked {result.checked} objects: " + ("ok" if result.ok else "problems found"))
    if not result.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


def gc(
    all_commits: bool = typer.Option(False, "--all-commits", help="Keep data of every commit."),
    workspace: bool = typer.Option(
        False, "--workspace", help="Keep only what checkouts and tags use, no history."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would go."),
    remote: bool = typer.Option(False, "--remote", help="Collect on the data remote."),
    remote_name: str = typer.Option(None, "-r", help="Which data remote."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before deleting remotely."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Remove objects no kept revision needs (every worktree's checkout and index,
    tags, HEAD's history; objects younger than an hour stay)."""
    if remote and not dry_run and not yes:
        preview = api.gc(
            all_commits=all_commits,
            workspace_only=workspace,
            dry_run=True,
            remote=True,
            remote_name=remote_name,
        )
        if not preview.removed:
            say("nothing to remove on the remote")
            return
        typer.confirm(
            f"delete {len(preview.removed)} objects ({human_size(preview.bytes)}) from the remote?",
            abort=True,
        )
    with progress() as cb:
        result = api.gc(
            all_commits=all_commits,
            workspace_only=workspace,
            dry_run=dry_run,
            remote=remote,
            remote_name=remote_name,
            callback=cb,
        )
    if json_out:
        print_json(result)
        return
    verb = "would remove" if dry_run else "removed"
    where = " from the remote" if remote else ""
    say(
        f"{verb} {len(result.removed)} objects{where} ({human_size(result.bytes)}); "
        f"kept {result.kept_recent} newer than the grace period"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(remote_app, name="remote")
    app.command()(push)
    app.command()(fetch)
    app.command()(pull)
    app.command()(fsck)
    app.command()(gc)
