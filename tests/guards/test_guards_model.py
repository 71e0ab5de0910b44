"""Model guards (thresholds, no regression) and command guards."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gitml.guards.commands import TAIL_LINES, run_command
from gitml.guards.model import command_result, evaluate_model, load_metrics, lookup
from tests.guards.guardkit import one_guard

MODEL = """\
metrics: {path}
thresholds: {{accuracy: ">= 0.85", eval.auc: [">= 0.8", "<= 1"], loss: "< 0.3"}}
"""


def run_model(tmp_path: Path, body: str, baseline: dict[str, object] | None = None) -> list:  # type: ignore[type-arg]
    guard = one_guard(body)
    assert guard.model is not None
    return evaluate_model(guard, guard.model, tmp_path, baseline)


@pytest.mark.parametrize("name", ["m.json", "m.yaml"])
def test_thresholds_on_nested_metrics(tmp_path: Path, name: str) -> None:
    metrics = {"accuracy": 0.9, "eval": {"auc": 0.75}, "loss": 0.3}
    text = (
        json.dumps(metrics)
        if name.endswith("json")
        else ("accuracy: 0.9\neval:\n  auc: 0.75\nloss: 0.3\n")
    )
    (tmp_path / name).write_text(text)
    results = run_model(tmp_path, MODEL.format(path=name))
    assert [(r.column, r.status, r.observed, r.expected) for r in results] == [
        ("accuracy", "pass", 0.9, ">= 0.85"),
        ("eval.auc", "fail", 0.75, ">= 0.8"),
        ("eval.auc", "pass", 0.75, "<= 1"),
        ("loss", "fail", 0.3, "< 0.3"),
    ]


def test_lookup_prefers_literal_dotted_keys() -> None:
    assert lookup({"eval.auc": 1.0, "eval": {"auc": 2.0}}, "eval.auc") == 1.0
    assert lookup({"a": {"b.c": {"d": 3}}}, "a.b.c.d") == 3.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{not json", "is not valid"),
        ("[1, 2]", "must hold a mapping"),
        ('{"accuracy": "high"}', "not a number"),
        ('{"other": 1}', "is not in the metrics"),
        ('{"accuracy": true}', "not a number"),
    ],
)
def test_metrics_problems_are_errors(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "m.json").write_text(content)
    results = run_model(tmp_path, 'metrics: m.json\nthresholds: {accuracy: ">= 0.5"}\n')
    assert results[0].status == "error" and message in results[0].message


def test_load_metrics_yaml_is_safe(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("a: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ValueError, match="not valid"):
        load_metrics(tmp_path / "m.yaml")


NO_REGRESSION = """\
metrics: m.json
no_regression: {against: prod, metrics: {accuracy: higher, loss: lower}, tolerance: 0.01}
"""


@pytest.mark.parametrize(
    ("baseline", "statuses"),
    [
        ({"accuracy": 0.905, "loss": 0.205}, ["pass", "pass"]),  # within tolerance
        ({"accuracy": 0.92, "loss": 0.1}, ["fail", "fail"]),  # beyond tolerance
        ({"accuracy": 0.8, "loss": 0.3}, ["pass", "pass"]),  # improved
        ({"accuracy": 0.8}, ["pass", "skip"]),  # baseline lacks the metric
        (None, ["skip", "skip"]),  # no baseline at all
    ],
)
def test_no_regression(
    tmp_path: Path, baseline: dict[str, object] | None, statuses: list[str]
) -> None:
    (tmp_path / "m.json").write_text(json.dumps({"accuracy": 0.9, "loss": 0.2}))
    results = run_model(tmp_path, NO_REGRESSION, baseline)
    assert [r.status for r in results] == statuses
    if baseline and "loss" in baseline:
        assert results[1].expected == {
            "against": "prod",
            "tolerance": 0.01,
            "better": "lower",
            "baseline": baseline["loss"],
        }


def test_command_pass_fail_and_tail(tmp_path: Path) -> None:
    ok = run_command("echo fine", cwd=tmp_path)
    assert ok.passed and ok.exit_code == 0 and ok.tail == ("fine",)
    bad = run_command(
        "for i in $(seq 1 50); do echo line $i; done; echo oops >&2; exit 3", cwd=tmp_path
    )
    assert bad.exit_code == 3 and not bad.passed and bad.runnable
    assert len(bad.tail) == TAIL_LINES and bad.tail[-1] == "oops" and bad.tail[0] == "line 32"
    result = command_result(one_guard("command: x"), bad)
    assert result.status == "fail" and result.observed == 3 and result.message.endswith("oops")
    assert result.details["tail"][-1] == "oops"


def test_command_cwd_env_and_not_found(tmp_path: Path) -> None:
    env = {"GUARD_VAR": "v", "PATH": "/bin:/usr/bin"}
    out = run_command('pwd; echo "$GUARD_VAR"', cwd=tmp_path, env=env)
    assert out.tail == (str(tmp_path), "v")
    missing = run_command("surely-not-a-command-xyz", cwd=tmp_path)
    assert missing.exit_code == 127 and not missing.runnable
    assert command_result(one_guard("command: x"), missing).status == "error"
    assert run_command("true", cwd=tmp_path / "nope").start_error is not None


def test_command_timeout_kills_the_process_group(tmp_path: Path) -> None:
    started = time.monotonic()
    out = run_command(f"(sleep 30; touch {tmp_path}/late) & sleep 30", cwd=tmp_path, timeout=0.5)
    assert time.monotonic() - started < 10
    assert out.timed_out and out.exit_code is None
    result = command_result(one_guard("command: x\ntimeout: 0.5"), out)
    assert result.status == "error" and "timed out after 0.5 s" in result.message
    assert not (tmp_path / "late").exists()
