"""The ``gitml`` command: a Typer app and the one error funnel.

Commands live in one module per group; each is a thin layer that parses
arguments, calls :mod:`gitml.api` and renders the result. Start-up matters
(every command and git hook pays it): modules here import Rich, the API's
domain packages and pydantic-backed coercion only when a command needs them,
and typer builds only the command that runs (:mod:`gitml.cli.lazy`).
"""

from __future__ import annotations

import copy
import importlib
import sys
import traceback as tb

import typer

from gitml import __version__
from gitml.cli.lazy import LazyGroup, lazy_root
from gitml.cli.output import settings
from gitml.errors import EXIT_INTERRUPTED, EXIT_REPO, EXIT_USAGE, GitmlError

app = typer.Typer(
    name="gitml",
    help="Git-native data and model versioning: snapshots, guards, registry, pipelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=LazyGroup,
)


def _version(value: bool) -> None:
    if value:
        print(f"gitml {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="More detail."),
    traceback: bool = typer.Option(
        False, "--traceback", help="Show tracebacks of errors (anywhere on the line)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    settings.quiet = quiet or settings.quiet
    settings.verbose = verbose or settings.verbose
    settings.traceback = traceback or settings.traceback


# The command modules in listing order, with the commands each registers: a
# run of `gitml <command>` imports only that command's module. A name missing
# here still works (every module is imported); tests/cli/test_startup.py
# checks the table against what the modules register.
_MODULES: dict[str, tuple[str, ...]] = {
    "data": ("init", "add", "status", "diff", "checkout", "rm"),
    "guards": ("guard", "show", "log"),
    "meta": (),  # skipped while gitml/cli/meta.py does not exist
    "registry": ("register", "promote", "demote", "deprecate", "models"),
    "remotes": ("remote", "push", "fetch", "pull", "fsck", "gc"),
    "pipelines": ("repro", "dag", "monitor"),
    "experiments": ("exp",),
    "interop": ("import-dvc",),
    "hooks": ("hooks", "hook"),
}


def _register(args: list[str]) -> typer.Typer:
    """A copy of ``app`` with the command modules these arguments can reach: the
    one defining the command named first, else all (help, usage errors)."""
    wanted = [m for m, names in _MODULES.items() if args and args[0] in names] or list(_MODULES)
    full = copy.copy(app)
    full.registered_commands, full.registered_groups = [], []
    for name in wanted:
        try:
            module = importlib.import_module(f"gitml.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"gitml.cli.{name}":
                raise
            continue
        module.register(full)
    return full


_GLOBAL_FLAGS = {"--traceback": "traceback", "-q": "quiet", "--quiet": "quiet",
                 "-v": "verbose", "--verbose": "verbose"}  # fmt: skip


def _hoist_global_flags(args: list[str]) -> list[str]:
    """Accept the global flags anywhere before ``--`` (``gitml add -q data``), as
    users type them, not only before the command name."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        name = _GLOBAL_FLAGS.get(arg)
        if name is None:
            out.append(arg)
        else:
            setattr(settings, name, True)
    return out


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; turn every error into one line and an exit code."""
    from typer import Abort, Exit

    try:  # recent typer vendors click; older versions use the click package
        from typer._click.exceptions import ClickException
    except ImportError:  # pragma: no cover - depends on the installed typer
        from click.exceptions import ClickException  # type: ignore[assignment]

    settings.quiet = settings.verbose = settings.traceback = False  # main() may run again
    args = _hoist_global_flags(list(sys.argv[1:] if argv is None else argv))
    full = _register(args)
    try:
        rc = lazy_root(full).main(args=args, prog_name="gitml", standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except GitmlError as exc:
        if settings.traceback:
            tb.print_exc()
        sys.stderr.write(f"error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"hint: {exc.hint}\n")
        sys.exit(exc.exit_code)
    except Exit as exc:
        sys.exit(exc.exit_code)
    except Abort:
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    except ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # the funnel: never a raw traceback unless asked
        if settings.traceback:
            tb.print_exc()
        else:
            sys.stderr.write(
                f"error: internal error: {type(exc).__name__}: {exc}\n"
                "hint: run again with --traceback and report it\n"
            )
        sys.exit(EXIT_REPO)
