"""Typer's value coercion without importing pydantic for plain values.

Typer coerces each parameter value through a pydantic ``TypeAdapter``, built
the first time the parameter is processed, even when the value is absent
(``--help`` not given, an optional argument left out). Importing pydantic and
building adapters costs ~0.2 s on a small machine, paid by nearly every
command. Here each parameter gets a stand-in: absent values are handled by
typer's own base class as before; ``str`` and ``list[str]`` values made of
``str`` come back as typer's adapter returns them (unchanged, as a list), so
do ``int`` values spelt with a few ASCII digits (tests/cli/test_startup.py
checks all three against the adapter); anything else goes to typer's adapter,
built on first need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from typer._click import Command, Context, Parameter
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer.core import TyperArgument, TyperGroup, TyperOption

_LIST_OF_STR = list[str]


@dataclass(frozen=True)
class _Deferred(RuntimeParam):
    """Coercion of one parameter; pydantic only for values that need it."""

    descriptor: TypeDescriptor

    def _coerce_value(self, value: Any, param: Any, ctx: Context) -> Any:
        info = self.parameter_info
        if info.parser is None and self.descriptor.file_annotation is None:
            if self.annotation is str and type(value) is str:
                return value
            if (
                self.annotation == _LIST_OF_STR
                and isinstance(value, list | tuple)
                and all(type(v) is str for v in value)
            ):
                return list(value)
            if (
                self.annotation is int
                and info.min is None
                and info.max is None
                and type(value) is str
                and value.isascii()
                and value.isdigit()
                and len(value) <= 18
            ):
                return int(value)
        real = build_runtime_param(self.descriptor)
        param._runtime_param = real  # later values go straight to typer's adapter
        return real._coerce_value(value, param=param, ctx=ctx)


def _defer(param: Parameter) -> None:
    if isinstance(param, TyperArgument | TyperOption) and param._runtime_param is None:
        desc = param.type_descriptor
        param._runtime_param = _Deferred(
            parameter_info=desc.parameter_info, annotation=desc.annotation, descriptor=desc
        )


def defer_coercion(command: Command) -> Command:
    """Give every parameter of ``command`` and its subcommands the stand-in,
    including the ``--help`` option click creates on first use."""
    for param in command.params:
        _defer(param)
    make_help = command.get_help_option

    def get_help_option(ctx: Context) -> TyperOption | None:
        option = make_help(ctx)
        if option is not None:
            _defer(option)
        return option

    # An instance attribute: this command only, not typer's class.
    help_getter: Callable[[Context], TyperOption | None] = get_help_option
    setattr(command, "get_help_option", help_getter)  # noqa: B010
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            defer_coercion(sub)
    return command
