"""One resolver: every command that takes a revision takes a registry reference."""

from __future__ import annotations

import json

import pytest

from gitml import api
from gitml.context import open_repo
from gitml.errors import GitError, RegistryError
from gitml.registry.revision import resolve_revision
from tests.compare.conftest import History
from tests.conftest import Cli, git


def test_every_spelling_names_its_commit(history: History) -> None:
    git(history.root, "tag", "plain-tag", history.v1)
    git(history.root, "branch", "old", history.v1)
    ctx = open_repo(history.root)
    try:
        expected = {
            "HEAD": history.v2,
            "HEAD~1": history.v1,
            "main": history.v2,
            "old": history.v1,
            "plain-tag": history.v1,
            history.v1[:10]: history.v1,
            "churn@v1": history.v1,
            "churn@v1.0.0": history.v1,
            "churn@v2": history.v2,
            "churn@latest": history.v2,
            "churn#prod": history.v1,
        }
        got = {text: resolve_revision(ctx, text).commit for text in expected}
        assert got == expected
        prod = resolve_revision(ctx, "churn#prod")
        assert (prod.artifact, prod.version, prod.label) == ("churn", "v1.0.0", "churn#prod")
    finally:
        ctx.close()


def test_mistyped_artifact_names_the_ones_that_exist(history: History, cli: Cli) -> None:
    for args in (["diff", "chrun@v1", "churn#prod"], ["metrics", "diff", "chrun@v1"],
                 ["params", "diff", "HEAD", "chrun#prod"], ["show", "chrun@latest"],
                 ["log", "--rev", "chrun@v1"], ["metrics", "show", "chrun@v1"]):  # fmt: skip
        result = cli(*args, expect=1)
        assert result.err == (
            "error: no artifact 'chrun' in the registry\n"
            "hint: did you mean 'churn'? artifacts: churn\n"
        ), args
        assert result.out == ""


def test_unknown_version_and_stage_say_what_exists(history: History, cli: Cli) -> None:
    assert cli("diff", "churn@v7", expect=1).err == (
        "error: no registered release matches churn@v7\nhint: registered versions: v2.0.0, v1.0.0\n"
    )
    assert cli("diff", "churn#staging", expect=1).err == (
        "error: no version of 'churn' is in stage 'staging'\nhint: stages: prod=v1.0.0\n"
    )
    err = cli("diff", "nosuchbranch", expect=3).err
    assert err.startswith("error: unknown revision 'nosuchbranch'\nhint: give a commit")


def test_diff_between_registry_refs(history: History, cli: Cli) -> None:
    out = cli("diff", "churn@v1", "churn#prod").out
    assert out == "No changes in tracked data between churn@v1 and churn#prod.\n"
    doc = json.loads(cli("diff", "churn#prod", "churn@latest", "--json").out)
    assert (doc["old"], doc["new"]) == ("churn#prod", "churn@latest")
    [path] = doc["paths"]
    assert path["path"] == "models/churn.pkl"
    assert [(c["change"], c["old_size"], c["new_size"]) for c in path["changes"]] == [
        ("modified", 9, 10)
    ]
    md = cli("diff", "churn#prod", "churn@latest", "--md").out
    assert "| models/churn.pkl | modified | 9 B | 10 B |" in md


def test_show_log_and_checkout_take_registry_refs(history: History, cli: Cli) -> None:
    # no hooks: no notes, so show says so about the right commit
    err = cli("show", "churn#prod", expect=2).err
    assert err.startswith(f"error: commit {history.v1[:12]} has no gitml metadata\n")
    assert cli("log", "--rev", "churn#prod", "--json").out.count('"commit"') == 1
    cli("checkout", "models/churn.pkl@churn#prod", "--force")
    assert (history.root / "models" / "churn.pkl").read_text() == "model one"


def test_python_api_takes_registry_refs(history: History) -> None:
    result = api.diff("churn@v1", "churn@latest")
    assert (result.old, result.new) == ("churn@v1", "churn@latest")
    assert [p.path for p in result.paths] == ["models/churn.pkl"]
    assert [r.commit for r in api.log(rev="churn#prod")] == [history.v1]
    with pytest.raises(RegistryError, match="no artifact 'chrun'"):
        api.metrics_diff("chrun@v1")
    with pytest.raises(GitError, match="unknown revision"):
        api.params_diff("HEAD~9")
