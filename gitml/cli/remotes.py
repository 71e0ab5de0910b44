"""Remotes and team workflow: remote add|list|remove, push, fetch, pull, gc, fsck."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, cast

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
)
from gitml.errors import EXIT_CHECK_FAILED, RefusedError, UnconfirmedDeleteError, UsageError

if TYPE_CHECKING:
    from gitml.remotes.maintenance import GcResult
    from gitml.remotes.workflow import SyncResult

remote_app = typer.Typer(
    help="Data remotes (a folder, s3://, gs://, az://, ssh://): add, list, modify, "
    "default, rename, remove."
    "\n\nExamples:\n\n\b\n  gitml remote add origin s3://bucket/prefix --default\n"
    "  gitml remote list\n  gitml remote modify origin region eu-west-1\n"
    "  gitml remote rename origin store\n",
    no_args_is_help=True,
)


@remote_app.command("add")
def remote_add(
    name: str = typer.Argument(..., help="Remote name (letters, digits, '.', '_', '-')."),
    url: str = typer.Argument(..., help="Folder path or s3://bucket/prefix, gs://, az://, ssh://."),
    endpoint_url: str = typer.Option(None, "--endpoint-url", help="S3-compatible endpoint."),
    default: bool = typer.Option(False, "--default", "-d", help="Make it the default remote."),
    local: bool = typer.Option(
        False, "--local", help="Record it in .gitml/config.local.toml (not shared)."
    ),
) -> None:
    """Add a data remote to the tracked config (credentials never: they go in
    .gitml/config.local.toml or the environment). A new folder is created when
    its parent exists; a missing parent is warned about (push then refuses).

    Examples:

    \b
      gitml remote add origin /mnt/shared/gitml --default
      gitml remote add s3 s3://bucket/prefix --endpoint-url http://127.0.0.1:9000
    """
    with progress() as cb:
        api.remote_add(
            name, url, endpoint_url=endpoint_url, default=default, local=local, callback=cb
        )
    if local:
        say(f"added remote {name} to .gitml/config.local.toml")
    else:
        say(
            f"added remote {name} (commit .gitml/config.toml to share it; secrets go in "
            ".gitml/config.local.toml)"
        )


@remote_app.command("list")
def remote_list(json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List data remotes (credentials redacted).

    Examples:

    \b
      gitml remote list --json
    """
    with progress() as cb:
        rows = api.remote_list(callback=cb)
    if json_out:
        print_json(rows)
        return
    for row in rows:
        console().print(
            f"{row['name']}\t{row['url']}" + ("\t(default)" if row["default"] else ""),
            markup=False,
        )


@remote_app.command("remove")
def remote_remove(
    name: str = typer.Argument(...),
    local: bool = typer.Option(
        False, "--local", help="Remove its section from .gitml/config.local.toml."
    ),
) -> None:
    """Remove a data remote from the config.

    Examples:

    \b
      gitml remote remove s3
      gitml remote remove s3 --local
    """
    with progress() as cb:
        api.remote_remove(name, local=local, callback=cb)
    say(f"removed remote {name}" + (" from .gitml/config.local.toml" if local else ""))


@remote_app.command("modify")
def remote_modify(
    name: str = typer.Argument(..., help="Remote name."),
    key: str = typer.Argument(
        ...,
        metavar="KEY",
        help="url, endpoint_url, region, profile, git_remote, timeout, or a credential "
        "(access_key_id, secret_access_key, session_token, password, token, key: --local).",
    ),
    value: str = typer.Argument(None, metavar="[VALUE]", help="New value (not with --unset)."),
    local: bool = typer.Option(
        False, "--local", help="Write .gitml/config.local.toml (not shared): credentials."
    ),
    unset: bool = typer.Option(False, "--unset", help="Remove the key instead."),
) -> None:
    """Change one option of a data remote (same checks as gitml config set).

    Examples:

    \b
      gitml remote modify origin url /mnt/shared/gitml
      gitml remote modify s3 secret_access_key ... --local
      gitml remote modify s3 endpoint_url --unset
    """
    if unset and value is not None:
        raise UsageError("give a value or --unset, not both")
    changed = api.remote_modify(name, key, value, local=local, unset=unset)
    where = ".gitml/config.local.toml" if local else ".gitml/config.toml"
    if unset:
        say(f"unset remote.{name}.{key} in {where}" if changed else f"{key} was not set in {where}")
    else:
        say(f"set remote.{name}.{key} in {where}")


@remote_app.command("default")
def remote_default(
    name: str = typer.Argument(None, help="Remote to make the default (none: show it)."),
    unset: bool = typer.Option(False, "--unset", help="Remove the default."),
    local: bool = typer.Option(False, "--local", help="In .gitml/config.local.toml only."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show or set the default data remote (core.remote).

    Examples:

    \b
      gitml remote default             # prints it
      gitml remote default s3
      gitml remote default --unset
    """
    if unset and name is not None:
        raise UsageError("give a name or --unset, not both")
    current = api.remote_default(name, unset=unset, local=local)
    if json_out:
        print_json({"default": current}, schema="gitml.remote-default/1")
    elif unset:
        say("no default data remote")
    elif name is not None:
        say(f"default data remote: {name}")
    elif current is None:
        raise UsageError("no default data remote", "gitml remote default NAME")
    else:
        console().print(current, markup=False)


@remote_app.command("rename")
def remote_rename(
    old: str = typer.Argument(..., help="Current name."),
    new: str = typer.Argument(..., help="New name."),
) -> None:
    """Rename a data remote: its tracked and local sections and core.remote.

    Examples:

    \b
      gitml remote rename origin store
    """
    with progress() as cb:
        files = api.remote_rename(old, new, callback=cb)
    say(f"renamed remote {old} to {new} in {', '.join(files)}")


def _summary(verb: str, result: SyncResult) -> None:
    r = result.objects
    say(
        f"{verb} {len(r.transferred)} objects ({human_size(r.bytes)}), "
        f"{len(r.skipped)} already there" + (f"; {', '.join(result.git)}" if result.git else "")
    )
    for label in result.missing_manifests:
        say(f"[yellow]{label}: manifest not available; its files were skipped[/]")
    if result.imports:
        more = " ..." if len(result.imports) > 5 else ""
        names = ", ".join(result.imports[:5])
        say(f"restored {len(result.imports)} imports from their sources: {names}{more}")
    runs = result.run_cache
    if runs is not None:
        say(
            f"run cache: {verb} {len(runs.transferred)} entries ({runs.objects} objects), "
            f"{runs.present} already there"
        )


def push(
    targets: list[str] = typer.Argument(None, help="Tracked paths (default: all)."),
    remote: str = typer.Option(None, "-r", "--remote", help="Data remote (default: core.remote)."),
    jobs: int = typer.Option(None, "-j", "--jobs", help="Parallel transfers."),
    all_commits: bool = typer.Option(False, "--all-commits", help="Data of every commit."),
    run_cache: bool = typer.Option(False, "--run-cache", help="Also the pipeline run cache."),
    create: bool = typer.Option(
        False, "--create", help="Create a folder remote that does not exist yet."
    ),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Upload data objects (verified) and push registry tags and notes.
    A folder remote must exist (a typo would start a second store): --create.

    Examples:

    \b
      gitml push                     # everything HEAD points to, to core.remote
      gitml push data/train -r s3    # one folder, to the remote named s3
      gitml push --all-commits -j 16
      gitml push --create            # first push to a new folder remote
    """
    with progress() as cb:
        result = api.push(
            targets or [],
            remote=remote,
            jobs=jobs,
            all_commits=all_commits,
            run_cache=run_cache,
            create=create,
            callback=cb,
        )
    if json_out:
        print_json(result, schema="gitml.push/1")
        return
    _summary("pushed", result)


def fetch(
    targets: list[str] = typer.Argument(None, help="Tracked paths (default: all)."),
    remote: str = typer.Option(None, "-r", "--remote", help="Data remote (default: core.remote)."),
    jobs: int = typer.Option(None, "-j", "--jobs", help="Parallel transfers."),
    all_commits: bool = typer.Option(False, "--all-commits", help="Data of every commit."),
    run_cache: bool = typer.Option(False, "--run-cache", help="Also the pipeline run cache."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Download data objects into the cache (verified); fetch tags and notes.

    Examples:

    \b
      gitml fetch                    # what HEAD's pointers need
      gitml fetch models/ -r s3 --json
    """
    with progress() as cb:
        result = api.fetch(
            targets or [],
            remote=remote,
            jobs=jobs,
            all_commits=all_commits,
            run_cache=run_cache,
            callback=cb,
        )
    if json_out:
        print_json(result, schema="gitml.fetch/1")
        return
    _summary("fetched", result)


def pull(
    targets: list[str] = typer.Argument(None, help="Tracked paths (default: all)."),
    remote: str = typer.Option(None, "-r", "--remote", help="Data remote (default: core.remote)."),
    jobs: int = typer.Option(None, "-j", "--jobs", help="Parallel transfers."),
    all_commits: bool = typer.Option(False, "--all-commits", help="Data of every commit."),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite unsaved changes."),
    run_cache: bool = typer.Option(False, "--run-cache", help="Also the pipeline run cache."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """fetch, then checkout.

    Examples:

    \b
      gitml pull                     # after git pull: the data of the new commits
      gitml pull data/train -f       # overwrite local edits of data/train
    """
    with progress() as cb:
        fetched, checked = api.pull(
            targets or [],
            remote=remote,
            jobs=jobs,
            all_commits=all_commits,
            force=force,
            run_cache=run_cache,
            callback=cb,
        )
    if json_out:
        print_json({"fetch": fetched, "checkout": checked}, schema="gitml.pull/1")
        return
    _summary("fetched", fetched)
    say(f"wrote {len(checked.written)} files, {checked.unchanged} already up to date")


def fsck(
    cloud: bool = typer.Option(False, "--cloud", "-c", help="Check the data remote instead."),
    remote_name: str = typer.Option(None, "-r", "--remote", help=REMOTE_CLOUD_HELP),
    verify: bool = typer.Option(False, "--verify", help="With --cloud: download and hash."),
    all_commits: bool = typer.Option(False, "--all-commits", help="With --cloud: every commit."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Re-hash every cache object (corrupt ones are quarantined), or check the
    remote. Exit 1 if anything is wrong.

    Examples:

    \b
      gitml fsck
      gitml fsck --cloud --verify
      gitml fsck -r s3 --verify
    """
    remote = cloud or remote_name is not None
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
        for what in result.damaged_packs.values():
            console().print(f"damaged {what}; gitml push sends its objects again", markup=False)
        say(f"checked {result.checked} objects: " + ("ok" if result.ok else "problems found"))
    if not result.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


def gc(
    all_commits: bool = typer.Option(
        False, "--all-commits", help="Also keep every reflog entry, however old."
    ),
    workspace: bool = typer.Option(
        False, "--workspace", help="Keep only what checkouts and tags use, no history."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would go."),
    cloud: bool = typer.Option(False, "--cloud", "-c", help="Collect on the data remote."),
    remote_name: str = typer.Option(None, "-r", "--remote", help=REMOTE_CLOUD_HELP),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="Do not ask before deleting what no remote holds."
    ),
    forget_missing: bool = typer.Option(
        False,
        "--forget-missing",
        help="Shared cache: drop the records of repositories that no longer exist.",
    ),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Remove objects no root needs: every branch, remote-tracking branch, tag,
    stash, recent reflog entry (gc.reflog_days, default 10), and every worktree's
    checkout and index; objects younger than an hour stay. Asks before deleting
    what no data remote holds (or anything on a remote).

    Examples:

    \b
      gitml gc --dry-run
      gitml gc --all-commits
      gitml gc --cloud --dry-run
      gitml gc -r s3 --dry-run
    """
    remote = cloud or remote_name is not None

    def run(dry: bool, allow_unbacked: bool, only: list[str] | None = None) -> GcResult:
        with progress() as cb:
            return api.gc(
                all_commits=all_commits,
                workspace_only=workspace,
                dry_run=dry,
                remote=remote,
                remote_name=remote_name,
                allow_unbacked=allow_unbacked,
                only=only,
                forget_missing=forget_missing,
                callback=cb,
            )

    if dry_run or yes:
        result = run(dry_run, yes)
    elif remote:  # every remote delete is confirmed: preview first
        preview = run(True, False)
        if preview.removed:
            _confirm(preview, remote, len(preview.removed))
        result = run(False, True, preview.removed)  # what the user saw, nothing more
    else:  # local: asks only when something no data remote holds would go
        try:
            result = run(False, False)
        except UnconfirmedDeleteError as exc:
            preview = cast("GcResult", exc.preview)
            _confirm(preview, remote, len(preview.unbacked))
            result = run(False, True, preview.removed)
    if json_out:
        print_json(result)
        return
    if dry_run:
        _list_losses(result, remote)
    verb = "would remove" if dry_run else "removed"
    where = " from the remote" if remote else ""
    say(
        f"{verb} {len(result.removed)} objects{where} ({human_size(result.bytes)}); "
        f"kept {result.kept_recent} newer than the grace period"
    )
    if len(result.repositories) > 1:
        say(f"kept what {len(result.repositories)} repositories sharing the cache need")
    for root in result.forgotten:
        say(f"[yellow]forgot {root}: it no longer exists[/]")


def _list_losses(result: GcResult, remote: bool) -> None:
    for loss in result.lost:
        where = "" if remote or loss.on_remote else "  [on no remote]"
        console().print(
            f"{loss.oid[:12]}  {human_size(loss.size)}{where}  {'; '.join(loss.names)}",
            markup=False,
        )


def _confirm(preview: GcResult, remote: bool, count: int) -> None:
    """Ask before a delete that loses data (no TTY: refuse with a hint)."""
    what = "from the data remote" if remote else "that no data remote holds"
    if not sys.stdin or not sys.stdin.isatty():
        raise RefusedError(
            f"gc would delete {count} objects {what}; refusing without confirmation",
            "gitml gc --dry-run lists them; run gc in a terminal, or pass --yes",
        )
    _list_losses(preview, remote)
    total = f"{len(preview.removed)} objects, {human_size(preview.bytes)}"
    if not typer.confirm(f"delete these {count} objects {what} (gc removes {total} in all)?"):
        raise RefusedError("gc cancelled: nothing was deleted")


def register(app: typer.Typer) -> None:
    app.add_typer(remote_app, name="remote")
    app.command()(push)
    app.command()(fetch)
    app.command()(pull)
    app.command()(fsck)
    app.command()(gc)
