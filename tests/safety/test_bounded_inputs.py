"""Hostile documents from outside are parsed bounded and fail with one short line.

Issue 11 item 10 and the medium "tampered gitml.lock": a 368-byte YAML alias
bomb, a note of 100,000 nested ``[`` pushed by a teammate, a gitml.lock with
wrong types or absurd nesting, unsafe stage/artifact names in gitml.yaml.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitml.errors import ConfigError
from tests.conftest import Cli, git, run_gitml

# gitml.bounded's limits, spelled out so that each test also runs (and fails) on
# code that predates the module.
MAX_NODES = 200_000
JSON_MAX_DEPTH = 100


def alias_bomb(key: str) -> str:
    """The classic "billion laughs": 9 levels of 9 aliases, 9**9 strings expanded."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append(f"{key}: *i")
    return "\n".join(lines) + "\n"


def one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr[:2000]
    first = stderr.splitlines()[0]
    assert first.startswith("error: "), stderr[:2000]
    return first


# ---------------------------------------------------------------- YAML


def test_billion_laughs_dvc_file_fails_at_once_with_a_short_error(repo: Path) -> None:
    bomb = alias_bomb("outs")
    assert len(bomb) < 400
    (repo / ".dvc").mkdir()
    (repo / "data.dvc").write_text(bomb)
    proc = run_gitml(repo, "import-dvc")
    assert proc.returncode == 3
    first = one_line_error(proc.stderr)
    assert first.startswith("error: data.dvc:6: document too large (over ")
    assert f"{MAX_NODES:,} nodes with aliases expanded" in first
    assert "lol" not in proc.stderr and "hint: fix or remove the file" in proc.stderr
    assert len(proc.stderr) < 1000 and len(proc.stdout) < 1000
    assert not (repo / "data.gitml").exists()


def test_alias_bomb_in_params_yaml_is_a_clear_repro_error(repo: Path, cli: Cli) -> None:
    (repo / "params.yaml").write_text(alias_bomb("train"))
    (repo / "gitml.yaml").write_text(
        "stages:\n  fit:\n    cmd: echo ran > out.txt\n    params: [train]\n    outs: [out.txt]\n"
    )
    result = cli("repro", expect=3)
    assert result.err.startswith("error: params.yaml:6: document too large (over ")
    assert len(result.err) < 1000 and "lol" not in result.err + result.out
    assert not (repo / "out.txt").exists() and not (repo / "gitml.lock").exists()


def test_a_symlinked_params_file_is_not_followed(repo: Path, cli: Cli, tmp_path: Path) -> None:
    secret = tmp_path / "hosts.yml"  # outside the repository, e.g. ~/.config/gh/hosts.yml
    secret.write_text("github:\n  oauth_token: gho_SECRET\n")
    (repo / "params.yaml").symlink_to(secret)  # what a cloned repository can hold
    (repo / "gitml.yaml").write_text(
        "stages:\n  fit:\n    cmd: echo ran > out.txt\n    params: [github]\n    outs: [out.txt]\n"
    )
    result = cli("repro", expect=3)
    assert result.err.startswith("error: params.yaml: is a symbolic link")
    lock = repo / "gitml.lock"
    assert not lock.exists() or "gho_SECRET" not in lock.read_text()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("a: &a [*a]\n", "t.yaml:1: an alias refers to a node that contains it"),
        ("x: " + "[" * 70 + "]" * 70 + "\n", "t.yaml:1: nested deeper than 64 levels"),
        # a shallow anchor used deep down is as deep as its expansion
        ("d: &d " + "[" * 40 + "]" * 40 + "\ne: " + "[" * 30 + "*d" + "]" * 30 + "\n", "deeper"),
        ("k: " + "x" * 200 + "\n", "t.yaml: larger than 100 B; refused unread"),
    ],
)
def test_yaml_limits(doc: str, message: str) -> None:
    from gitml.bounded import load_yaml

    max_bytes = 100 if "x" * 200 in doc else 1 << 20
    with pytest.raises(ConfigError) as info:
        load_yaml(doc, source="t.yaml", max_bytes=max_bytes)
    assert message in info.value.message and len(info.value.message) < 200


def test_gitml_yaml_and_dvc_reader_share_the_one_bounded_loader(repo: Path, cli: Cli) -> None:
    (repo / "gitml.yaml").write_text(alias_bomb("stages"))
    result = cli("dag", expect=3)
    assert "gitml.yaml:6: document too large" in result.err and len(result.err) < 1000


# ---------------------------------------------------------------- JSON


def test_json_depth_is_checked_before_the_recursive_decoder() -> None:
    from gitml.bounded import load_json

    with pytest.raises(ConfigError, match=f"n: JSON nested deeper than {JSON_MAX_DEPTH} levels"):
        load_json("[" * 100_000, source="n", max_bytes=1 << 20)
    ok = "[" * JSON_MAX_DEPTH + "]" * JSON_MAX_DEPTH
    assert load_json(ok, source="n", max_bytes=1 << 20) is not None
    # brackets inside strings are no nesting
    text = json.dumps({"msg": "[" * 500, "esc": '\\"[[[' * 50})
    assert load_json(text, source="n", max_bytes=1 << 20)["msg"] == "[" * 500


def _note(repo: Path, rev: str, text: str, tmp: Path) -> None:
    note = tmp / "note.txt"
    note.write_text(text)
    git(repo, "notes", "--ref=gitml", "add", "-f", "-F", str(note), rev)


def test_a_pushed_note_bomb_breaks_nobody_who_pulls(repo: Path, cli: Cli, tmp_path: Path) -> None:
    (repo / "models").mkdir()
    (repo / "models" / "m.pkl").write_bytes(b"model one")
    cli("add", "models/m.pkl")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "good")
    good = git(repo, "rev-parse", "HEAD").strip()
    doc = {"schema": 1, "verified": True, "bypassed": False, "data": {}, "params": {}}
    _note(repo, good, json.dumps({**doc, "metrics": {"m.json": {"auc": 0.9}}}), tmp_path)
    (repo / "models" / "m.pkl").write_bytes(b"model two")
    cli("add", "models/m.pkl")
    git(repo, "commit", "-qam", "bad")
    bad = git(repo, "rev-parse", "HEAD").strip()
    _note(repo, bad, "[" * 100_000, tmp_path)  # what anyone with push access can do

    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main", "refs/notes/gitml")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    git(clone, "fetch", "-q", "origin", "refs/notes/gitml:refs/notes/gitml")

    shown = run_gitml(clone, "show", bad)
    assert shown.returncode == 2
    first = one_line_error(shown.stderr)
    assert first == (
        f"error: commit {bad[:12]}: its gitml note cannot be read: "
        f"gitml note: JSON nested deeper than {JSON_MAX_DEPTH} levels"
    )
    assert len(shown.stderr) < 1000
    ok = run_gitml(clone, "show", good, "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["metrics"] == {"m.json": {"auc": 0.9}}

    log = run_gitml(clone, "log", "--json")
    assert log.returncode == 0, log.stderr[:2000]
    rows = json.loads(log.stdout)
    assert [r["commit"] for r in rows] == [bad, good]
    assert rows[1]["values"] == {"auc": 0.9} and rows[0]["values"] == {}
    assert f"commit {bad[:12]}: its gitml note was skipped" in log.stderr
    assert len(log.stderr) < 1000

    # register reads the note of the commit it registers (lineage): the bad one
    (clone / "models" / "m.pkl").write_bytes(b"model two")  # its bytes, into the clone's cache
    # the clone never had its data, so add asks for --force (it records the workspace)
    assert run_gitml(clone, "add", "--force", "models/m.pkl").returncode == 0
    reg = run_gitml(clone, "register", "m", "--path", "models/m.pkl", "--rev", bad, "--json")
    assert reg.returncode == 0, reg.stderr[:2000]
    assert json.loads(reg.stdout)["commit"] == bad


# ---------------------------------------------------------------- gitml.lock


def _locked_project(repo: Path, cli: Cli) -> dict[str, Any]:
    (repo / "gitml.yaml").write_text(
        "stages:\n  fit:\n    cmd: echo ran > out.txt\n    outs: [out.txt]\n"
    )
    cli("repro")
    lock: dict[str, Any] = json.loads((repo / "gitml.lock").read_text())
    return lock


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda lk: lk.update(stages=[1, 2]), "'stages' must be a mapping of stage name"),
        (lambda lk: lk["stages"].update(fit=[]), "stage 'fit': must be a mapping, not a list"),
        (
            lambda lk: lk["stages"]["fit"]["outs"]["out.txt"].update(oid=12345),
            "stage 'fit': out 'out.txt': 'oid' must be 64 hex digits, not a number",
        ),
        (
            lambda lk: lk["stages"]["fit"].update(deps=["a"]),
            "stage 'fit': 'deps' must be a mapping, not a list",
        ),
        (lambda lk: lk.update(version="1"), "'version' must be 1, not '1'"),
        (
            lambda lk: lk["stages"]["fit"].update(params={"p": json.loads("[" * 200 + "]" * 200)}),
            f"JSON nested deeper than {JSON_MAX_DEPTH} levels",
        ),
    ],
)
def test_tampered_lock_is_one_line_with_a_hint(
    repo: Path, cli: Cli, tamper: Callable[[dict[str, Any]], None], problem: str
) -> None:
    lock = _locked_project(repo, cli)
    tamper(lock)
    (repo / "gitml.lock").write_text(json.dumps(lock))
    proc = run_gitml(repo, "repro")
    assert proc.returncode == 3
    first = one_line_error(proc.stderr)
    assert first.startswith("error: gitml.lock") and problem in first
    assert "hint: restore it with `git checkout gitml.lock`, or delete it and run gitml repro" in (
        proc.stderr
    )


def test_deeply_nested_lock_file_is_not_a_recursion_error(repo: Path, cli: Cli) -> None:
    _locked_project(repo, cli)
    (repo / "gitml.lock").write_text('{"version": 1, "stages": ' + "[" * 100_000)
    proc = run_gitml(repo, "repro")
    assert proc.returncode == 3
    assert one_line_error(proc.stderr) == (
        f"error: gitml.lock: JSON nested deeper than {JSON_MAX_DEPTH} levels"
    )


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "shown", "suggestion"),
    [
        ("../evil", "'../evil'", "did you mean 'evil'?"),
        ("my stage", "'my stage'", "did you mean 'my-stage'?"),
        ("a\\nb", "'a\\\\nb'", "did you mean 'a-nb'?"),
        ("x" * 150, "'" + "x" * 77 + "...'", "did you mean '" + "x" * 77 + "...'?"),
    ],
)
def test_unsafe_stage_names_are_refused_with_a_suggestion(
    repo: Path, cli: Cli, name: str, shown: str, suggestion: str
) -> None:
    key = json.dumps(name)
    text = f"stages:\n  ok:\n    cmd: 'true'\n  {key}:\n    cmd: 'true'\n"
    (repo / "gitml.yaml").write_text(text)
    result = cli("dag", expect=3)
    assert result.err.startswith(f"error: gitml.yaml:4: stage name {shown} must be letters")
    assert f"hint: {suggestion}" in result.err


@pytest.mark.parametrize(
    ("section", "body", "name", "shown", "suggestion"),
    [
        ("stages", 'cmd: "true"', "a\\nb", "'a\\nb'", "'a-b'"),
        # guard names used `re.match(...$)`, which let a trailing newline through
        ("guards", "command: x", "x\\n", "'x\\n'", "'x'"),
    ],
)
def test_control_characters_in_names_are_refused(
    repo: Path, cli: Cli, section: str, body: str, name: str, shown: str, suggestion: str
) -> None:
    (repo / "gitml.yaml").write_text(f'{section}:\n  "{name}":\n    {body}\n')
    result = cli("dag", expect=3)
    kind = section[:-1]
    assert result.err.startswith(f"error: gitml.yaml:2: {kind} name {shown} must be letters")
    assert f"hint: did you mean {suggestion}?" in result.err


def test_unsafe_artifact_name_in_gitml_yaml_is_refused(repo: Path, cli: Cli) -> None:
    (repo / "m.pkl").write_bytes(b"m")
    cli("add", "m.pkl")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "model")
    (repo / "gitml.yaml").write_text('artifacts:\n  "churn model":\n    path: m.pkl\n')
    result = cli("register", "churn", "--path", "m.pkl", expect=3)
    assert result.err.startswith("error: gitml.yaml:2: artifact name 'churn model' is not valid")
    assert "hint: did you mean 'churn-model'?" in result.err


def test_quote_bounds_what_an_error_shows() -> None:
    from gitml.bounded import JSON_MAX_DEPTH as depth
    from gitml.bounded import MAX_NODES as nodes
    from gitml.bounded import quote

    assert (nodes, depth) == (MAX_NODES, JSON_MAX_DEPTH)
    assert quote("train") == "'train'"
    assert quote("x" * 10_000) == repr("x" * 77 + "...")
    assert quote([["lol"] * 9] * 9) == "<a list>"
    assert quote(10**5000) == "<a very long number>"
