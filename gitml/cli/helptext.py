"""How parameters read in ``--help``: choices spelt out, no Python type names.

Typer 0.29 shows each parameter's Python type (``targets... <list[str]>``,
``--jobs <int>``). Here, for every command typer builds (lazily or not):
an argument shows only its name, unless it takes one of a few values
(``shell <bash|zsh|fish>``); an option shows what it takes: its choices
(``--bump major|minor|patch``), ``N`` for a count, ``NUMBER`` for a float,
else its own name (``--remote REMOTE``). typer is pinned to <0.30 in
pyproject.toml for these class hooks; tests/cli/test_conventions.py checks the
result on every command.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperOption

_ORIGINAL = TyperArgument.display_type  # TyperOption inherits the same method
_BY_TYPE = {int: "N", float: "NUMBER"}
# Options whose own name would not say what they take.
_BY_NAME = {"remote": "NAME", "remote_name": "NAME", "output": "PATH", "data": "PATH",
            "message": "TEXT", "metric": "NAME"}  # fmt: skip


def _choices(param: TyperArgument | TyperOption, ctx: Any) -> str | None:
    if not param.type_descriptor.is_choice:
        return None
    shown = _ORIGINAL(param, ctx).strip("<>")
    return shown.removeprefix("list[").removesuffix("]")


def _argument_type(self: TyperArgument, ctx: Any) -> str:
    choices = _choices(self, ctx)
    return f"<{choices}>" if choices else ""


def _option_type(self: TyperOption, ctx: Any) -> str:
    choices = _choices(self, ctx)
    if choices:
        return choices
    annotation = self.type_descriptor.annotation
    base = annotation.__args__[0] if self.type_descriptor.is_list else annotation
    name = self.name or "value"
    return _BY_TYPE.get(base) or _BY_NAME.get(name) or name.upper()


def install() -> None:
    """Put the display hooks on typer's parameter classes (idempotent)."""
    TyperArgument.display_type = _argument_type  # type: ignore[method-assign,assignment]
    TyperOption.display_type = _option_type  # type: ignore[method-assign,assignment]
