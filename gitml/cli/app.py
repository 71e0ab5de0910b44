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
import os
import sys
import traceback as tb

import typer
from typer._click.exceptions import UsageError as ClickUsageError  # typer 0.29 vendors click

from gitml.cli import helptext
from gitml.cli.lazy import LazyGroup, lazy_root
from gitml.cli.output import settings
from gitml.errors import EXIT_INTERRUPTED, EXIT_REPO, EXIT_USAGE, GitmlError, UsageError
from gitml.version import __version__

# The variable the shell completion scripts (`gitml completion SHELL`) set.
COMPLETE_VAR = "_GITML_COMPLETE"

helptext.install()

app = typer.Typer(
    name="gitml",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},  # inherited by every command
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
        False, "--version", "-V", callback=_version, is_eager=True, help="Print the version."
    ),
    directory: list[str] = typer.Option(
        None,
        "-C",
        metavar="DIR",
        help="Run as if gitml was started in DIR (like git -C; repeat to go deeper).",
    ),
) -> None:
    """Git-native data and model versioning: snapshots, guards, registry, pipelines.

    Examples:

    \b
      gitml init && gitml add data/train.parquet && git commit -m "data v1"
      gitml -C ../other-repo status
      gitml status --help
    """
    settings.quiet = quiet or settings.quiet
    settings.verbose = verbose or settings.verbose
    settings.traceback = traceback or settings.traceback


# The command modules in listing order, with the commands each registers: a
# run of `gitml <command>` imports only that command's module. A name missing
# here still works (every module is imported); tests/cli/test_startup.py
# checks the table against what the modules register.
_MODULES: dict[str, tuple[str, ...]] = {
    "data": ("init", "add", "status", "diff", "checkout", "rm", "du"),
    "guards": ("guard", "show", "log"),
    "meta": (),  # skipped while gitml/cli/meta.py does not exist
    "registry": ("register", "promote", "demote", "deprecate", "models"),
    "remotes": ("remote", "push", "fetch", "pull", "fsck", "gc"),
    "pipelines": ("repro", "dag", "monitor"),
    "experiments": ("exp",),
    "interop": ("import-dvc",),
    "hooks": ("hooks", "hook", "merge-driver"),
    "shell": ("completion",),
    "config": ("config",),
    "compare": ("metrics", "params", "review", "report"),
    "access": ("get", "import", "update", "ls"),
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


def _change_directory(args: list[str]) -> list[str]:
    """Apply each ``-C DIR`` before the command name, as git does (a relative DIR
    is taken from the previous one; an empty one changes nothing)."""
    i = 0
    rest: list[str] = []
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        if args[i] != "-C":
            rest.append(args[i])
            i += 1
            continue
        if i + 1 >= len(args):
            raise UsageError("option -C needs a folder", "run as: gitml -C DIR COMMAND ...")
        folder = args[i + 1]
        if folder:
            try:
                os.chdir(folder)
            except OSError as exc:
                raise UsageError(
                    f"cannot change to {folder!r}: {exc.strerror}", "-C takes an existing folder"
                ) from None
        i += 2
    return rest + args[i:]


def _usage_error(exc: ClickUsageError) -> None:
    """A usage error from click, in the funnel's words: ``error:`` + ``hint:``."""
    # typer's pydantic adapters prefix a bad value's message with "Value error, "
    message = exc.format_message().replace(": Value error, ", ": ")
    command = exc.ctx.command_path if exc.ctx is not None else "gitml"
    sys.stderr.write(f"error: {message}\nhint: run '{command} --help'\n")
    sys.exit(EXIT_USAGE)


_CLOUD_COMMANDS = ("status", "fsck", "gc")


def _old_remote_flag(args: list[str]) -> list[str]:
    """Until 0.3: ``status|fsck|gc --remote`` with no NAME after it (the old
    "compare with the remote" switch, now ``--cloud``/``-c``) still works, with
    a warning; ``--remote NAME`` is the one spelling that names a remote."""
    command = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
    if command is None or args[command] not in _CLOUD_COMMANDS:
        return args
    out = args[: command + 1]
    rest = args[command + 1 :]
    for i, arg in enumerate(rest):
        if arg == "--":
            return out + rest[i:]
        following = rest[i + 1] if i + 1 < len(rest) else "-"
        if arg == "--remote" and following.startswith("-"):
            sys.stderr.write(
                f"warning: '{args[command]} --remote' without a NAME is deprecated: "
                "use --cloud (-c); -r/--remote NAME names the data remote\n"
            )
            arg = "--cloud"
        out.append(arg)
    return out


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; turn every error into one line and an exit code."""
    from typer import Abort, Exit
    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    settings.quiet = settings.verbose = settings.traceback = False  # main() may run again
    try:
        args = _hoist_global_flags(list(sys.argv[1:] if argv is None else argv))
        args = _old_remote_flag(_change_directory(args))
        full = _register(args)
        if os.environ.get(COMPLETE_VAR):  # the shell asks for completions
            from typer.completion import completion_init  # type: ignore[attr-defined]

            completion_init()
        rc = lazy_root(full).main(
            args=args, prog_name="gitml", complete_var=COMPLETE_VAR, standalone_mode=False
        )
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
    except NoArgsIsHelpError as exc:  # `gitml` or `gitml remote` alone: the help
        exc.show()
        sys.exit(EXIT_USAGE)
    except ClickUsageError as exc:
        _usage_error(exc)
    except ClickException as exc:
        sys.stderr.write(f"error: {exc.format_message()}\n")
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
