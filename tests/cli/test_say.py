"""``say`` skips Rich for plain text, and prints exactly what Rich would."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from gitml.cli import output

MESSAGES = [
    "No tracked data. Track some with: gitml add PATH",
    "pushed 9 objects (2.1 GB), 0 already there",
    "two\nlines",
    "[bold]marked[/] up",
    "an :smile: emoji",
    "a\ttab",
    "ends with a colon:",
    "x::y",
]


@pytest.mark.parametrize("message", MESSAGES)
def test_say_prints_what_rich_prints(message: str, capsys: pytest.CaptureFixture[str]) -> None:
    rich_out = io.StringIO()
    Console(file=rich_out, highlight=False, soft_wrap=True, width=160).print(message)
    output.say(message)
    assert capsys.readouterr().out == rich_out.getvalue()


def test_plain_is_only_what_rich_leaves_alone() -> None:
    assert output._plain("No tracked data. Track some with: gitml add PATH")
    assert not output._plain("[red]x[/]")
    assert not output._plain("an :smile: emoji")
    assert not output._plain("a\ttab")
    assert not output._plain("bell\x07")
