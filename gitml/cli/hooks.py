"""Git hooks: `gitml hooks install|uninstall|status`, and `gitml hook NAME`,
the entry point the installed hook scripts call."""

from __future__ import annotations

import os
import sys

import typer

from gitml import api
from gitml.cli.output import console, err_console, progress, say
from gitml.errors import EXIT_CHECK_FAILED, GitmlError

hooks_app = typer.Typer(help="Install, remove or inspect gitml's git hooks.", no_args_is_help=True)


@hooks_app.command("install")
def install() -> None:
    """Install the hooks (existing hooks are kept and chained)."""
    report = api.hooks_install()
    for name, state in report.states.items():
        say(f"{name}: {state}")
    for message in report.messages:
        say(message)


@hooks_app.command("uninstall")
def uninstall() -> None:
    """Remove gitml's hooks and restore the ones they replaced."""
    report = api.hooks_uninstall()
    for name, state in report.states.items():
        say(f"{name}: {state}")


@hooks_app.command("status")
def status() -> None:
    """Show each hook's state."""
    for name, st in api.hooks_status().items():
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


def _pre_push(args: list[str]) -> int:
    if os.environ.get("GITML_PUSHING"):
        return 0  # `gitml push` pushing tags and notes: it has uploaded the data already
    remote = args[0] if args else "origin"
    lines = sys.stdin.read().splitlines() if not sys.stdin.isatty() else []
    push_for_hook = getattr(api, "push_for_hook", None)
    if push_for_hook is None:
        return 0
    with progress() as cb:
        message = push_for_hook(remote, lines, callback=cb)
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


def hook(
    name: str = typer.Argument(..., help="Hook name."),
    args: list[str] = typer.Argument(None, help="Arguments git passed to the hook."),
) -> None:
    """Run one hook's work (called by the installed hook scripts)."""
    args = args or []
    blocking = name in ("pre-commit", "pre-push")
    try:
        if name == "pre-commit":
            code = _pre_commit()
        elif name == "post-commit":
            code = _post_commit()
        elif name == "pre-push":
            code = _pre_push(args)
        elif name == "post-checkout":
            code = _sync(args[0], args[1]) if len(args) >= 3 and args[2] == "1" else 0
        elif name == "post-merge":
            code = _sync("ORIG_HEAD", "HEAD")
        else:
            err_console().print(f"gitml: unknown hook {name!r}", markup=False)
            code = 0
    except GitmlError as exc:
        err_console().print(
            f"gitml {name}: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""), markup=False
        )
        code = exc.exit_code if blocking else 0
    except Exception as exc:
        if blocking:
            raise  # the funnel reports it and the hook fails closed
        # A post-* hook must never make git look broken: warn and go on.
        err_console().print(
            f"gitml {name}: warning: internal error: {type(exc).__name__}: {exc}", markup=False
        )
        code = 0
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.add_typer(hooks_app, name="hooks")
    app.command(hidden=True, context_settings={"ignore_unknown_options": True})(hook)
