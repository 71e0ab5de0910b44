"""A team's starting point: a bare git origin and the first clone that pushes to it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import git, run_gitml


def origin_and_first_clone(
    tmp_path: Path,
    *,
    hooks: bool = True,
    data_remote: str | None = "origin",
    env: dict[str, str] | None = None,
) -> tuple[Path, Path]:
    """``tmp_path/origin.git`` (bare) and ``tmp_path/a``: git and gitml initialised,
    git remote ``origin``, and unless ``data_remote`` is None a folder data remote
    of that name at ``tmp_path/store``. Returns (bare, a)."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    a = tmp_path / "a"
    a.mkdir()
    git(a, "init", "-q", "-b", "main")
    run_gitml(a, "init", *([] if hooks else ["--no-hooks"]), check=True, env=env)
    git(a, "remote", "add", "origin", str(bare))
    if data_remote is not None:
        run_gitml(a, "remote", "add", data_remote, str(tmp_path / "store"), check=True, env=env)
    return bare, a
