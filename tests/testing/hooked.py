"""A repository with gitml's real git hooks installed, and the git calls its tests make."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, git


def hooked_repo(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: Cli,
    *,
    gitml_yaml: str,
    files: dict[str, str | bytes],
) -> Path:
    """``git init`` + ``gitml init`` (hooks installed), then ``files`` written; the cwd."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    monkeypatch.chdir(root)
    cli("init")
    (root / "gitml.yaml").write_text(gitml_yaml)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def commit(root: Path, message: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """``git commit`` through the hooks; the caller asserts on the outcome."""
    return subprocess.run(
        ["git", "commit", "-m", message, *extra], cwd=root, capture_output=True, text=True
    )


def note(root: Path, rev: str = "HEAD") -> dict[str, Any]:
    """The gitml note of ``rev``, decoded (it must exist)."""
    from gitml.meta.document import parse_note

    doc = parse_note(git(root, "notes", "--ref=gitml", "show", rev))
    assert doc is not None
    return doc
