"""metrics show/diff and params diff from the committed files, registry refs included."""

from __future__ import annotations

import json
from pathlib import Path

from tests.compare.conftest import History
from tests.conftest import Cli, git


def test_metrics_diff_between_registry_refs_from_files_without_notes(
    history: History, cli: Cli
) -> None:
    # the fixture's commits were made without hooks: there is no note anywhere
    assert git(history.root, "notes", "--ref=gitml", "list", check=False) == ""
    doc = json.loads(cli("metrics", "diff", "churn#prod", "churn@latest", "--json").out)
    assert doc["schema"] == "gitml.metrics-diff/1"
    assert doc["old"] == {"rev": "churn#prod", "commit": history.v1}
    assert doc["new"] == {"rev": "churn@latest", "commit": history.v2}
    assert doc["files"] == {"metrics.json": {"old": "file", "new": "file"}}
    rows = {c["key"]: c for c in doc["changes"]}
    assert sorted(rows) == ["accuracy", "eval.auc", "f1"]  # rows unchanged: left out
    assert rows["accuracy"]["change"] == "modified"
    assert rows["accuracy"]["delta"] == 0.85 - 0.8
    assert rows["accuracy"]["pct"] == (0.85 - 0.8) / 0.8 * 100
    assert rows["f1"] == {"file": "metrics.json", "key": "f1", "old": None, "new": 0.6,
                          "change": "added", "delta": None, "pct": None}  # fmt: skip
    everything = json.loads(cli("metrics", "diff", "churn@v1", "churn@v2", "--all", "--json").out)
    assert [c["key"] for c in everything["changes"]] == ["accuracy", "eval.auc", "f1", "rows"]
    assert everything["changes"][3]["change"] == "unchanged"


def test_metrics_diff_text_and_markdown(history: History, cli: Cli) -> None:
    text = cli("metrics", "diff", "churn#prod", "churn@latest").out.splitlines()
    assert text[0].split() == ["file", "metric", "churn#prod", "churn@latest", "change", "%"]
    assert text[1].split() == ["metrics.json", "accuracy", "0.8", "0.85", "+0.05", "+6.25%"]
    assert text[2].split() == ["metrics.json", "eval.auc", "0.7", "0.75", "+0.05", "+7.14%"]
    assert text[3].split() == ["metrics.json", "f1", "-", "0.6"]
    md = cli("metrics", "diff", "HEAD~1", "HEAD", "--md").out
    assert md.splitlines()[:4] == [
        "**metrics: 3 changed** between `HEAD~1` and `HEAD`",
        "",
        "| file | metric | HEAD~1 | HEAD | change | % |",
        "|---|---|---|---|---|---|",
    ]
    assert "| metrics.json | accuracy | 0.8 | 0.85 | +0.05 | +6.25% |" in md


def test_default_is_head_against_the_workspace(history: History, cli: Cli) -> None:
    assert cli("metrics", "diff").out == "No metrics changed between HEAD and workspace.\n"
    (history.root / "metrics.json").write_text('{"accuracy": 0.9, "eval": {"auc": 0.75}}')
    doc = json.loads(cli("metrics", "diff", "--json").out)
    assert doc["new"] == {"rev": "workspace", "commit": None}
    assert [(c["key"], c["change"]) for c in doc["changes"]] == [
        ("accuracy", "modified"), ("f1", "removed"), ("rows", "removed")
    ]  # fmt: skip


def test_params_diff_dotted_keys_and_lists(history: History, cli: Cli) -> None:
    doc = json.loads(cli("params", "diff", "churn@v1", "churn@v2", "--json").out)
    assert doc["schema"] == "gitml.params-diff/1"
    assert [(c["key"], c["old"], c["new"]) for c in doc["changes"]] == [
        ("lr", 0.1, 0.05), ("model.depth", 3, 4)
    ]  # fmt: skip
    full = json.loads(cli("params", "diff", "churn@v1", "churn@v2", "--all", "--json").out)
    keys = {c["key"]: c for c in full["changes"]}
    assert keys["model.layers"]["old"] == [64, 32]
    assert keys["model.layers"]["change"] == "unchanged"
    assert keys["name"] == {"file": "params.yaml", "key": "name", "old": "base", "new": "base",
                            "change": "unchanged", "delta": None, "pct": None}  # fmt: skip
    text = cli("params", "diff", "churn@v1", "churn@v2").out.splitlines()
    assert text[1].split() == ["params.yaml", "lr", "0.1", "0.05", "-0.05", "-50.00%"]
    md = cli("params", "diff", "churn@v1", "churn@v2", "--md").out
    assert "| params.yaml | model.depth | 3 | 4 | +1 | +33.33% |" in md


def test_metrics_show_at_several_revisions(history: History, cli: Cli) -> None:
    lines = cli("metrics", "show", "churn#prod", "churn@latest").out.splitlines()
    assert [line.split() for line in lines] == [
        ["file", "metric", "churn#prod", "churn@latest"],
        ["metrics.json", "accuracy", "0.8", "0.85"],
        ["metrics.json", "eval.auc", "0.7", "0.75"],
        ["metrics.json", "rows", "100", "100"],
        ["metrics.json", "f1", "-", "0.6"],
    ]
    doc = json.loads(cli("metrics", "show", "--json").out)
    assert doc == {
        "schema": "gitml.metrics-show/1",
        "revisions": [{
            "rev": "workspace", "commit": None, "warnings": [],
            "files": {"metrics.json": {"source": "file", "values": {
                "accuracy": 0.85, "eval.auc": 0.75, "rows": 100, "f1": 0.6}}},
        }],
    }  # fmt: skip
    md = cli("metrics", "show", "HEAD", "--md").out
    assert md.splitlines()[:3] == [
        "| file | metric | HEAD |", "|---|---|---|", "| metrics.json | accuracy | 0.85 |"
    ]  # fmt: skip


def test_file_option_and_pre_gitml_commits(repo: Path, cli: Cli) -> None:
    # commits made before gitml knew about the file: no gitml.yaml, no notes
    (repo / "eval").mkdir()
    (repo / "eval" / "scores.yaml").write_text("top1: 0.5\nby_class:\n  a: 0.4\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "old")
    (repo / "eval" / "scores.yaml").write_text("top1: 0.25\nby_class:\n  a: 0.4\n  b: 1\n")
    git(repo, "commit", "-qam", "newer")
    assert cli("metrics", "diff", "HEAD~1", "HEAD").out == (
        "No metrics changed between HEAD~1 and HEAD.\n"
    )
    doc = json.loads(
        cli("metrics", "diff", "HEAD~1", "HEAD", "--file", "eval/scores.yaml", "--json").out
    )
    assert [(c["key"], c["change"], c["delta"], c["pct"]) for c in doc["changes"]] == [
        ("by_class.b", "added", None, None), ("top1", "modified", -0.25, -50.0)
    ]  # fmt: skip


def test_note_is_the_fallback_only_when_the_file_is_not_in_the_tree(
    history: History, cli: Cli
) -> None:
    git(history.root, "rm", "-q", "metrics.json")
    git(history.root, "commit", "-q", "-m", "metrics no longer committed")
    note = {"schema": 1, "metrics": {"metrics.json": {"accuracy": 0.99}}}
    git(history.root, "notes", "--ref=gitml", "add", "-m", json.dumps(note), "HEAD")
    # a note that disagrees with a committed file is not used
    git(history.root, "notes", "--ref=gitml", "add", "-m", json.dumps(note), "HEAD~1")
    doc = json.loads(cli("metrics", "diff", "HEAD~1", "HEAD", "--all", "--json").out)
    assert doc["files"] == {"metrics.json": {"old": "file", "new": "note"}}
    assert {c["key"]: (c["old"], c["new"]) for c in doc["changes"]}["accuracy"] == (0.85, 0.99)


def test_unreadable_file_is_a_warning_not_a_crash(history: History, cli: Cli) -> None:
    (history.root / "metrics.json").write_text("{not json")
    result = cli("metrics", "diff")
    assert "warning: workspace: metrics.json is not a JSON/YAML document gitml can read" in (
        result.err
    )
    assert "accuracy" in result.out


def test_usage_errors(history: History, cli: Cli) -> None:
    err = cli("metrics", "diff", "a", "b", "c", expect=2).err
    assert err == "error: give at most two revisions\nhint: gitml metrics diff HEAD~1 HEAD\n"
    assert cli("params", "diff", "--json", "--md", expect=2).err.startswith(
        "error: choose one of --json and --md"
    )
    assert cli("metrics", "show", "--file", "../x.json", expect=2).err.startswith("error: ")
