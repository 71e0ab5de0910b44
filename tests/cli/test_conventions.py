"""The command line follows the conventions users know (issue 12, "the front door").

-h/--help, -V/--version, -C DIR, shell completion, usage errors through the one
funnel (exit 2, `error:` + `hint:`), an Examples block and no Python type names
in every help, listed choices, `--json` with a `schema`, no Python reprs, ISO
dates and plain columns when stdout is not a terminal.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

import gitml
import gitml.cli.app as app_module
from gitml.errors import EXIT_USAGE
from tests.conftest import Cli, git, run_gitml


def _all_paths() -> list[list[str]]:
    """Every command path: ``[cmd]`` and ``[group, sub]`` (the hidden ``hook`` too)."""
    root = typer.main.get_command(app_module._register([]))
    paths: list[list[str]] = []
    for name, command in getattr(root, "commands", {}).items():
        paths.append([name])
        paths += [[name, sub] for sub in getattr(command, "commands", {})]
    return paths


# --- help and version ------------------------------------------------------------


@pytest.mark.parametrize("args", [[], ["status"], ["remote", "add"], ["hooks"]])
def test_dash_h_is_help(cli: Cli, args: list[str]) -> None:
    short = cli(*args, "-h")
    assert short.out.startswith("Usage: gitml")
    assert short.out == cli(*args, "--help").out
    assert "-h, --help" in short.out


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(cli: Cli, flag: str) -> None:
    assert cli(flag).out == f"gitml {gitml.__version__}\n"


def test_every_help_has_examples_and_no_python_type_names(cli: Cli) -> None:
    paths = _all_paths()
    assert len(paths) > 30
    for path in [[], *paths]:
        text = cli(*path, "--help").out
        assert "\n  Examples:\n" in text, path
        for python_name in ("<str>", "<int>", "<float>", "<bool>", "list[", "<Path>"):
            assert python_name not in text, (path, python_name)


def test_choices_are_listed_and_checked(repo: Path, cli: Cli) -> None:
    assert "--bump major|minor|patch" in cli("register", "--help").out
    assert "shell <bash|zsh|fish>" in cli("completion", "--help").out
    result = cli("register", "churn", "--bump", "huge", expect=EXIT_USAGE)
    first, second = result.err.splitlines()
    assert first.startswith("error: Invalid value for '--bump': 'huge' is not one of")
    assert second == "hint: run 'gitml register --help'"


# --- usage errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "error", "hint"),
    [
        (["stauts"], "error: No such command 'stauts'.", "--help"),
        (["status", "--bogus"], "error: No such option: --bogus", "status --help"),
        (["log", "-n", "abc"], "error: Invalid value for '-n' / '--max-count'", "log --help"),
        (["promote"], "error: Missing argument 'ref'.", "promote --help"),
        (["models", "shwo"], "error: No such command 'shwo'.", "models --help"),
    ],
)
def test_usage_errors_go_through_the_funnel(
    cli: Cli, args: list[str], error: str, hint: str
) -> None:
    result = cli(*args, expect=EXIT_USAGE)
    lines = result.err.splitlines()
    assert len(lines) == 2, result.err
    assert lines[0].startswith(error), lines[0]
    assert lines[1] == f"hint: run 'gitml {hint}'"
    assert "Usage:" not in result.err and "Traceback" not in result.err
    assert result.out == ""


# --- -C DIR -----------------------------------------------------------------------


def test_dash_c_runs_as_if_started_there(repo: Path, tmp_path: Path) -> None:
    (repo / "d.txt").write_text("x")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = run_gitml(elsewhere, "-C", str(repo), "add", "d.txt")
    assert proc.returncode == 0, proc.stderr
    assert (repo / "d.txt.gitml").is_file()
    # relative -C options combine, as in git; an empty one changes nothing
    proc = run_gitml(tmp_path, "-C", "", "-C", "repo", "-q", "status", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [row["path"] for row in json.loads(proc.stdout)] == ["d.txt"]


def test_dash_c_to_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_gitml(tmp_path, "-C", "nowhere", "status")
    assert proc.returncode == EXIT_USAGE
    assert proc.stderr == (
        "error: cannot change to 'nowhere': No such file or directory\n"
        "hint: -C takes an existing folder\n"
    )
    proc = run_gitml(tmp_path, "-C")
    assert proc.returncode == EXIT_USAGE
    assert proc.stderr.startswith("error: option -C needs a folder\n")


# --- shell completion ---------------------------------------------------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(cli: Cli, shell: str) -> None:
    script = cli("completion", shell).out
    assert "_GITML_COMPLETE" in script and "gitml" in script


def test_completion_answers_from_the_real_command_tree(tmp_path: Path) -> None:
    def complete(words: str, cword: int) -> list[str]:
        env = {"_GITML_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        proc = run_gitml(tmp_path, env=env)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()

    assert complete("gitml sta", 1) == ["status"]
    assert complete("gitml models ", 2) == ["show"]
    assert complete("gitml completion ", 2) == ["bash", "zsh", "fish"]


def test_completion_of_an_unknown_shell_is_a_usage_error(cli: Cli) -> None:
    result = cli("completion", "tcsh", expect=EXIT_USAGE)
    assert result.err.startswith("error: Invalid value for 'shell': 'tcsh' is not one of")


# --- --json with a schema -----------------------------------------------------------

STAGES = """\
stages:
  prep:
    cmd: echo hi > out.txt
    outs: [out.txt]
  train:
    cmd: cat out.txt > model.txt
    deps: [out.txt]
    outs: [model.txt]
"""


def test_dag_json(repo: Path, cli: Cli) -> None:
    (repo / "gitml.yaml").write_text(STAGES)
    doc = json.loads(cli("dag", "--json").out)
    assert doc == {
        "schema": "gitml.dag/1",
        "stages": [{"name": "prep", "upstream": []}, {"name": "train", "upstream": ["prep"]}],
    }


def test_hooks_status_json(repo: Path, cli: Cli) -> None:
    doc = json.loads(cli("hooks", "status", "--json").out)
    assert doc["schema"] == "gitml.hooks-status/1"
    assert [h["name"] for h in doc["hooks"]] == [
        "pre-commit", "post-commit", "pre-push", "post-checkout", "post-merge"
    ]  # fmt: skip
    assert {h["state"] for h in doc["hooks"]} == {"missing"}
    cli("hooks", "install")
    doc = json.loads(cli("hooks", "status", "--json").out)
    pre_commit = doc["hooks"][0]
    assert pre_commit["state"] == "installed" and pre_commit["python_ok"] is True
    assert pre_commit["python"] == os.path.abspath(sys.executable)
    assert pre_commit["path"] == str(repo.resolve() / ".git" / "hooks" / "pre-commit")


def test_push_fetch_pull_json(repo: Path, tmp_path: Path, cli: Cli) -> None:
    (repo / "d.txt").write_text("hello")
    cli("add", "d.txt")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "data")
    cli("remote", "add", "origin", str(tmp_path / "store"), "--default")
    pushed = json.loads(cli("push", "--json").out)
    assert pushed["schema"] == "gitml.push/1" and pushed["remote"] == "origin"
    assert len(pushed["objects"]["transferred"]) == 1 and pushed["objects"]["bytes"] == 5
    fetched = json.loads(cli("fetch", "--json").out)
    assert fetched["schema"] == "gitml.fetch/1"
    assert fetched["objects"]["skipped"] == pushed["objects"]["transferred"]
    (repo / "d.txt").unlink()
    pulled = json.loads(cli("pull", "--json").out)
    assert pulled["schema"] == "gitml.pull/1"
    assert pulled["checkout"]["written"] == ["d.txt"]
    assert (repo / "d.txt").read_text() == "hello"


def _commit_model(repo: Path, cli: Cli, content: bytes) -> None:
    (repo / "models").mkdir(exist_ok=True)
    (repo / "models" / "churn.pkl").write_bytes(content)
    cli("add", "models/churn.pkl")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "model")


def test_registry_events_json(repo: Path, cli: Cli) -> None:
    _commit_model(repo, cli, b"model one")
    cli("register", "churn", "--path", "models/churn.pkl")
    doc = json.loads(cli("promote", "churn@v1.0.0", "prod", "--json").out)
    assert doc == {
        "schema": "gitml.promote/1",
        "artifact": "churn",
        "action": "assign",
        "tag": doc["tag"],
        "version": "v1.0.0",
        "stage": "prod",
    }
    assert doc["tag"] in git(repo, "tag", "-l")
    doc = json.loads(cli("demote", "churn", "prod", "--json").out)
    assert (doc["schema"], doc["action"]) == ("gitml.demote/1", "unassign")
    assert doc["version"] == "v1.0.0"
    doc = json.loads(cli("deprecate", "churn", "--json").out)
    assert (doc["schema"], doc["action"]) == ("gitml.deprecate/1", "deprecate")
    assert doc["version"] is None


# --- human output -------------------------------------------------------------------


def test_models_table_is_plain_columns_and_iso_dates_off_a_terminal(repo: Path, cli: Cli) -> None:
    _commit_model(repo, cli, b"model one")
    cli("register", "churn", "--path", "models/churn.pkl")
    out = cli("models").out
    assert not set(out) & set("┃┏━│─┡┩└┘╇"), out  # no box drawing in a pipe
    header, row = out.splitlines()[:2]
    assert header.split() == ["name", "latest", "stages", "metrics", "registered", "by"]
    assert row.split()[:2] == ["churn", "v1.0.0"]
    assert re.search(r" \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", row), row


GUARDED = """\
guards:
  model:
    metrics: metrics.json
    thresholds: {accuracy: ">= 0.5"}
params: [params.yaml]
"""


def test_show_prints_values_not_python_reprs(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "hooked"
    root.mkdir()
    git(root, "init", "-q")
    monkeypatch.chdir(root)
    cli("init")  # with hooks: the post-commit hook writes the metadata note
    (root / "gitml.yaml").write_text(GUARDED)
    (root / "params.yaml").write_text("train: {lr: 0.1, layers: [8, 4]}\n")
    (root / "metrics.json").write_text(json.dumps({"accuracy": 0.7}))
    git(root, "add", "-A")
    proc = subprocess.run(["git", "commit", "-qm", "v1"], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = cli("show").out
    assert "  metrics metrics.json: accuracy: 0.7\n" in out
    assert "  params  params.yaml: train.layers: 8, 4, train.lr: 0.1\n" in out
    assert "  guards  passed (1 pass)\n" in out
    assert "{" not in out and "[" not in out and "'" not in out, out


def test_one_human_size_format() -> None:
    from gitml.cli.output import human_size
    from gitml.progress import human_size as library_size
    from gitml.registry.record import human_size as registry_size
    from gitml.remotes.transfer import TransferResult

    for n, text in [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (1_234_567, "1.2 MB"),
                    (999_950, "1.0 MB"), (5 * 10**12, "5.0 TB")]:  # fmt: skip
        assert human_size(n) == library_size(n) == registry_size(n) == text
    assert human_size(None) == "-"
    summary = TransferResult(transferred=["a"], bytes=1_234_567, seconds=1.0).summary("pushed")
    assert "(1.2 MB, 1.2 MB/s)" in summary
