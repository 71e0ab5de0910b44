"""run_guards / affected_guards / dataset_statistics end to end on a small project."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gitml.errors import UsageError
from gitml.guards.runner import affected_guards, dataset_statistics, run_guards
from gitml.progress import Event, Reporter
from gitml.project.file import load_project, parse_project
from tests.guards.guardkit import customers, write

PROJECT = textwrap.dedent(
    """\
    guards:
      raw:
        data: data/raw
        rows: {min: 100}
        rules:
          - {column: plan, allowed: [basic, pro, team]}
        change:
          drift: {columns: [tenure]}
      churn-model:
        metrics: metrics/churn.json
        thresholds: {accuracy: ">= 0.85"}
        no_regression: {metrics: [accuracy], tolerance: 0.01}
        command: exit 1
      smoke:
        command: echo smoke ok
        watch: [checks]
      broken:
        data: data/missing.parquet
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "gitml.yaml").write_text(PROJECT)
    write(customers(500), tmp_path / "data" / "raw" / "part-0.parquet")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "churn.json").write_text(json.dumps({"accuracy": 0.9}))
    return tmp_path


def test_run_all_guards(project: Path) -> None:
    spec = load_project(project).guards
    events: list[Event] = []
    asked: list[str] = []

    def previous(name: str) -> dict[str, Any] | None:
        asked.append(name)
        return None

    report = run_guards(
        project,
        spec,
        previous_stats=previous,
        baseline_metrics=lambda name: {"accuracy": 0.95},
        reporter=Reporter(events.append),
        collect_stats=True,
    )
    assert asked == ["raw"]  # only guards with change rules need the previous statistics
    got = [(r.guard, r.rule, r.status) for r in report.results]
    assert got == [
        ("raw", "rows", "pass"),
        ("raw", "allowed", "pass"),
        ("raw", "drift", "skip"),
        ("churn-model", "threshold", "pass"),
        ("churn-model", "no_regression", "fail"),
        ("churn-model", "command", "fail"),
        ("smoke", "command", "pass"),
        ("broken", "read", "error"),
    ]
    assert not report.ok and report.exit_code == 1
    assert report.counts() == {"pass": 4, "fail": 2, "error": 1, "skip": 1}
    assert set(report.statistics) == {"raw"} and report.statistics["raw"]["rows"] == 500
    assert report.rows_read["raw"] == 500
    json.dumps(report.to_dict(), allow_nan=False)
    assert any(e.kind == "info" and "guard smoke: ok" in e.message for e in events)


def test_selected_guards_and_unknown_names(project: Path) -> None:
    spec = load_project(project).guards
    report = run_guards(project, spec, ["smoke"])
    assert report.ok and report.exit_code == 0 and report.guards() == ["smoke"]
    with pytest.raises(UsageError) as info:
        run_guards(project, spec, ["smok"])
    assert "did you mean 'smoke'?" in str(info.value)


def test_dataset_statistics_skips_unreadable_with_a_warning(project: Path) -> None:
    events: list[Event] = []
    stats = dataset_statistics(
        project, load_project(project).guards, reporter=Reporter(events.append)
    )
    assert list(stats) == ["raw"] and set(stats["raw"]["columns"]) == {"tenure"}
    assert any(e.kind == "warning" and "broken" in e.message for e in events)


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        (["gitml.yaml"], ["raw", "churn-model", "smoke", "broken"]),
        (["data/raw/part-0.parquet"], ["raw"]),
        (["data/raw.gitml"], ["raw"]),
        (["data.gitml"], ["raw", "broken"]),  # a pointer of a folder holding the data
        (["data/raw2/x.parquet", "data/rawx"], []),
        (["metrics/churn.json"], ["churn-model"]),
        (["metrics/churn.json.gitml"], ["churn-model"]),
        (["checks/smoke.py"], ["smoke"]),
        (["src/train.py", "README.md"], []),
        (["./data/missing.parquet"], ["broken"]),
    ],
)
def test_affected_guards(changed: list[str], expected: list[str]) -> None:
    assert affected_guards(parse_project(PROJECT).guards, changed) == expected
