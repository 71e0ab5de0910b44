"""Unit tests (no repository): DVC file parsing, path checks, YAML 1.2 scalars, MD5 flavours."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from gitml.errors import InteropError, UnsafePathError
from gitml.interop.dvccache import parse_dir_object
from gitml.interop.dvcfiles import DvcOutput, DvcStage, Skipped, parse_dvc_file, resolve
from gitml.interop.dvcstages import parse_pipeline
from gitml.interop.md5 import CHUNK, dvc_md5_bytes
from gitml.interop.stages import NotConvertible, build_spec
from gitml.interop.yaml12 import load_yaml
from gitml.project.edit import CannotEdit, add_stages

H = "0123456789abcdef0123456789abcdef"


def test_yaml12_keeps_dvc_names_as_strings() -> None:
    doc = load_yaml(
        "a: on\nb: no\nc: 2023-01-01\nd: 1:20\ne: 0777\nf: true\ng: 12\nh: ~\n", source="t.yaml"
    )
    assert doc == {
        "a": "on",
        "b": "no",
        "c": "2023-01-01",
        "d": "1:20",
        "e": 777,
        "f": True,
        "g": 12,
        "h": None,
    }
    assert load_yaml(f"md5: {H}", source="t.yaml")["md5"] == H


@pytest.mark.parametrize(
    ("base", "raw", "expected"),
    [
        ("", "data", "data"),
        ("sub", "../data", "data"),
        ("sub", "./x/", "sub/x"),
        ("", "s3://bucket/x", None),
        ("", "/abs/path", None),
        ("", "remote://r/x", None),
        ("", "C:\\data", None),
    ],
)
def test_resolve(base: str, raw: str, expected: str | None) -> None:
    assert resolve(base, raw, source="f.dvc", what="path") == expected


@pytest.mark.parametrize("raw", ["..", "../x", "a/../../x", ".git", "x/.gitml/y", "a\\b", "."])
def test_resolve_refuses(raw: str) -> None:
    with pytest.raises(UnsafePathError):
        resolve("", raw, source="f.dvc", what="path")


def test_dvc_file_outputs_and_skips() -> None:
    text = f"""
outs:
- md5: {H}
  size: 3
  hash: md5
  path: a.csv
- md5: {H}.dir
  nfiles: 2
  path: legacy
- path: m.json
  md5: {H}
  cache: false
- path: s3://b/k
  etag: xyz
- path: never
- path: other
  hash: sha256
  sha256: abc
"""
    parsed = parse_dvc_file("sub/x.dvc", text.encode(), "")
    assert parsed.outputs == [
        DvcOutput("sub/a.csv", H, False, 3, None, "sub/x.dvc"),
        DvcOutput("sub/legacy", H + ".dir", True, None, 2, "sub/x.dvc"),
    ]
    reasons = {s.path: s.reason for s in parsed.skipped}
    assert reasons.keys() == {"sub/m.json", "s3://b/k", "sub/never", "sub/other"}
    assert "cache: false" in reasons["sub/m.json"] and "external" in reasons["s3://b/k"]


@pytest.mark.parametrize(
    "text",
    [
        "outs: 3",
        "outs:\n- md5: XYZ\n  path: a",
        "outs:\n- md5: 12\n  path: a",
        "[1, 2]",
        "outs: [{path: a, md5: " + H + ", size: -1}]",
        "a: [unclosed",
    ],
)
def test_malformed_dvc_file(text: str) -> None:
    with pytest.raises(InteropError):
        parse_dvc_file("x.dvc", text.encode(), "")


def test_import_dvc_file_notes_its_origin() -> None:
    text = (
        f"deps:\n- path: data\n  repo:\n    url: https://example.com/r\nouts:\n- md5: {H}\n"
        "  hash: md5\n  path: data\n"
    )
    parsed = parse_dvc_file("data.dvc", text.encode(), "")
    assert len(parsed.outputs) == 1 and "https://example.com/r" in parsed.notes[0]


def test_pipeline_with_wdir_foreach_and_uncached_metrics() -> None:
    yaml_text = """
stages:
  train:
    wdir: src
    cmd: python train.py
    deps: [train.py]
    params: [lr, {other.yaml: [a]}]
    outs: [../model.pkl]
    metrics: [{scores.json: {cache: false}}]
  gen:
    foreach: [a, b]
    do:
      cmd: make ${item}
      outs:
      - out/${item}.bin
"""
    lock_text = f"""
schema: '2.0'
stages:
  train:
    cmd: python train.py
    outs:
    - path: ../model.pkl
      md5: {H}
      hash: md5
    - path: scores.json
      md5: {H}
      hash: md5
  gen@a:
    cmd: make a
    outs:
    - path: out/a.bin
      md5: {H}
"""
    parsed = parse_pipeline("p/dvc.yaml", yaml_text.encode(), "p/dvc.lock", lock_text.encode(), "")
    assert [(o.path, o.stage, o.legacy) for o in parsed.outputs] == [
        ("p/model.pkl", "train", False),
        ("p/out/a.bin", "gen@a", True),
    ]
    assert parsed.skipped == [
        Skipped(
            "p/src/scores.json",
            "p/dvc.lock",
            "cache: false (DVC does not cache it): it stays a plain file, no pointer",
        )
    ]
    train = parsed.stages[0]
    assert (train.name, train.wdir, train.cmd) == ("train", "p/src", ["python train.py"])
    assert train.deps == ["train.py"]
    assert train.params == ["lr", "other.yaml:a"] and train.metrics == ["scores.json"]


def test_dir_listing_checks() -> None:
    good = f'[{{"md5": "{H}", "relpath": "a/b"}}, {{"md5": "{H}", "relpath": "c", "isexec": true}}]'
    entries = parse_dir_object(good.encode(), "t")
    assert [(e.relpath, e.isexec) for e in entries] == [("a/b", False), ("c", True)]
    for bad in [
        f'[{{"md5": "{H}", "relpath": "a"}}, {{"md5": "{H}", "relpath": "a"}}]',
        '[{"md5": "nope", "relpath": "a"}]',
        '{"a": 1}',
        "not json",
    ]:
        with pytest.raises(InteropError):
            parse_dir_object(bad.encode(), "t")


def _cases() -> list[bytes]:
    boundary = b"x" * (CHUNK - 1) + b"\r\n" + b"tail\r\n"  # a CRLF split by the chunk boundary
    text_then_binary = b"text\r\n" * (CHUNK // 6 + 1) + b"\x00" * 600 + b"\r\n" * 10
    binary_then_text = b"\x00" * 600 + b"a" * CHUNK + b"line\r\n" * 100
    return [
        b"",
        b"a\r\nb\r\n",
        b"\x00\r\n",
        os.urandom(5000),
        boundary,
        text_then_binary,
        binary_then_text,
        b"\r\n" * (CHUNK + 3),
    ]


@pytest.mark.parametrize("data", _cases(), ids=range(len(_cases())))
def test_md5_flavours_match_dvc(data: bytes) -> None:
    from dvc_data.hashfile.hash import fobj_md5

    for legacy, name in ((False, "md5"), (True, "md5-dos2unix")):
        digest = fobj_md5(io.BytesIO(data), name=name)
        assert dvc_md5_bytes(data, legacy=legacy).matches(digest)
    assert not dvc_md5_bytes(data, legacy=False).matches(fobj_md5(io.BytesIO(data + b"!")))


def _stage(body: dict[str, object], source: str = "dvc.yaml", wdir: str = "") -> DvcStage:
    return DvcStage("train", source, [], wdir, [], [], [], [], [], body=body)


def test_stage_spec_mapping(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "conf.yaml").write_text("a: 1\nb: {c: 2}\n")
    body = {
        "cmd": ["python t.py", "echo done"],
        "wdir": "sub",
        "deps": ["t.py", "../data"],
        "params": ["lr", {"conf.yaml": None}],
        "outs": ["model.pkl"],
        "metrics": [{"m.json": {"cache": False}}, "cached.json"],
        "plots": [{"p.csv": {"cache": False}}],
        "desc": "Train it",
        "frozen": True,
    }
    spec = build_spec(tmp_path, _stage(body, "sub/dvc.yaml", "sub"))
    assert spec.name == "sub-train"
    assert spec.spec == {
        "cmd": "cd sub && python t.py && echo done",
        "deps": ["sub/t.py", "data"],
        "params": ["lr", "a", "b"],
        "outs": ["sub/model.pkl", "sub/cached.json"],
        "metrics": ["sub/m.json"],
        "description": "Train it",
        "frozen": True,
    }
    assert spec.params_files == ["sub/params.yaml", "sub/conf.yaml"]
    assert spec.notes == []  # the uncached plot becomes a gitml plot (toplevel.py)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"cmd": "x", "outs": [{"o": {"cache": False}}]}, "cache: false"),
        ({"cmd": "x", "deps": ["s3://b/k"]}, "outside the repository"),
        ({"cmd": "x", "deps": ["../../x"]}, "outside the repository"),
        ({"cmd": "x", "params": [{"p.toml": ["a"]}]}, "YAML and JSON"),
        ({"outs": ["o"]}, "no cmd"),
    ],
)
def test_stage_not_convertible(tmp_path: Path, body: dict[str, object], why: str) -> None:
    with pytest.raises(NotConvertible, match=why.replace("(", r"\(")):
        build_spec(tmp_path, _stage(body))


def test_templated_stage_not_convertible(tmp_path: Path) -> None:
    stage = DvcStage("t", "dvc.yaml", [], "", [], [], [], [], [], body={"cmd": "x"}, template=True)
    with pytest.raises(NotConvertible, match="templating"):
        build_spec(tmp_path, stage)


NEW = {"prep": {"cmd": "make", "deps": ["a b"], "outs": ["on"]}}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", "stages:\n  prep:\n    cmd: make\n    deps: [a b]\n    outs: ['on']\n"),
        (
            "# mine\nguards: {}\nstages: {}  # later\nparams: [params.yaml]\n",
            "# mine\nguards: {}\nstages:\n  prep:\n    cmd: make\n"
            "    deps: [a b]\n    outs: ['on']\nparams: [params.yaml]\n",
        ),
        (
            "stages:\n    old:\n        cmd: x  # keep\n\n# tail comment\n",
            "stages:\n    old:\n        cmd: x  # keep\n    prep:\n      cmd: make\n"
            "      deps: [a b]\n      outs: ['on']\n\n# tail comment\n",
        ),
    ],
)
def test_add_stages_keeps_the_file(before: str, after: str) -> None:
    params = ("params.yaml",) if "params:" in before else None
    assert add_stages(before, NEW, ["params.yaml"], params) == after


def test_add_stages_params_and_refusals() -> None:
    assert add_stages("", NEW, ["params.yaml", "sub/p.yaml"], None).endswith(
        'params: ["params.yaml", "sub/p.yaml"]\n'
    )
    with pytest.raises(CannotEdit, match=r"sub/p\.yaml"):
        add_stages("params: [params.yaml]\n", NEW, ["sub/p.yaml"], ("params.yaml",))
    with pytest.raises(CannotEdit, match="flow style"):
        add_stages("stages: {a: {cmd: x}}\n", NEW, [], None)
