"""Unusual names, empty things, special files."""

from __future__ import annotations

import os
import shutil
import unicodedata
from pathlib import Path

from gitml.errors import EXIT_REPO
from tests.conftest import Cli, git


def test_unusual_names_round_trip(repo: Path, cli: Cli) -> None:
    names = [
        "with space.csv",
        unicodedata.normalize("NFC", "café.csv"),
        unicodedata.normalize("NFD", "café.csv"),
        "-leading-dash.csv",
        "tab\there.csv",
        "x" * 250 + ".csv",
        "#hash",
        "!bang",
        "star*.csv",
    ]
    data = repo / "data"
    data.mkdir()
    for i, name in enumerate(names):
        (data / name).write_text(f"row {i}\n")
    (data / "empty.csv").write_bytes(b"")
    cli("add", "data")
    git(repo, "commit", "-qm", "names")
    shutil.rmtree(data)
    cli("checkout")
    for i, name in enumerate(names):
        assert (data / name).read_text() == f"row {i}\n"
    assert (data / "empty.csv").read_bytes() == b""


def test_newline_in_a_name_is_refused_clearly(repo: Path, cli: Cli) -> None:
    (repo / "data").mkdir()
    (repo / "data" / "bad\nname.csv").write_text("x")
    result = cli("add", "data", expect=2)
    assert "forbidden character" in result.err
    assert not (repo / "data.gitml").exists()


def test_empty_dir_and_empty_file(repo: Path, cli: Cli) -> None:
    (repo / "empty").mkdir()
    (repo / "zero.bin").write_bytes(b"")
    cli("add", "empty", "zero.bin")
    assert "nfiles: 0" in (repo / "empty.gitml").read_text()
    shutil.rmtree(repo / "empty")
    (repo / "zero.bin").unlink()
    cli("checkout")
    assert (repo / "empty").is_dir()
    assert (repo / "zero.bin").read_bytes() == b""


def test_fifo_is_skipped_with_a_warning(repo: Path, cli: Cli) -> None:
    (repo / "data").mkdir()
    (repo / "data" / "a.csv").write_text("a")
    os.mkfifo(repo / "data" / "pipe")
    result = cli("add", "data")
    assert "skipped data/pipe" in result.err
    assert "nfiles: 1" in (repo / "data.gitml").read_text()


def test_symlink_inside_dir_is_refused_clearly(repo: Path, cli: Cli, tmp_path: Path) -> None:
    (repo / "data").mkdir()
    secret = tmp_path / "secret"
    secret.write_text("secret")
    os.symlink(secret, repo / "data" / "link")
    result = cli("add", "data", expect=2)
    assert "symlink" in result.err
    assert not (repo / "data.gitml").exists()


def test_path_inside_dot_git_is_refused(repo: Path, cli: Cli) -> None:
    result = cli("add", ".git/config", expect=None)
    assert result.code == EXIT_REPO and ".git" in result.err
