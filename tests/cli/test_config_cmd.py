"""gitml config get|set|unset|list [--local] [--json], and the library API behind it."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from gitml import api
from tests.conftest import Cli, git

CONFIG = Path(".gitml/config.toml")
LOCAL = Path(".gitml/config.local.toml")


def test_set_get_unset_round_trip(repo: Path, cli: Cli) -> None:
    assert cli("config", "set", "core.jobs", "4").out == "set core.jobs in .gitml/config.toml\n"
    assert tomllib.loads((repo / CONFIG).read_text())["core"]["jobs"] == 4
    assert ".gitml/config.toml" in git(repo, "diff", "--cached", "--name-only")
    assert cli("config", "get", "core.jobs").out == "4\n"
    cli("config", "set", "--local", "core.jobs", "2")
    assert cli("config", "get", "core.jobs").out == "2\n"  # local wins
    assert cli("config", "get", "--local", "core.jobs").out == "2\n"
    assert cli("config", "unset", "--local", "core.jobs").out == "unset core.jobs\n"
    assert cli("config", "get", "core.jobs").out == "4\n"
    cli("config", "unset", "core.jobs")
    got = json.loads(cli("config", "get", "core.jobs", "--json").out)
    assert got == {
        "schema": "gitml.config.get/1",
        "key": "core.jobs",
        "value": 8,
        "source": "default",
        "state": "in use",
        "note": "",
    }
    err = cli("config", "unset", "core.jobs", expect=1).err
    assert err == "core.jobs is not set in .gitml/config.toml\n"
    assert cli("config", "get", "--local", "core.jobs", expect=1).out == ""


def test_unknown_keys_and_bad_values_get_a_did_you_mean(repo: Path, cli: Cli) -> None:
    lines = cli("config", "get", "cache.lnk", expect=2).err.splitlines()
    assert lines[0] == "error: unknown config key 'cache.lnk' (did you mean 'cache.link'?)"
    assert lines[1].startswith("hint: known keys: core.remote, core.lock_timeout")
    err = cli("config", "set", "cache.link", "cpy", expect=2).err
    assert err.startswith(
        "error: cache.link must be one of auto, reflink, hardlink, symlink, copy, not 'cpy' "
        "(did you mean 'copy'?)"
    )
    err = cli("config", "set", "remote.origin.urll", "x", expect=2).err
    assert "(did you mean 'remote.NAME.url'?)" in err
    err = cli("config", "set", "core.jobs", "many", expect=2).err
    assert err == "error: core.jobs must be an integer, not 'many'\n"
    err = cli("config", "set", "remote.a b.url", "/x", expect=2).err
    assert err.startswith("error: invalid remote name 'a b'")


def test_set_remote_url_is_checked_like_remote_add(repo: Path, cli: Cli) -> None:
    before = (repo / CONFIG).read_bytes()
    err = cli("config", "set", "remote.o.endpoint_url", "http://k:SECRETX@h:1", expect=2).err
    assert "contains credentials" in err and "SECRETX" not in err
    assert (repo / CONFIG).read_bytes() == before


def test_list_shows_sources_and_refused_values(repo: Path, cli: Cli, tmp_path: Path) -> None:
    (repo / CONFIG).write_text(
        f'# header\n[cache]\nlink = "hardlink"\ndir = "{tmp_path / "elsewhere"}"\n\n'
        '[remote.origin]\nurl = "/srv/data"\n'
    )
    cli("config", "set", "--local", "remote.origin.secret_access_key", "s3cr3t-value")
    cli("config", "set", "--local", "core.jobs", "3")
    listing = json.loads(cli("config", "list", "--json").out)
    assert listing["schema"] == "gitml.config.list/1" and listing["error"] is None
    rows = {(e["key"], e["source"]): e for e in listing["entries"]}
    assert rows[("cache.link", "tracked")]["state"] == "refused"
    assert rows[("cache.dir", "tracked")]["state"] == "refused"
    assert "outside the repository" in rows[("cache.dir", "tracked")]["note"]
    assert rows[("remote.origin.url", "tracked")]["state"] == "in use"
    assert rows[("remote.origin.secret_access_key", "local")]["value"] == "***"
    assert rows[("core.jobs", "local")]["value"] == 3
    text = cli("config", "list").out
    assert "s3cr3t-value" not in text
    assert "cache.link = hardlink  tracked  [refused]  (hardlink and symlink" in text
    assert cli("config", "get", "cache.link").out == "auto\n"  # what gitml uses
    local_only = json.loads(cli("config", "list", "--local", "--json").out)["entries"]
    assert {e["source"] for e in local_only} == {"local"}


def test_config_repairs_a_config_that_does_not_load(repo: Path, cli: Cli) -> None:
    (repo / LOCAL).write_text('[cache]\nlink = "bogus"\n')
    err = cli("status", expect=3).err
    assert "hint: gitml config set --local cache.link auto" in err
    listing = json.loads(cli("config", "list", "--json").out)
    assert "cache.link = 'bogus' is not one of" in listing["error"]
    cli("config", "set", "--local", "cache.link", "auto")  # the hinted fix works
    cli("status")


def test_local_writes_keep_comments_and_stay_untracked(repo: Path, cli: Cli) -> None:
    (repo / LOCAL).write_text("# my machine only\n[core]\njobs = 2  # slow laptop\n")
    cli("config", "set", "--local", "core.lock_timeout", "5")
    text = (repo / LOCAL).read_text()
    assert text.startswith("# my machine only\n[core]\njobs = 2  # slow laptop\n")
    assert "lock_timeout = 5" in text
    assert "config.local.toml" not in git(repo, "status", "--porcelain", "--ignored=no")


def test_library_api(repo: Path) -> None:
    api.config_set("remote.origin.url", "/srv/data")
    api.config_set("remote.origin.timeout", "42.5", local=True)
    entry = api.config_get("remote.origin.timeout")
    assert entry is not None and (entry.value, entry.source) == (42.5, "local")
    assert api.config_get("remote.origin.region") is None
    keys = {(e.key, e.source) for e in api.config_list().entries}
    assert keys >= {("remote.origin.url", "tracked"), ("remote.origin.timeout", "local")}
    assert api.config_unset("remote.origin.timeout", local=True)
    assert not api.config_unset("remote.origin.timeout", local=True)
    from gitml.context import open_repo

    assert open_repo(repo).config.remote("origin").timeout == 300.0
