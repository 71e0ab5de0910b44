"""Guards enforced by real git hooks, and the metadata notes they leave."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Cli, git
from tests.testing.hooked import commit, hooked_repo, note

GITML_YAML = """\
guards:
  raw:
    data: data/raw.csv
    schema:
      columns: {id: int64, tenure: double}
    rows: {min: 3}
    rules:
      - {column: tenure, range: {min: 0, max: 120}}
      - {column: id, unique: true}
  model:
    metrics: metrics.json
    thresholds: {accuracy: ">= 0.85"}
params: [params.yaml]
"""

GOOD = "id,tenure\n1,10.0\n2,20.5\n3,30.0\n4,40.0\n"
BAD = "id,tenure\n1,10.0\n2,-5.0\n3,30.0\n4,40.0\n"


@pytest.fixture
def hooked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> Path:
    return hooked_repo(
        tmp_path,
        monkeypatch,
        cli,
        gitml_yaml=GITML_YAML,
        files={
            "params.yaml": "train: {lr: 0.1}\n",
            "metrics.json": json.dumps({"accuracy": 0.9}),
            "data/raw.csv": GOOD,
        },
    )


def test_passing_commit_gets_a_note(hooked: Path, cli: Cli) -> None:
    cli("add", "data/raw.csv")
    git(hooked, "add", "gitml.yaml", "params.yaml", "metrics.json")
    proc = commit(hooked, "v1")
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr, proc.stderr
    doc = note(hooked)
    assert doc["verified"] is True and doc["bypassed"] is False
    assert doc["data"]["data/raw.csv"]["size"] == len(GOOD)
    assert doc["params"]["params.yaml"] == {"train": {"lr": 0.1}}
    assert doc["metrics"]["metrics.json"] == {"accuracy": 0.9}
    assert doc["guards"]["ok"] is True
    assert "raw" in doc["stats"]
    assert "verified" in cli("show").out


def test_bad_data_is_blocked_and_index_unchanged(hooked: Path, cli: Cli) -> None:
    cli("add", "data/raw.csv")
    git(hooked, "add", "gitml.yaml", "params.yaml", "metrics.json")
    assert commit(hooked, "v1").returncode == 0
    (hooked / "data/raw.csv").write_text(BAD)
    cli("add", "data/raw.csv")
    staged_before = git(hooked, "diff", "--cached", "--name-only")
    proc = commit(hooked, "bad data")
    assert proc.returncode == 1
    assert "range" in proc.stdout + proc.stderr and "tenure" in proc.stdout + proc.stderr
    assert git(hooked, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(hooked, "diff", "--cached", "--name-only") == staged_before


def test_model_below_threshold_is_blocked(hooked: Path, cli: Cli) -> None:
    cli("add", "data/raw.csv")
    git(hooked, "add", "gitml.yaml", "params.yaml", "metrics.json")
    assert commit(hooked, "v1").returncode == 0
    (hooked / "metrics.json").write_text(json.dumps({"accuracy": 0.7}))
    git(hooked, "add", "metrics.json")
    proc = commit(hooked, "worse model")
    assert proc.returncode == 1
    assert "accuracy" in proc.stdout + proc.stderr


def test_no_verify_goes_through_and_is_marked_unverified(hooked: Path, cli: Cli) -> None:
    cli("add", "data/raw.csv")
    git(hooked, "add", "gitml.yaml", "params.yaml", "metrics.json")
    assert commit(hooked, "v1").returncode == 0
    (hooked / "data/raw.csv").write_text(BAD)
    cli("add", "data/raw.csv")
    proc = commit(hooked, "forced", "--no-verify")
    assert proc.returncode == 0
    assert "unverified" in proc.stderr
    doc = note(hooked)
    assert doc["verified"] is False and doc["bypassed"] is True
    assert doc["guards"]["ok"] is False


def test_forgotten_gitml_add_is_blocked(hooked: Path, cli: Cli) -> None:
    cli("add", "data/raw.csv")
    git(hooked, "add", "gitml.yaml", "params.yaml", "metrics.json")
    (hooked / "data/raw.csv").write_text(GOOD + "5,50.0\n")  # changed after gitml add
    proc = commit(hooked, "v1")
    assert proc.returncode == 1
    assert "gitml add data/raw.csv" in proc.stderr


def test_amend_keeps_the_note(hooked: Path, cli: Cli) -> None:
    cli("add", "data/raw.csv")
    git(hooked, "add", "gitml.yaml", "params.yaml", "metrics.json")
    assert commit(hooked, "v1").returncode == 0
    proc = commit(hooked, "v1 reworded", "--amend")
    assert proc.returncode == 0, proc.stderr
    assert note(hooked)["data"]["data/raw.csv"]["size"] == len(GOOD)


def test_unrelated_commit_is_fast_path(hooked: Path, cli: Cli) -> None:
    (hooked / "README").write_text("hello\n")
    git(hooked, "add", "README")
    assert commit(hooked, "docs").returncode == 0


def test_existing_user_hook_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    hook = root / ".git/hooks/pre-commit"
    hook.write_text('#!/bin/sh\necho user-hook-ran > "$(git rev-parse --show-toplevel)/ran.txt"\n')
    hook.chmod(0o755)
    original = hook.read_bytes()
    monkeypatch.chdir(root)
    cli("init")
    (root / "f.txt").write_text("x")
    git(root, "add", "f.txt")
    assert commit(root, "one").returncode == 0
    assert (root / "ran.txt").read_text().strip() == "user-hook-ran"
    cli("hooks", "uninstall")
    assert hook.read_bytes() == original


def test_log_lists_metric_history(hooked: Path, cli: Cli) -> None:
    cli("add", "data/raw.csv")
    git(hooked, "add", "gitml.yaml", "params.yaml", "metrics.json")
    assert commit(hooked, "v1").returncode == 0
    (hooked / "metrics.json").write_text(json.dumps({"accuracy": 0.95}))
    git(hooked, "add", "metrics.json")
    assert commit(hooked, "v2").returncode == 0
    rows = json.loads(cli("log", "--metrics", "--json").out)
    assert [r["values"]["accuracy"] for r in rows] == [0.95, 0.9]
    # dates as ISO 8601 in UTC, as in every document; the commit's own date
    for row in rows:
        unix = int(git(hooked, "log", "-1", "--format=%ct", row["commit"]).strip())
        assert row["date"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix))
    rows = json.loads(cli("log", "data/raw.csv", "--json").out)
    assert rows[0]["values"]["size"] == len(GOOD)


def test_guard_run_by_hand(hooked: Path, cli: Cli) -> None:
    assert cli("guard", "run").code == 0
    (hooked / "data/raw.csv").write_text(BAD)
    result = cli("guard", "run", "raw", "--json", expect=1)
    doc = json.loads(result.out)
    failed = [r for r in doc["results"] if r["status"] == "fail"]
    assert failed and failed[0]["column"] == "tenure"


def test_missing_interpreter_fails_closed(hooked: Path, tmp_path: Path) -> None:
    from gitml.git.hooks import install_hooks
    from gitml.git.repo import GitRepo

    wrapper = tmp_path / "gone-python"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    install_hooks(GitRepo.discover(hooked), python=wrapper)
    wrapper.unlink()
    (hooked / "f.txt").write_text("x")
    git(hooked, "add", "f.txt")
    proc = commit(hooked, "x")
    assert proc.returncode == 1
    assert "gone-python" in proc.stderr
    assert git(hooked, "rev-list", "--all").strip() == ""


def test_branch_switch_brings_data_along_and_keeps_unsaved_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    monkeypatch.chdir(root)
    cli("init")
    (root / "data.csv").write_text("v1\n")
    cli("add", "data.csv")
    assert commit(root, "v1").returncode == 0
    git(root, "checkout", "-q", "-b", "feature")
    (root / "data.csv").write_text("v2\n")
    cli("add", "data.csv")
    assert commit(root, "v2").returncode == 0
    git(root, "checkout", "-q", "main")  # post-checkout brings v1 back
    assert (root / "data.csv").read_text() == "v1\n"
    git(root, "checkout", "-q", "feature")
    assert (root / "data.csv").read_text() == "v2\n"
    (root / "data.csv").write_text("unsaved\n")  # not added: must survive a switch
    proc = subprocess.run(
        ["git", "checkout", "-q", "main"], cwd=root, capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert "unsaved" in proc.stderr or "not updated" in proc.stderr
    assert (root / "data.csv").read_text() == "unsaved\n"
