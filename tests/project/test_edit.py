"""The one gitml.yaml editor: new entries go in as text, everything else stays."""

from __future__ import annotations

import pytest

from gitml.project.edit import CannotEdit, add_artifact, add_entries
from gitml.project.file import parse_project


def test_artifact_goes_at_the_end_of_its_block_and_the_rest_stays() -> None:
    before = (
        "# project\r\nartifacts:   # models\r\n    fraud:\r\n        path: m/f.pkl\r\n"
        "\r\n# tail\r\nguards: {}\r\n"
    )
    after = add_artifact(before, "churn", "models/churn.pkl")
    assert after == (
        "# project\r\nartifacts:   # models\r\n    fraud:\r\n        path: m/f.pkl\r\n"
        '    churn:\n      path: "models/churn.pkl"\n'
        "\r\n# tail\r\nguards: {}\r\n"
    )
    assert parse_project(after).artifacts["churn"].path == "models/churn.pkl"
    assert list(parse_project(after).artifacts) == ["fraud", "churn"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", 'artifacts:\n  churn:\n    path: "a: b.pkl"\n'),
        ("guards: {}", 'guards: {}\nartifacts:\n  churn:\n    path: "a: b.pkl"\n'),
        ("artifacts: {}  # none yet\n", 'artifacts:\n  churn:\n    path: "a: b.pkl"\n'),
    ],
)
def test_artifact_section_created_or_filled(before: str, after: str) -> None:
    assert add_artifact(before, "churn", "a: b.pkl") == after
    assert parse_project(after).artifacts["churn"].path == "a: b.pkl"


def test_flow_style_block_is_refused() -> None:
    with pytest.raises(CannotEdit, match="artifacts: section is written in flow style"):
        add_artifact("artifacts: {fraud: {path: f}}\n", "churn", "c")
    with pytest.raises(CannotEdit, match="stages: section"):
        add_entries("stages: {a: {cmd: x}}\n", "stages", {"b": {"cmd": "y"}})
