"""A clone without gitml's hooks says so on the first gitml command, once."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import git, run_gitml
from tests.testing.team import origin_and_first_clone

NOTICE = "this repository has no gitml hooks"


def _origin(tmp_path: Path) -> Path:
    bare, a = origin_and_first_clone(tmp_path, data_remote=None)
    (a / "x.csv").write_text("x\n")
    run_gitml(a, "add", "x.csv", check=True)
    git(a, "add", "-A")
    git(a, "commit", "-qm", "x")
    git(a, "push", "-q", "origin", "main")
    for _ in range(2):  # the repository that has hooks never says it
        assert NOTICE not in run_gitml(a, "status", check=True).stderr
    return bare


def test_fresh_clone_is_told_once(tmp_path: Path) -> None:
    bare = _origin(tmp_path)
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(bare), str(b))
    first = run_gitml(b, "status", check=True)
    assert f"warning: {NOTICE}" in first.stderr
    assert "gitml hooks install to guard your commits" in first.stderr
    assert NOTICE not in run_gitml(b, "status", check=True).stderr
    assert NOTICE not in run_gitml(b, "diff", check=True).stderr
    assert git(b, "status", "--porcelain") == ""  # nothing tracked was written


def test_clone_that_installs_hooks_first_is_not_told(tmp_path: Path) -> None:
    bare = _origin(tmp_path)
    c = tmp_path / "c"
    git(tmp_path, "clone", "-q", str(bare), str(c))
    run_gitml(c, "hooks", "install", check=True)
    assert NOTICE not in run_gitml(c, "status", check=True).stderr


def test_init_without_hooks_is_a_choice(tmp_path: Path) -> None:
    d = tmp_path / "d"
    d.mkdir()
    git(d, "init", "-q")
    run_gitml(d, "init", "--no-hooks", check=True)
    assert NOTICE not in run_gitml(d, "status", check=True).stderr
