"""`gitml remote add|list|modify|default|rename|remove` and folder remotes that
do not exist (a typo must not start a second store)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import cast

from tests.conftest import Cli, git


def _tracked(repo: Path) -> dict[str, object]:
    return tomllib.loads((repo / ".gitml" / "config.toml").read_text())


def _local(repo: Path) -> dict[str, object]:
    path = repo / ".gitml" / "config.local.toml"
    return tomllib.loads(path.read_text()) if path.exists() else {}


def test_rename_moves_both_sections_and_the_default(repo: Path, cli: Cli, tmp_path: Path) -> None:
    cli("remote", "add", "origin", str(tmp_path / "store"), "--default")
    cli("remote", "modify", "origin", "password", "s3cret", "--local")
    cli("config", "set", "--local", "core.remote", "origin")
    (repo / ".gitml" / "config.toml").write_text(
        "# team settings\n" + (repo / ".gitml" / "config.toml").read_text()
    )
    out = cli("remote", "rename", "origin", "store").out
    assert "renamed remote origin to store" in out
    tracked, local = _tracked(repo), _local(repo)
    assert tracked["core"] == {"remote": "store"}  # type: ignore[comparison-overlap]
    assert list(cast("dict[str, object]", tracked["remote"])) == ["store"]
    assert local["remote"] == {"store": {"password": "s3cret"}}
    assert local["core"] == {"remote": "store"}
    assert (repo / ".gitml" / "config.toml").read_text().startswith("# team settings\n")
    rows = json.loads(cli("remote", "list", "--json").out)
    assert [(r["name"], r["default"]) for r in rows] == [("store", True)]
    assert ".gitml/config.toml" in git(repo, "diff", "--cached", "--name-only")


def test_rename_refuses_unknown_and_taken_names(repo: Path, cli: Cli, tmp_path: Path) -> None:
    cli("remote", "add", "a", str(tmp_path / "a"))
    cli("remote", "add", "b", str(tmp_path / "b"))
    before = (repo / ".gitml" / "config.toml").read_bytes()
    res = cli("remote", "rename", "nope", "c", expect=2)
    assert "error: no data remote named 'nope'" in res.err
    res = cli("remote", "rename", "a", "b", expect=2)
    assert "error: a data remote named 'b' exists already" in res.err
    res = cli("remote", "rename", "a", "-x", expect=2)
    assert (repo / ".gitml" / "config.toml").read_bytes() == before


def test_modify_sets_and_unsets_with_the_config_rules(repo: Path, cli: Cli, tmp_path: Path) -> None:
    cli("remote", "add", "s3", "s3://bucket/prefix")
    cli("remote", "modify", "s3", "region", "eu-west-1")
    cli("remote", "modify", "s3", "timeout", "30")
    body = _tracked(repo)["remote"]["s3"]  # type: ignore[index]
    assert body == {"url": "s3://bucket/prefix", "region": "eu-west-1", "timeout": 30}
    res = cli("remote", "modify", "s3", "secret_access_key", "x", expect=2)
    assert "is a secret" in res.err and "--local" in res.err
    assert "secret_access_key" not in (repo / ".gitml" / "config.toml").read_text()
    cli("remote", "modify", "s3", "secret_access_key", "x", "--local")
    assert _local(repo)["remote"] == {"s3": {"secret_access_key": "x"}}
    assert "unset remote.s3.region" in cli("remote", "modify", "s3", "region", "--unset").out
    assert "region" not in _tracked(repo)["remote"]["s3"]  # type: ignore[index]
    res = cli("remote", "modify", "s3", "colour", "red", expect=2)
    assert "unknown config key" in res.err
    res = cli("remote", "modify", "nope", "region", "x", expect=2)
    assert "no data remote named 'nope'" in res.err
    res = cli("remote", "modify", "s3", "url", "--unset", expect=2)
    assert "needs its url" in res.err


def test_default_shows_sets_and_unsets(repo: Path, cli: Cli, tmp_path: Path) -> None:
    cli("remote", "add", "a", str(tmp_path / "a"))
    cli("remote", "add", "b", str(tmp_path / "b"))
    assert cli("remote", "default").out.strip() == "a"  # the first one added
    cli("remote", "default", "b")
    assert json.loads(cli("remote", "default", "--json").out)["default"] == "b"
    res = cli("remote", "default", "zzz", expect=2)
    assert "no data remote named 'zzz'" in res.err
    cli("remote", "default", "--unset")
    assert "remote" not in _tracked(repo).get("core", {})  # type: ignore[operator]
    res = cli("remote", "default", expect=2)
    assert "no default data remote" in res.err


def test_push_to_a_missing_folder_fails_unless_create(repo: Path, cli: Cli, tmp_path: Path) -> None:
    (repo / "x.bin").write_bytes(b"data")
    cli("add", "x.bin")
    res = cli("remote", "add", "typo", str(tmp_path / "no-such-mount" / "store"))
    assert "does not exist (a typo?)" in res.err
    res = cli("push", expect=4)
    assert "is a folder that does not exist" in res.err
    assert "gitml push --create" in res.err
    assert not (tmp_path / "no-such-mount").exists()
    cli("push", "--create")
    assert any((tmp_path / "no-such-mount" / "store").rglob("*"))


def test_add_creates_a_new_folder_whose_parent_exists(repo: Path, cli: Cli, tmp_path: Path) -> None:
    (repo / "x.bin").write_bytes(b"data")
    cli("add", "x.bin")
    res = cli("remote", "add", "origin", str(tmp_path / "store"))
    assert "typo" not in res.err
    assert (tmp_path / "store").is_dir()
    cli("push")
    (tmp_path / "store").rename(tmp_path / "moved")  # gone: a later push refuses
    res = cli("push", expect=4)
    assert "is a folder that does not exist" in res.err
    assert not (tmp_path / "store").exists()


def test_fetch_from_a_missing_folder_names_it(repo: Path, cli: Cli, tmp_path: Path) -> None:
    (repo / "x.bin").write_bytes(b"data")
    cli("add", "x.bin")
    cli("remote", "add", "origin", str(tmp_path / "store"))
    cli("push")
    (tmp_path / "store").rename(tmp_path / "elsewhere")  # not mounted on this machine
    res = cli("fetch", expect=4)
    assert f"is a folder that does not exist: {tmp_path / 'store'}" in res.err
    assert "or mount it" in res.err
    assert not (tmp_path / "store").exists()
