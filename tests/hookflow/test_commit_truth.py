"""Guards and notes see the commit, not the workspace (issue 10), through real git hooks."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, git
from tests.testing.hooked import commit, hooked_repo, note

GITML_YAML = """\
guards:
  raw:
    data: data/raw.csv
    rows: {min: 3}
    rules:
      - {column: tenure, range: {min: 0, max: 120}}
  model:
    metrics: metrics.json
    thresholds: {accuracy: ">= 0.7"}
artifacts:
  churn:
    path: models/churn.pkl
    type: model
    metrics: metrics.json
params: [params.yaml]
"""

GOOD = "id,tenure\n1,10.0\n2,20.5\n3,30.0\n"
BAD = "id,tenure\n1,10.0\n2,-5.0\n3,30.0\n"


@pytest.fixture
def hooked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> Path:
    return hooked_repo(
        tmp_path,
        monkeypatch,
        cli,
        gitml_yaml=GITML_YAML,
        files={
            "params.yaml": "C: 1.0\n",
            "metrics.json": json.dumps({"accuracy": 0.9}),
            "data/raw.csv": GOOD,
            "models/churn.pkl": b"model v1",
        },
    )


def metrics(root: Path, accuracy: float) -> None:
    (root / "metrics.json").write_text(json.dumps({"accuracy": accuracy}))


def first_commit(root: Path, cli: Cli) -> None:
    cli("add", "data/raw.csv", "models/churn.pkl")
    git(root, "add", "gitml.yaml", "params.yaml", "metrics.json")
    proc = commit(root, "v1")
    assert proc.returncode == 0, proc.stderr


def test_staged_bad_metrics_with_good_workspace_metrics_is_blocked(hooked: Path, cli: Cli) -> None:
    first_commit(hooked, cli)
    metrics(hooked, 0.5)
    git(hooked, "add", "metrics.json")
    metrics(hooked, 0.95)  # MM metrics.json: the workspace looks fine
    proc = commit(hooked, "worse model")
    assert proc.returncode == 1, proc.stderr
    assert "accuracy = 0.5 does not meet >= 0.7" in proc.stdout + proc.stderr
    assert git(hooked, "rev-list", "--count", "HEAD").strip() == "1"


def test_staged_good_metrics_with_bad_workspace_passes_and_note_has_staged(
    hooked: Path, cli: Cli
) -> None:
    first_commit(hooked, cli)
    metrics(hooked, 0.8)
    git(hooked, "add", "metrics.json")
    metrics(hooked, 0.1)
    proc = commit(hooked, "better model")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = note(hooked)
    assert doc["verified"] is True
    assert doc["metrics"]["metrics.json"] == {"accuracy": 0.8}
    assert doc["guards"]["ok"] is True


def test_note_equals_the_committed_files_after_a_partial_commit(hooked: Path, cli: Cli) -> None:
    first_commit(hooked, cli)
    (hooked / "params.yaml").write_text("C: 0.05\n")
    metrics(hooked, 0.7193)  # neither staged
    (hooked / "README").write_text("docs\n")
    git(hooked, "add", "README")
    proc = commit(hooked, "docs only")
    assert proc.returncode == 0, proc.stderr
    doc = note(hooked)
    assert doc["params"]["params.yaml"] == {"C": 1.0}
    assert doc["params"]["params.yaml"] == _yaml(git(hooked, "show", "HEAD:params.yaml"))
    assert doc["metrics"]["metrics.json"] == json.loads(git(hooked, "show", "HEAD:metrics.json"))
    shown = cli("show", "--json").out
    assert '"C": 1.0' in shown and "0.7193" not in shown


def _yaml(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def test_forgotten_add_in_a_tracked_folder_is_blocked_and_named(hooked: Path, cli: Cli) -> None:
    folder = hooked / "images"
    folder.mkdir()
    for i in range(4):
        (folder / f"{i}.txt").write_text(f"image {i}\n")
    cli("add", "images")
    first_commit(hooked, cli)
    for i in range(3):
        (folder / f"{i}.txt").write_text(f"edited {i}\n")
    (hooked / "README").write_text("unrelated\n")
    git(hooked, "add", "README")
    proc = commit(hooked, "something else")
    assert proc.returncode == 1
    assert (
        "gitml: images/ changed since gitml add (3 files modified): run gitml add images"
        in proc.stderr
    )
    assert "--no-verify" in proc.stderr
    assert git(hooked, "rev-list", "--count", "HEAD").strip() == "1"
    # An absent data folder is not a forgotten add.
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    proc = commit(hooked, "something else")
    assert proc.returncode == 0, proc.stderr


def test_forgotten_add_of_a_file_names_it(hooked: Path, cli: Cli) -> None:
    first_commit(hooked, cli)
    (hooked / "models/churn.pkl").write_bytes(b"retrained, not added")
    (hooked / "README").write_text("x\n")
    git(hooked, "add", "README")
    proc = commit(hooked, "x")
    assert proc.returncode == 1
    assert (
        "gitml: models/churn.pkl changed since gitml add: run gitml add models/churn.pkl"
        in proc.stderr
    )


def test_model_only_change_runs_the_model_guard(hooked: Path, cli: Cli) -> None:
    metrics(hooked, 0.5)
    cli("add", "data/raw.csv", "models/churn.pkl")
    git(hooked, "add", "gitml.yaml", "params.yaml", "metrics.json")
    assert commit(hooked, "v1 (forced)", "--no-verify").returncode == 0
    (hooked / "models/churn.pkl").write_bytes(b"model v2")
    cli("add", "models/churn.pkl")
    proc = commit(hooked, "new model, same metrics")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "accuracy = 0.5 does not meet >= 0.7" in proc.stdout + proc.stderr


def test_model_with_unstaged_metrics_says_so(hooked: Path, cli: Cli) -> None:
    first_commit(hooked, cli)
    (hooked / "models/churn.pkl").write_bytes(b"model v2")
    cli("add", "models/churn.pkl")
    metrics(hooked, 0.91)  # the new model's metrics, not staged
    proc = commit(hooked, "new model")
    assert proc.returncode == 1
    assert (
        "gitml: models/churn.pkl changed but metrics.json is not staged: run git add metrics.json"
        in proc.stderr
    )
    git(hooked, "add", "metrics.json")
    proc = commit(hooked, "new model")
    assert proc.returncode == 0, proc.stderr
    assert note(hooked)["metrics"]["metrics.json"] == {"accuracy": 0.91}


def test_data_is_judged_from_the_cache_by_the_staged_pointer(hooked: Path, cli: Cli) -> None:
    first_commit(hooked, cli)
    (hooked / "data/raw.csv").write_text(GOOD + "4,40.0\n")
    cli("add", "data/raw.csv")
    (hooked / "data/raw.csv").unlink()  # absent from the workspace: the cache has it
    proc = commit(hooked, "more rows")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = note(hooked)
    assert doc["stats"]["raw"]["rows"] == 4
    raw = [r for r in doc["guards"]["results"] if r["guard"] == "raw"]
    assert raw and all(r["status"] == "pass" for r in raw)


def test_guard_input_only_in_the_workspace_is_named(hooked: Path, cli: Cli) -> None:
    cli("add", "data/raw.csv")
    git(hooked, "add", "gitml.yaml", "params.yaml")  # metrics.json left untracked
    proc = commit(hooked, "v1")
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert "metrics file metrics.json does not exist" in out
    assert "metrics.json exists only in the workspace" in out


def test_commit_without_data_gets_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    git(root, "init", "-q")
    monkeypatch.chdir(root)
    cli("init")
    (root / "README").write_text("hello\n")
    git(root, "add", "README")
    assert commit(root, "first").returncode == 0
    doc = note(root)
    assert doc["verified"] is True and doc["data"] == {} and doc["guards"] is None
    (root / "params.yaml").write_text("lr: 0.1\n")
    git(root, "add", "params.yaml")
    assert commit(root, "params").returncode == 0
    assert note(root)["params"] == {"params.yaml": {"lr": 0.1}}


def test_rebase_keeps_the_verified_notes(hooked: Path, cli: Cli) -> None:
    first_commit(hooked, cli)
    base = git(hooked, "rev-parse", "--abbrev-ref", "HEAD").strip()
    git(hooked, "checkout", "-q", "-b", "feature")
    metrics(hooked, 0.8)
    git(hooked, "add", "metrics.json")
    assert commit(hooked, "feature model").returncode == 0
    git(hooked, "checkout", "-q", base)
    (hooked / "README").write_text("main moved on\n")
    git(hooked, "add", "README")
    assert commit(hooked, "docs").returncode == 0
    git(hooked, "checkout", "-q", "feature")
    proc = subprocess.run(
        ["git", "rebase", "--merge", base], cwd=hooked, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "unverified" not in proc.stderr
    doc = note(hooked)
    assert doc["verified"] is True and doc["bypassed"] is False
    assert doc["metrics"]["metrics.json"] == {"accuracy": 0.8}
    assert git(hooked, "notes", "--ref=gitml", "show", "HEAD").count('"schema"') == 1


def test_cherry_pick_is_unverified(hooked: Path, cli: Cli) -> None:
    first_commit(hooked, cli)
    base = git(hooked, "rev-parse", "--abbrev-ref", "HEAD").strip()
    git(hooked, "checkout", "-q", "-b", "feature")
    (hooked / "README").write_text("x\n")
    git(hooked, "add", "README")
    assert commit(hooked, "readme").returncode == 0
    git(hooked, "checkout", "-q", base)
    proc = subprocess.run(
        ["git", "cherry-pick", "feature"], cwd=hooked, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert note(hooked)["verified"] is False  # cherry-pick runs no pre-commit hook


def test_registration_records_the_commit_not_the_workspace(hooked: Path, cli: Cli) -> None:
    from gitml.registry.record import RegistrationRecord, parse_record

    first_commit(hooked, cli)
    (hooked / "params.yaml").write_text("C: 0.05\n")
    metrics(hooked, 0.1)
    stricter = GITML_YAML.replace('">= 0.7"', '">= 0.95"')
    (hooked / "gitml.yaml").write_text(stricter)  # none of it committed
    out = cli("register", "churn").out
    assert "registered churn v1.0.0" in out
    record = parse_record(git(hooked, "tag", "-l", "--format=%(contents)", "churn@v1.0.0"))
    assert isinstance(record, RegistrationRecord)
    assert dict(record.params) == {"params.yaml": {"C": 1.0}}
    assert dict(record.metrics) == {"accuracy": 0.9}
    assert [(g.name, g.passed) for g in record.guards] == [("model", True)]


def test_registration_without_metrics_says_so(hooked: Path, cli: Cli) -> None:
    (hooked / "gitml.yaml").write_text("artifacts:\n  churn: {path: models/churn.pkl}\n")
    cli("add", "models/churn.pkl")
    git(hooked, "add", "gitml.yaml", "params.yaml")
    assert commit(hooked, "model").returncode == 0
    result = cli("register", "churn")
    assert "registered churn v1.0.0" in result.out
    assert "records no metrics: its artifact declares no metrics file" in result.err


def test_old_pointer_restored_with_git_is_blocked(hooked: Path, cli: Cli) -> None:
    first_commit(hooked, cli)
    (hooked / "data/raw.csv").write_text(GOOD + "4,40.0\n")
    cli("add", "data/raw.csv")
    assert commit(hooked, "v2").returncode == 0
    git(hooked, "checkout", "HEAD~1", "--", "data/raw.csv.gitml")  # pointer only, no data
    proc = commit(hooked, "back to v1?")
    assert proc.returncode == 1
    assert (
        "gitml: data/raw.csv in the workspace is another version than the pointer being "
        "committed: run gitml checkout data/raw.csv (or gitml add data/raw.csv)" in proc.stderr
    )


def test_folder_data_is_judged_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    root = tmp_path / "repo"
    (root / "data/parts/region=eu").mkdir(parents=True)
    git(root, "init", "-q")
    monkeypatch.chdir(root)
    cli("init")
    guard = "guards:\n  parts:\n    data: data/parts\n    rows: {min: 3}\n"
    (root / "gitml.yaml").write_text(guard)
    (root / "data/parts/region=eu/a.csv").write_text("id\n1\n2\n")
    (root / "data/parts/b.csv").write_text("id\n3\n")
    cli("add", "data/parts")
    git(root, "add", "gitml.yaml")
    shutil.rmtree(root / "data/parts")  # absent from the workspace; the staged pointer has 3 rows
    proc = commit(root, "parts")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert note(root)["stats"]["parts"]["rows"] == 3
    assert not (root / "data/parts").exists()  # nothing was written to the workspace
