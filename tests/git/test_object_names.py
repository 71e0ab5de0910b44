"""One rule for a full git object name: 40 or 64 lowercase hex characters, nothing more."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitml.errors import GitError
from gitml.git.refname import is_git_oid
from gitml.git.repo import GitRepo


@pytest.mark.parametrize(
    ("text", "ok"),
    [("a" * 40, True), ("0" * 64, True), ("a" * 40 + "\n", False), ("A" * 40, False),
     ("a" * 41, False), ("", False), (None, False)],
)  # fmt: skip
def test_is_git_oid(text: object, ok: bool) -> None:
    assert is_git_oid(text) is ok


def test_a_name_with_a_newline_never_reaches_the_batch_process(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    blob = (
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"], cwd=tmp_path, input=b"x", capture_output=True
        )
        .stdout.decode()
        .strip()
    )
    repo = GitRepo.discover(tmp_path)
    try:
        assert repo.read_blobs([blob]) == {blob: b"x"}
        with pytest.raises(GitError, match="not an object id"):
            repo.read_blobs([blob + "\n"])
    finally:
        repo.close()
