"""The record in a tag message: format, parse, robustness."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gitml.registry.record import (
    EventRecord,
    GuardSummary,
    ModelInfo,
    RegistrationRecord,
    format_record,
    human_size,
    one_line,
    parse_record,
)

OID = "ab" * 32
SHA = "cd" * 20


def reg(**over: object) -> RegistrationRecord:
    base: dict[str, object] = {
        "artifact": "churn",
        "version": "v3.0.0",
        "commit": SHA,
        "model": ModelInfo("models/churn.pkl", OID, 1_234_567),
        "data": {"data/train.csv": "12" * 32},
        "params": {"lr": 0.1, "layers": [64, 32], "name": "xgb"},
        "metrics": {"auc": 0.91},
        "guards": (GuardSummary("auc>=0.9", True, "0.91"),),
        "note": "first prod candidate",
    }
    base.update(over)
    return RegistrationRecord(**base)  # type: ignore[arg-type]


def test_layout_and_round_trip() -> None:
    record = reg()
    message = format_record("Register churn v3.0.0: models/churn.pkl (1.2 MB)", record)
    lines = message.split("\n")
    assert lines[0] == "Register churn v3.0.0: models/churn.pkl (1.2 MB)"
    assert lines[1] == ""
    assert lines[2] == "```json"
    assert message.endswith("```\n")
    assert not any(line.startswith("#") for line in lines)  # git -m would strip them
    assert message.isascii()
    assert parse_record(message) == record
    event = EventRecord("assign", "churn", "v3.0.0", "prod", "ok by Ann")
    assert parse_record(format_record("Promote churn v3.0.0 to prod", event)) == event


def test_non_finite_metrics_and_unicode_survive() -> None:
    record = reg(metrics={"loss": math.nan, "max": math.inf}, note="naïve\nline2 ✓")
    parsed = parse_record(format_record("Register", record))
    assert parsed is not None and isinstance(parsed, RegistrationRecord)
    assert parsed.metrics == {"loss": "nan", "max": "inf"}
    assert parsed.note == "naïve\nline2 ✓"


def test_headline_is_one_line() -> None:
    message = format_record("Register\nchurn\x1b[31m " + "x" * 500, EventRecord("deprecate", "c"))
    first = message.split("\n", 1)[0]
    assert "\x1b" not in first and len(first) <= 200
    assert one_line("a\r\nb\tc") == "a b c"


def test_human_size() -> None:
    assert human_size(0) == "0 B"
    assert human_size(999) == "999 B"
    assert human_size(1_234_567) == "1.2 MB"
    assert human_size(999_960) == "1.0 MB"
    assert human_size(5 * 10**15) == "5000.0 TB"


def _msg(obj: object) -> str:
    return "Hello\n\n```json\n" + json.dumps(obj, indent=2) + "\n```\n"


def test_foreign_and_bad_messages_give_none() -> None:
    good = json.loads(format_record("x", reg()).split("```json\n")[1].split("\n```")[0])
    bad_variants: list[object] = [
        {**good, "gitml_record": 2},  # newer schema
        {**good, "gitml_record": True},
        {**good, "kind": "other"},
        {**good, "model": {**good["model"], "path": "../../etc/passwd"}},
        {**good, "model": {**good["model"], "path": ".git/hooks/x"}},
        {**good, "model": {**good["model"], "size": -1}},
        {**good, "model": {**good["model"], "size": True}},
        {**good, "model": {**good["model"], "oid": "XYZ"}},
        {**good, "commit": "HEAD"},
        {**good, "data": {"x": 1}},
        {**good, "guards": [{"name": "g", "passed": "yes", "detail": ""}]},
        {**good, "guards": "none"},
        {**good, "params": []},
        {"gitml_record": 1, "kind": "event", "action": "explode", "artifact": "c"},
        {"gitml_record": 1, "kind": "event", "action": "assign", "artifact": 3},
        [1, 2, 3],
    ]
    assert parse_record(_msg(good)) is not None
    for variant in bad_variants:
        assert parse_record(_msg(variant)) is None, variant
    for text in [
        "",
        "Registering artifact churn version v0.0.1",  # what GTO writes
        "```json\n{not json}\n```",
        "```json\n" + "[" * 100_000 + "\n```",  # would blow the recursion limit
        '```json\n"\\ud800"\n```',
    ]:
        assert parse_record(text) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_message_parses_or_gives_none(text: str) -> None:
    parse_record(text)
    parse_record("x\n\n```json\n" + text + "\n```\n")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=4), st.text(max_size=30))
def test_params_round_trip(params: dict[str, object], note: str) -> None:
    record = reg(params=params, metrics=params, note=note)
    assert parse_record(format_record("Register", record)) == record


def test_message_survives_git_tag_m(tmp_path: Path) -> None:
    """``git tag -m`` cleans messages up (strips '#' lines); ours must survive it."""
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=tmp_path, env=env, check=True, capture_output=True, text=True
        ).stdout

    git("init", "-q")
    git("commit", "-q", "--allow-empty", "-m", "c")
    record = reg(note="# not a comment\n\n\n  trailing  ", params={"#x": "#y"})
    message = format_record("Register churn v3.0.0", record)
    git("tag", "-a", "churn@v3.0.0", "-m", message)
    stored = git("for-each-ref", "--format=%(contents)", "refs/tags/churn@v3.0.0")
    assert parse_record(stored) == record
