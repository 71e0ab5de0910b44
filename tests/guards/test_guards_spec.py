"""gitml.yaml loading: the complete example parses; every mistake names its line."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gitml.errors import ConfigError
from gitml.project.file import load_project, parse_project
from gitml.project.guardspec import (
    AllowedRule,
    NullFractionRule,
    RangeRule,
    RegexRule,
    UniqueRule,
    parse_threshold,
)
from gitml.project.yamlnodes import YamlMap, check_keys, expect_number, parse_yaml

EXAMPLE = textwrap.dedent(
    """\
    guards:
      raw:
        description: raw customer export
        data: data/raw
        schema:
          columns: {customer_id: int64, tenure: float64, plan: text, churned: bool}
          strict: true
        rows: {min: 1000, max: 1000000}
        rules:
          - {column: tenure, null_fraction: {max: 0.01}}
          - {column: tenure, range: {min: 0, max: 120}, mostly: 0.99}
          - {column: plan, allowed: [basic, pro, team]}
          - {column: email, regex: '^[^@]+@[^@]+$', mostly: 0.95}
          - {column: customer_id, unique: true}
        change:
          rows: {max_drop: 0.1, max_growth: 1.0}
          drift: {columns: [tenure, plan], psi_max: 0.25}
      churn-model:
        metrics: metrics/churn.json
        thresholds: {accuracy: ">= 0.85", eval.auc: [">= 0.8", "<= 1"]}
        no_regression: {against: prod, metrics: {accuracy: higher, loss: lower}, tolerance: 0.01}
        command: python checks/golden.py
        timeout: 120
      smoke:
        command: python checks/smoke.py
        watch: [src, checks/smoke.py]
    artifacts:
      churn: {path: models/churn.pkl, metrics: metrics/churn.json}
    stages:
      train: {cmd: python src/train.py}
    params: [params.yaml, conf/extra.yaml]
    evaluate: {}
    """
)


def errors_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_project(textwrap.dedent(text))
    return str(info.value)


def test_complete_example_parses() -> None:
    project = parse_project(EXAMPLE)
    guards = project.guards.guards
    assert list(guards) == ["raw", "churn-model", "smoke"]
    raw = guards["raw"]
    assert raw.kind == "data" and raw.data is not None
    assert raw.data.path == "data/raw"
    assert raw.data.schema is not None and raw.data.schema.strict
    assert raw.data.schema.columns[1] == ("tenure", "double")  # alias normalised
    assert raw.data.rows is not None and (raw.data.rows.min, raw.data.rows.max) == (1000, 1000000)
    kinds = [type(r) for r in raw.data.rules]
    assert kinds == [NullFractionRule, RangeRule, AllowedRule, RegexRule, UniqueRule]
    rng = raw.data.rules[1]
    assert isinstance(rng, RangeRule) and rng.mostly == 0.99 and rng.line == 11
    assert raw.data.row_change is not None and raw.data.row_change.max_growth == 1.0
    assert raw.data.drift is not None and raw.data.drift.columns == ("tenure", "plan")
    assert raw.data.drift.psi_max == 0.25
    model = guards["churn-model"]
    assert model.kind == "model" and model.model is not None
    assert [(t.metric, t.op, t.value) for t in model.model.thresholds] == [
        ("accuracy", ">=", 0.85),
        ("eval.auc", ">=", 0.8),
        ("eval.auc", "<=", 1.0),
    ]
    assert model.model.no_regression is not None
    assert model.model.no_regression.metrics == (("accuracy", "higher"), ("loss", "lower"))
    assert model.command == "python checks/golden.py" and model.timeout == 120
    smoke = guards["smoke"]
    assert smoke.kind == "custom" and smoke.watch == ("src", "checks/smoke.py")
    assert smoke.timeout == 600
    assert project.params == ("params.yaml", "conf/extra.yaml")
    assert project.artifacts["churn"].path == "models/churn.pkl"
    assert project.artifacts["churn"].line == 28
    assert project.stages["train"].line == 30


def test_the_documented_example_is_valid() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "GUARDS.md").read_text()
    block = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    project = parse_project(block)
    assert list(project.guards.guards) == ["raw", "churn-model", "smoke"]


def test_empty_and_missing_file(tmp_path: Path) -> None:
    project = load_project(tmp_path)
    assert not project.exists and project.guards.guards == {} and project.params == ("params.yaml",)
    assert parse_project("# nothing\n").guards.guards == {}
    assert parse_project("guards:\n").guards.guards == {}


def test_typo_names_line_and_suggestion() -> None:
    msg = errors_of(
        """\
        guards:
          raw:
            data: data/raw
            rules:
              - {column: tenure, range: {min: 0}}
              - column: tenure
                nul_fraction: {max: 0.1}
        """
    )
    assert msg == (
        "gitml.yaml:7: unknown key 'nul_fraction' in guard 'raw' (did you mean 'null_fraction'?)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "guard:\n  x: {command: a}\n",
            "gitml.yaml:1: unknown key 'guard' in gitml.yaml (top level) (did you mean 'guards'?)",
        ),
        ("guards:\n  g:\n    comand: x\n", "gitml.yaml:3: unknown key 'comand'"),
        (
            "guards:\n  g:\n    data: d\n    rows: {min: 5, maxx: 3}\n",
            "gitml.yaml:4: unknown key 'maxx' in guard 'g' rows (did you mean 'max'?)",
        ),
        ("guards:\n  g:\n    data: d\n    rows: {min: 5, max: 3}\n", "gitml.yaml:4: "),
        (
            "guards:\n  g:\n    data: d\n    schema: {columns: {a: int46}}\n",
            "gitml.yaml:4: guard 'g' schema: unknown type 'int46' for column 'a'",
        ),
        ("guards:\n  g:\n    data: ../outside\n", "gitml.yaml:3: guard 'g':"),
        (
            "guards:\n  g:\n    metrics: m.json\n    thresholds: {acc: '=> 0.8'}\n",
            "gitml.yaml:4: guard 'g' thresholds: '=> 0.8' is not",
        ),
        (
            "guards:\n  g:\n    metrics: m.json\n    thresholds: {acc: 0.8}\n",
            "gitml.yaml:4: guard 'g' thresholds: 'acc' must be text",
        ),
        ("guards:\n  g:\n    data: d\n    metrics: m.json\n", "gitml.yaml:4: guard 'g' mixes data"),
        ("guards:\n  g:\n    rules: []\n", "gitml.yaml:3: guard 'g': data checks need"),
        ("guards:\n  g: {}\n", "gitml.yaml:2: guard 'g' checks nothing"),
        (
            "guards:\n  g:\n    data: d\n    rules:\n      - {column: a, null_fraction: {max: 0.1},"
            " mostly: 0.9}\n",
            "gitml.yaml:5: guard 'g' null_fraction: null_fraction is already",
        ),
        (
            "guards:\n  g:\n    data: d\n    rules:\n      - {column: a, range: {min: 0},"
            " unique: true}\n",
            "gitml.yaml:5: guard 'g': a rule has exactly one check",
        ),
        ("guards:\n  g:\n    data: d\n    rules:\n      - {column: a}\n", "exactly one check"),
        (
            "guards:\n  g:\n    data: d\n    rules:\n      - {column: a, regex: '(unclosed'}\n",
            "gitml.yaml:5: guard 'g' regex: invalid regular expression",
        ),
        (
            "guards:\n  g:\n    data: d\n    rules:\n      - {column: a, range: {min: '0'}}\n",
            "gitml.yaml:5: guard 'g' range: 'min' must be a number, not text",
        ),
        (
            "guards:\n  g:\n    data: d\n    rules:\n      - {column: a, range: {min: 0},"
            " mostly: 1.5}\n",
            "'mostly' must be <= 1.0",
        ),
        ("guards:\n  g:\n    data: d\n    format: parquett\n", "(did you mean 'parquet'?)"),
        ("guards:\n  'bad name':\n    command: x\n", "gitml.yaml:2: guard name 'bad name'"),
        (
            "guards:\n  g:\n    command: x\n    command: y\n",
            "gitml.yaml:4: duplicate key 'command'",
        ),
        ("guards:\n  g:\n    command: [x\n", "gitml.yaml:4: invalid YAML"),
        ("- a\n- b\n", "gitml.yaml:1: the file must be a mapping"),
        ("guards: [a]\n", "gitml.yaml:1: 'guards' must be a mapping"),
        ("stages: [a]\n", "gitml.yaml:1: 'stages' must be a mapping"),
        ("params: {a: 1}\n", "gitml.yaml:1: 'params' must be a list"),
        ("params: [../x]\n", "gitml.yaml:1: params file '../x'"),
        ("guards:\n  g:\n    command: !!python/object:os.system x\n", "gitml.yaml:3: bad value"),
        ("guards:\n  g:\n    command: x\n    timeout: 2020-13-45\n", "gitml.yaml:4: bad value"),
        ("guards:\n  g:\n    command: x\n    timeout: true\n", "'timeout' must be a number"),
        (
            "guards:\n  g:\n    metrics: m.json\n    no_regression: {metrics: {acc: up}}\n",
            "gitml.yaml:4: guard 'g' no_regression: 'acc' must be 'higher' or 'lower'",
        ),
    ],
)
def test_errors_name_the_line(text: str, expected: str) -> None:
    assert expected in errors_of(text)


def test_bad_utf8_and_size() -> None:
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        parse_project(b"guards:\n  \xff: x\n")
    with pytest.raises(ConfigError, match="larger than"):
        parse_project(b"#" * (5 * 1024 * 1024))


def test_alias_bomb_and_deep_nesting_are_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)
    )
    with pytest.raises(ConfigError, match="too large"):
        parse_yaml(bomb, source="x.yaml")
    with pytest.raises(ConfigError, match="deeper"):
        parse_yaml("a: " + "[" * 200 + "]" * 200, source="x.yaml")
    with pytest.raises(ConfigError):
        parse_yaml("&a [*a]", source="x.yaml")


def test_keys_are_text_as_written_and_merge_keys_work() -> None:
    root = parse_yaml("on: 1\n1: 2\nbase: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3}\n", source="f")
    assert isinstance(root, YamlMap)
    assert root["on"] == 1 and root["1"] == 2
    assert root["use"] == {"x": 1, "y": 3}


def test_helpers_for_other_sections() -> None:
    project = parse_project("stages:\n  train:\n    cmd: x\n    outz: [a]\n")
    node = project.stages["train"]
    with pytest.raises(ConfigError) as info:
        check_keys(node, ("cmd", "outs", "deps"), "stage 'train'")
    assert str(info.value) == (
        "gitml.yaml:4: unknown key 'outz' in stage 'train' (did you mean 'outs'?)"
    )
    with pytest.raises(ConfigError, match=r"gitml\.yaml:3: stage: 'cmd' must be a number"):
        expect_number(node, "cmd", "stage")


def test_artifacts_are_validated_strictly() -> None:
    with pytest.raises(ConfigError) as info:
        parse_project("artifacts:\n  churn:\n    path: m.pkl\n    labls: [a]\n")
    assert str(info.value) == (
        "gitml.yaml:4: unknown key 'labls' in artifact 'churn' (did you mean 'labels'?)"
    )
    with pytest.raises(ConfigError, match=r"gitml\.yaml:3: artifact 'churn': missing .*'path'"):
        parse_project("artifacts:\n  churn:\n    type: model\n")
    with pytest.raises(ConfigError, match=r"gitml\.yaml:2: artifact name 'bad name!'"):
        parse_project("artifacts:\n  bad name!: {path: m.pkl}\n")
    with pytest.raises(ConfigError, match=r"gitml\.yaml:2: artifact 'c': "):
        parse_project("artifacts:\n  c: {path: m.pkl, metrics: ../m}\n")
    spec = parse_project(
        "artifacts:\n  churn:\n    path: models/churn.pkl\n    type: model\n"
        "    metrics: metrics.json\n    description: churn\n    labels: [a, b]\n"
    ).artifacts["churn"]
    assert (spec.path, spec.type, spec.metrics, spec.description, spec.labels, spec.line) == (
        "models/churn.pkl", "model", ("metrics.json",), "churn", ("a", "b"), 2
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (">= 0.85", (">=", 0.85)),
        ("<1e-3", ("<", 0.001)),
        ("== -2", ("==", -2.0)),
        (" > .5 ", (">", 0.5)),
    ],
)
def test_parse_threshold(text: str, expected: tuple[str, float]) -> None:
    assert parse_threshold(text) == expected


@pytest.mark.parametrize("text", ["=> 1", ">= ", ">= x", "0.85", ">= 1 2", "!= 3", ">= nan"])
def test_parse_threshold_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_threshold(text)


def test_spec_import_is_cheap() -> None:
    code = (
        "import sys, gitml.project.file, gitml.guards.runner; "
        "assert 'pyarrow' not in sys.modules, 'pyarrow imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
