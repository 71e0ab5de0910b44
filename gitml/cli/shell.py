"""`gitml completion bash|zsh|fish`: the shell's completion script.

The script calls ``gitml`` back with ``_GITML_COMPLETE`` set; ``main()`` then
lets typer's (click's) completion answer instead of running a command.
"""

from __future__ import annotations

from enum import StrEnum

import typer


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion(shell: Shell = typer.Argument(..., help="The shell to complete in.")) -> None:
    """Print the shell completion script for gitml.

    Examples:

    \b
      eval "$(gitml completion bash)"        # in ~/.bashrc
      gitml completion zsh > ~/.zfunc/_gitml  # zsh, with ~/.zfunc on fpath
      gitml completion fish > ~/.config/fish/completions/gitml.fish
    """
    # typer.completion's public module re-exports these without __all__.
    from typer.completion import (  # type: ignore[attr-defined]
        completion_init,
        get_completion_script,
    )

    from gitml.cli.app import COMPLETE_VAR

    completion_init()
    script = get_completion_script(prog_name="gitml", complete_var=COMPLETE_VAR, shell=shell.value)
    typer.echo(script)


def register(app: typer.Typer) -> None:
    app.command("completion")(completion)
