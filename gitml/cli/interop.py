"""Interop commands: ``gitml import-dvc``."""

from __future__ import annotations

import typer

from gitml.cli.output import JSON_HELP, console, human_size, print_json, progress, say
from gitml.errors import ObjectMissingError

_SHOWN = 50


def import_dvc(
    paths: list[str] = typer.Argument(None, help="DVC files, outputs or folders (default: all)."),
    from_remote: str = typer.Option(
        None,
        "--from-remote",
        metavar="NAME",
        help="Fetch objects missing locally from this DVC remote, with DVC "
        "(pip install 'gitml[dvc]').",
    ),
    keep_dvc: bool = typer.Option(
        False, "--keep-dvc", help="Leave the DVC files in git so both tools work side by side."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would be imported."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Import a DVC project: data as gitml pointers, dvc.yaml stages as gitml.yaml stages.

    Examples:

    \b
      gitml import-dvc --dry-run
      gitml import-dvc data.dvc dvc.yaml --keep-dvc
    """
    from gitml.api.interop import import_dvc as run

    with progress() as cb:
        result = run(
            paths or [], from_remote=from_remote, keep_dvc=keep_dvc, dry_run=dry_run, callback=cb
        )
    if json_out:
        print_json(result)
    else:
        for item in result.imported:
            if dry_run:
                verb = "would import" if item.changed else "would re-check"
            else:
                verb = "imported" if item.changed else "unchanged"
            what = f"{item.nfiles} files, " if item.kind == "dir" else ""
            where = f", workspace {item.workspace}" if item.workspace else ""
            say(f"{verb} {item.path} ({what}{human_size(item.size)}{where}) from {item.source}")
        for stage in result.stages:
            verb = (
                "unchanged" if not stage.changed else ("would convert" if dry_run else "converted")
            )
            state = (
                ""
                if dry_run
                else (
                    "; gitml.lock: up to date"
                    if stage.locked
                    else f"; runs on the next gitml repro ({stage.reason})"
                )
            )
            console().print(
                f"{verb} stage {stage.dvc_name} ({stage.source}) → gitml.yaml stage "
                f"{stage.name}{state}",
                markup=False,
            )
        for carried in result.carried:
            verb = "would carry" if dry_run else "carried"
            console().print(
                f"{verb} {carried.feature} {carried.name} → {carried.became}", markup=False
            )
        for skipped in result.not_converted:
            console().print(
                f"not converted: {skipped.what} ({skipped.source}): {skipped.reason}", markup=False
            )
        for note in result.notes:
            console().print(f"note: {note}", markup=False)
        if result.fetched:
            say(f"fetched {result.fetched} objects from DVC remote {from_remote}")
        if result.to_fetch:
            say(f"would fetch {result.to_fetch} objects from DVC remote {from_remote}")
        if result.removed_from_index:
            gone = ", ".join(result.removed_from_index)
            say(f"removed from the git index (still on disk): {gone}")
        changed = (
            any(i.changed for i in result.imported)
            or result.removed_from_index
            or any(s.changed for s in result.stages)
        )
        if changed and not dry_run:
            say("Next: git status shows the swap; commit it with git commit")
        if any(c.feature == "registered version" for c in result.carried) and not dry_run:
            say("Then gitml push --all-commits shares the models of the older versions too")
    if result.missing:
        for path in result.missing[:_SHOWN]:
            console().print(f"missing: {path}", markup=False)
        more = len(result.missing) - _SHOWN
        if more > 0:
            console().print(f"missing: ... and {more} more", markup=False)
        where = (
            "the DVC cache nor the DVC remote" if from_remote else "the workspace nor the DVC cache"
        )
        raise ObjectMissingError(
            f"{len(result.missing)} files are in neither {where}; the rest was imported"
            if not dry_run
            else f"{len(result.missing)} files are in neither {where}",
            "dvc fetch, or gitml import-dvc --from-remote NAME"
            if not from_remote
            else "push them to the DVC remote from a machine that has them",
        )


def register(app: typer.Typer) -> None:
    app.command("import-dvc")(import_dvc)
