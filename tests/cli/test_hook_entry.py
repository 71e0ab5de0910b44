"""`gitml hook NAME`, the entry point of the installed hook script: it fails
closed for the hooks that guard a commit or a push."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from gitml import api
from gitml.errors import EXIT_REPO, EXIT_USAGE
from tests.conftest import Cli


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_pre_push_fails_closed_when_its_check_is_missing(
    repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault: the API lost the function (a broken install, a refactor). The push
    # must stop, not go through unchecked.
    monkeypatch.delitem(api._LAZY, "push_for_hook")
    _stdin(monkeypatch, b"refs/heads/main " + b"1" * 40 + b" refs/heads/main " + b"0" * 40 + b"\n")
    result = cli("hook", "pre-push", "origin", "url", expect=None)
    assert result.code == EXIT_REPO
    assert "error: internal error: AttributeError" in result.err


def test_an_unknown_hook_name_is_a_usage_error(repo: Path, cli: Cli) -> None:
    result = cli("hook", "pre-comit", expect=None)
    assert result.code == EXIT_USAGE
    assert result.err.splitlines()[0] == "error: unknown hook 'pre-comit'"
    assert result.err.splitlines()[1].startswith("hint: gitml runs pre-commit, post-commit")
