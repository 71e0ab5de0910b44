"""Git hooks: `gitml hooks install|uninstall|status`, and `gitml hook NAME`,
the entry point the installed hook scripts call."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from gitml import api
from gitml.cli.output import JSON_HELP, console, err_console, print_json, progress, say
from gitml.errors import EXIT_CHECK_FAILED, GitmlError, UsageError
from gitml.git.hookchain import run_chained
from gitml.git.hookfiles import FAIL_CLOSED, HOOK_NAMES

hooks_app = typer.Typer(
    help="Install, remove or inspect gitml's git hooks."
    "\n\nExamples:\n\n\b\n  gitml hooks install\n  gitml hooks status --json\n",
    no_args_is_help=True,
)


@hooks_app.command("install")
def install() -> None:
    """Install the hooks (existing hooks are kept and chained).

    Examples:

    \b
      gitml hooks install      # also upgrades hooks of earlier gitml versions
    """
    report = api.hooks_install()
    for name, state in report.states.items():
        say(f"{name}: {state}")
    for message in report.messages:
        say(message)


@hooks_app.command("uninstall")
def uninstall() -> None:
    """Remove gitml's hooks and restore the ones they replaced.

    Examples:

    \b
      gitml hooks uninstall
    """
    report = api.hooks_uninstall()
    for name, state in report.states.items():
        say(f"{name}: {state}")


@hooks_app.command("status")
def status(json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Show each hook's state: installed, chained (runs your previous hook
    first), foreign, missing, or framework (the pre-commit framework's).

    Examples:

    \b
      gitml hooks status
      gitml hooks status --json
    """
    states = api.hooks_status()
    if json_out:
        hooks = [
            {
                "name": name,
                "state": st.state,
                "path": str(st.path),
                "python": st.python,
                "python_ok": st.python_ok,
            }
            for name, st in states.items()
        ]
        print_json({"hooks": hooks}, schema="gitml.hooks-status/1")
        return
    for name, st in states.items():
        console().print(f"{name:>14}: {st.state}", markup=False)


def _pre_commit() -> int:
    from gitml.cli.guards import render_report

    with progress() as cb:
        outcome = api.pre_commit(callback=cb)
    for problem in outcome.problems:
        err_console().print(f"gitml: {problem}", markup=False)
    if outcome.report is not None and (not outcome.report.ok or outcome.ran):
        render_report(outcome.report)
    if not outcome.ok:
        err_console().print(
            "gitml: commit blocked. Fix the data or the model, or commit with "
            "--no-verify (the commit's metadata will say it is unverified).",
            markup=False,
        )
        return EXIT_CHECK_FAILED
    return 0


def _post_commit() -> int:
    outcome = api.post_commit()
    if outcome.message:
        err_console().print(f"gitml: warning: {outcome.message}", markup=False)
    return 0


def _pre_push(args: list[str], refs: bytes) -> int:
    if os.environ.get("GITML_PUSHING"):
        return 0  # `gitml push` pushing tags and notes: it has uploaded the data already
    remote = args[0] if args else "origin"
    lines = refs.decode("utf-8", "surrogateescape").splitlines()
    with progress() as cb:
        message = api.push_for_hook(remote, lines, callback=cb)
    if message:
        err_console().print(f"gitml: {message}", markup=False)
    return 0


def _sync(old: str, new: str) -> int:
    outcome = api.sync_after(old, new)
    for path in outcome.updated:
        err_console().print(f"gitml: updated {path}", markup=False)
    for warning in outcome.warnings:
        err_console().print(f"gitml: warning: {warning}", markup=False)
    return 0


def _work(name: str, args: list[str], refs: bytes | None) -> int:
    """gitml's own part of hook ``name``. A pre-commit/pre-push that cannot do its
    work fails (the commit or push stops); a post-* hook warns and lets git go on."""
    blocking = name in FAIL_CLOSED
    try:
        if name == "pre-commit":
            return _pre_commit()
        if name == "post-commit":
            return _post_commit()
        if name == "pre-push":
            return _pre_push(args, refs or b"")
        if name == "post-checkout":
            return _sync(args[0], args[1]) if len(args) >= 3 and args[2] == "1" else 0
        assert name == "post-merge", name
        return _sync("ORIG_HEAD", "HEAD")
    except GitmlError as exc:
        err_console().print(
            f"gitml {name}: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""), markup=False
        )
        return exc.exit_code if blocking else 0
    except Exception as exc:
        if blocking:
            raise  # the funnel reports it and the hook fails closed
        # A post-* hook must never make git look broken: warn and go on.
        err_console().print(
            f"gitml {name}: warning: internal error: {type(exc).__name__}: {exc}", markup=False
        )
        return 0


def hook(
    name: str = typer.Argument(..., help="Hook name: " + "|".join(HOOK_NAMES) + "."),
    args: list[str] = typer.Argument(None, help="Arguments git passed to the hook."),
) -> None:
    """Run one hook (called by the installed hook scripts).

    Run from an installed hook, it first runs the hook that was there before
    gitml (<hook>.pre-gitml), then gitml's work.

    Examples:

      gitml hook pre-commit      # what the pre-commit framework's entry runs
    """
    if name not in HOOK_NAMES:
        raise UsageError(f"unknown hook {name!r}", f"gitml runs {', '.join(HOOK_NAMES)}")
    argv = list(args or [])
    raise typer.Exit(run_chained(name, argv, lambda refs: _work(name, argv, refs)))


def merge_driver(
    base: Path = typer.Argument(
        ..., metavar="BASE", help="%O: the common ancestor's pointer (a temp file)."
    ),
    ours: Path = typer.Argument(
        ..., metavar="OURS", help="%A: our pointer; replaced by the result."
    ),
    theirs: Path = typer.Argument(..., metavar="THEIRS", help="%B: their pointer."),
    path: str = typer.Argument(
        ..., metavar="PATH", help="%P: the pointer's path in the repository."
    ),
) -> None:
    """git's merge driver for pointers (configured by gitml init and gitml hooks
    install as merge.gitml.driver; .gitattributes: *.gitml merge=gitml). Merges
    a tracked folder's manifests file by file; exit 1 with the conflicting files
    listed when both sides changed the same file.

    Examples:

    \b
      git config merge.gitml.driver   # what git runs: python -m gitml merge-driver %O %A %B %P
      gitml checkout data --conflict ours   # then resolve what the driver could not merge
    """
    with progress() as cb:
        outcome = api.merge_driver(base, ours, theirs, path, callback=cb)
    err = err_console()
    if outcome.clean:
        err.print(
            f"gitml: merged {path}: {outcome.from_ours} changes from ours, "
            f"{outcome.from_theirs} from theirs",
            markup=False,
        )
        return
    tracked = path.removesuffix(".gitml")
    err.print(f"gitml: CONFLICT in {path}: changed on both sides:", markup=False)
    for name in outcome.conflicts:
        err.print(f"gitml:   {name}", markup=False)
    err.print(
        f"gitml: resolve with: gitml checkout {tracked} --conflict ours|theirs (writes "
        "NAME.ours and NAME.theirs), edit, then gitml add " + tracked,
        markup=False,
    )
    raise typer.Exit(EXIT_CHECK_FAILED)


def register(app: typer.Typer) -> None:
    app.add_typer(hooks_app, name="hooks")
    app.command(hidden=True, context_settings={"ignore_unknown_options": True})(hook)
    app.command("merge-driver", hidden=True)(merge_driver)
