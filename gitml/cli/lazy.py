"""The ``gitml`` command tree, built by typer one command at a time.

Typer turns every registered function into a click command before running
any: it reads each signature and evaluates its annotations, ~30 times per
invocation. Here the root group starts with a placeholder per command that
carries only what ``gitml --help`` lists (name, short help, hidden); the real
command is built by typer, with the root's settings, when click asks for it by
name. The help and the behaviour are typer's own: tests/cli/test_startup.py
compares every ``--help`` with a full typer build.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from typer._click import Command, Context, HelpFormatter


class LazyGroup(TyperGroup):
    """A group whose subcommands are placeholders until one is asked for."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._builders: dict[str, Callable[[], Command]] = {}
        self._listing = False

    def defer(self, placeholder: Command, build: Callable[[], Command]) -> None:
        """List ``placeholder`` under its name; run ``build`` when it is used."""
        assert placeholder.name, "lazy commands need a name"
        self.commands[placeholder.name] = placeholder
        self._builders[placeholder.name] = build

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if not self._listing and cmd_name in self._builders:
            self.commands[cmd_name] = self._builders.pop(cmd_name)()
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        # The listing reads only the placeholders' short help: build nothing.
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False


def lazy_root(app: typer.Typer) -> Command:
    """``app`` as a click group whose subcommands typer builds on demand."""
    try:  # typer internals (as of typer 0.29); without them, build it all
        from typer.main import (
            get_command_from_info,
            get_command_name,
            get_group,
            get_group_from_info,
            solve_typer_info_defaults,
        )

        from gitml.cli.coercion import defer_coercion
    except ImportError:  # pragma: no cover - depends on the installed typer
        return typer.main.get_command(app)

    def built(make: Callable[[], Command]) -> Callable[[], Command]:
        return lambda: defer_coercion(make())

    markup = app.rich_markup_mode
    short = app.pretty_exceptions_short
    shell = copy.copy(app)  # the root's own options and callback, no commands
    shell.registered_commands, shell.registered_groups = [], []
    root = get_group(shell)
    assert isinstance(root, LazyGroup), "the app must be typer.Typer(cls=LazyGroup)"
    defer_coercion(root)
    # Commands before groups, each in registration order: typer's listing order.
    for info in app.registered_commands:
        assert info.callback is not None
        doc = inspect.getdoc(info.callback) if info.help is None else inspect.cleandoc(info.help)
        placeholder = TyperCommand(
            info.name or get_command_name(info.callback.__name__),
            help=doc,
            short_help=info.short_help,
            hidden=info.hidden,
            deprecated=info.deprecated,
        )
        make = partial(
            get_command_from_info, info, pretty_exceptions_short=short, rich_markup_mode=markup
        )
        root.defer(placeholder, built(make))
    for group_info in app.registered_groups:
        solved = solve_typer_info_defaults(group_info)
        placeholder = TyperCommand(
            solved.name,
            help=solved.help,
            short_help=solved.short_help,
            hidden=solved.hidden,
            deprecated=solved.deprecated,
        )
        make_group = partial(
            get_group_from_info,
            group_info,
            pretty_exceptions_short=short,
            rich_markup_mode=markup,
            suggest_commands=app.suggest_commands,
        )
        root.defer(placeholder, built(make_group))
    return root
