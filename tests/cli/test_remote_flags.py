"""One meaning per flag: -r/--remote NAME chooses a data remote; -c/--cloud
makes status, fsck and gc work on it (and the old bare --remote still does,
with a warning)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitml.errors import EXIT_CHECK_FAILED, EXIT_USAGE
from tests.conftest import Cli


@pytest.fixture
def pushed(repo: Path, cli: Cli, tmp_path: Path) -> Path:
    (repo / "a.csv").write_text("a\n")
    cli("add", "a.csv")
    cli("remote", "add", "origin", str(tmp_path / "store"), "--default")
    cli("remote", "add", "spare", str(tmp_path / "spare"))
    cli("push")
    return repo


def test_cloud_and_remote_name(pushed: Path, cli: Cli) -> None:
    for flags in (["--cloud"], ["-c"], ["-r", "origin"], ["--remote", "origin"]):
        doc = json.loads(cli("status", *flags, "--json").out)
        assert (doc["remote"], doc["not_pushed"], doc["total"]) == ("origin", {}, 1), flags
    assert json.loads(cli("status", "-r", "spare", "--json").out)["remote"] == "spare"
    assert len(json.loads(cli("status", "-c", "-r", "spare", "--json").out)["not_pushed"]) == 1
    assert json.loads(cli("fsck", "-c", "--json").out)["missing"] == {}
    assert json.loads(cli("fsck", "-r", "spare", "--json", expect=1).out)["missing"] != {}
    # -r implies --cloud for gc too: remote gc needs the git remote's refs
    r = cli("gc", "-r", "origin", "--dry-run", expect=EXIT_CHECK_FAILED)
    assert r.err.startswith("error: remote gc needs the branches and tags on the git remote")
    r = cli("status", "-r", "nowhere", expect=EXIT_USAGE)
    assert r.err == "error: no data remote named 'nowhere' (remotes: origin, spare)\n" + (
        "hint: gitml remote list\n"
    )


@pytest.mark.parametrize("command", ["status", "fsck", "gc"])
def test_bare_remote_is_the_deprecated_cloud(pushed: Path, cli: Cli, command: str) -> None:
    extra, code = (["--dry-run"], EXIT_CHECK_FAILED) if command == "gc" else ([], 0)
    old = cli(command, "--remote", *extra, "--json", expect=code)
    new = cli(command, "--cloud", *extra, "--json", expect=code)
    warning, _, rest = old.err.partition("\n")
    assert warning == (
        f"warning: '{command} --remote' without a NAME is deprecated: "
        "use --cloud (-c); -r/--remote NAME names the data remote"
    )
    assert (old.out, rest) == (new.out, new.err)
