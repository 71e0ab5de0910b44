"""The model registry end to end from the CLI, on real git repositories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gitml.errors import EXIT_CHECK_FAILED, EXIT_USAGE
from tests.conftest import Cli, git

GTO = Path(sys.executable).with_name("gto")


def commit_model(cli: Cli, root: Path, content: bytes, auc: float, msg: str) -> str:
    (root / "models").mkdir(exist_ok=True)
    (root / "metrics").mkdir(exist_ok=True)
    (root / "models" / "churn.pkl").write_bytes(content)
    (root / "metrics" / "churn.json").write_text(json.dumps({"auc": auc}))
    cli("add", "models/churn.pkl")
    git(root, "add", "-A")
    git(root, "commit", "-qm", msg)
    return git(root, "rev-parse", "HEAD").strip()


def test_register_promote_checkout_list(repo: Path, cli: Cli) -> None:
    c1 = commit_model(cli, repo, b"model one", 0.9, "v1")
    out = cli("register", "churn", "--path", "models/churn.pkl", "-m", "baseline").out
    assert "v1.0.0" in out
    yaml_text = (repo / "gitml.yaml").read_text()
    assert "artifacts:" in yaml_text and 'path: "models/churn.pkl"' in yaml_text
    git(repo, "add", "gitml.yaml")
    git(repo, "commit", "-qm", "declare churn")
    # declare metrics so lineage records them
    (repo / "gitml.yaml").write_text(
        yaml_text.replace(
            '    path: "models/churn.pkl"\n',
            '    path: "models/churn.pkl"\n    metrics: metrics/churn.json\n',
        )
    )
    commit_model(cli, repo, b"model two", 0.95, "v2")
    assert "v2.0.0" in cli("register", "churn").out  # default: major bump
    head = commit_model(cli, repo, b"model three", 0.96, "v3")
    assert "v2.1.0" in cli("register", "churn", "--bump", "minor").out
    assert "churn@v2.1.0" in git(repo, "tag", "-l")

    cli("promote", "churn@v1", "prod")
    cli("promote", "churn@v2.0.0", "staging")

    # checkout a version: that version's bytes, HEAD and the pointer untouched
    cli("checkout", "churn@v1")
    assert (repo / "models" / "churn.pkl").read_bytes() == b"model one"
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert git(repo, "status", "--porcelain", "models/churn.pkl.gitml") == ""
    cli("checkout", "churn@v2.1.0")
    assert (repo / "models" / "churn.pkl").read_bytes() == b"model three"
    cli("checkout", "churn#prod")
    assert (repo / "models" / "churn.pkl").read_bytes() == b"model one"
    cli("checkout", "churn#staging", "-o", "out/staging.pkl")
    assert (repo / "out" / "staging.pkl").read_bytes() == b"model two"
    assert (repo / "models" / "churn.pkl").read_bytes() == b"model one"
    # -o refuses to overwrite different content without --force
    r = cli("checkout", "churn@v1", "-o", "out/staging.pkl", expect=None)
    assert r.code == EXIT_CHECK_FAILED and "overwrite" in r.err
    cli("checkout", "churn@v1", "-o", "out/staging.pkl", "--force")
    assert (repo / "out" / "staging.pkl").read_bytes() == b"model one"
    # an unknown version of a known artifact is a registry error, not PATH@REV
    r = cli("checkout", "churn@v9", expect=None)
    assert r.code == EXIT_CHECK_FAILED and "v1.0.0" in r.err

    from gitml import api

    assert api.model_path("churn", "prod") == repo / "models" / "churn.pkl"
    other = api.model_path("churn", "v2")
    assert other == repo / ".gitml" / "models" / "churn" / "v2.1.0" / "churn.pkl"
    assert other.read_bytes() == b"model three"

    listed = json.loads(cli("models", "--json").out)
    assert [m["name"] for m in listed] == ["churn"]
    assert listed[0]["latest"] == "v2.1.0"
    assert listed[0]["stages"] == {"prod": "v1.0.0", "staging": "v2.0.0"}
    assert listed[0]["metrics"] == {"auc": 0.96}
    assert listed[0]["registered_by"].startswith("Test User")
    assert "churn" in cli("models").out

    shown = json.loads(cli("models", "show", "churn", "--json").out)
    versions = {v["version"]: v for v in shown["versions"]}
    assert versions["v1.0.0"]["commit"] == c1
    assert versions["v1.0.0"]["note"] == "baseline"
    assert versions["v2.1.0"]["model"]["path"] == "models/churn.pkl"
    assert versions["v2.1.0"]["metrics"] == {"auc": 0.96}
    assert [h["action"] for h in shown["history"]] == [
        "register",
        "register",
        "register",
        "assign",
        "assign",
    ]
    assert "history" in cli("models", "show", "churn").out

    # GTO reads what we wrote
    proc = subprocess.run(
        [str(GTO), "show", "--json"], cwd=repo, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    gto = json.loads(proc.stdout)
    assert gto["churn"]["version"] == "v2.1.0"
    assert gto["churn"]["stage"]["prod"] == "v1.0.0"

    # demote, then deprecate a version, then the artifact
    cli("demote", "churn", "prod")
    r = cli("checkout", "churn#prod", expect=None)
    assert r.code == EXIT_CHECK_FAILED and "stage" in r.err
    cli("deprecate", "churn@v1")
    r = cli("checkout", "churn@v1.0.0", expect=None)
    assert r.code == EXIT_CHECK_FAILED and "deregistered" in r.err
    cli("deprecate", "churn")
    assert json.loads(cli("models", "--json").out) == []
    r = cli("register", "churn", expect=None)
    assert r.code == EXIT_CHECK_FAILED and "deprecated" in r.err


GUARDED = """\
guards:
  quality:
    metrics: metrics/churn.json
    thresholds:
      auc: ">= 0.9"
artifacts:
  churn:
    path: models/churn.pkl
    metrics: metrics/churn.json
"""


def test_register_refusals(repo: Path, cli: Cli) -> None:
    (repo / "gitml.yaml").write_text(GUARDED)
    # undeclared name without --path
    r = cli("register", "fraud", expect=None)
    assert r.code == EXIT_USAGE and "--path" in r.err
    # declared, but no pointer committed yet
    git(repo, "add", "gitml.yaml")
    git(repo, "commit", "-qm", "project")
    r = cli("register", "churn", expect=None)
    assert r.code == EXIT_CHECK_FAILED and "models/churn.pkl.gitml" in r.err
    # failing model guard (auc 0.5 < 0.9), then --force
    commit_model(cli, repo, b"weak", 0.5, "weak model")
    r = cli("register", "churn", expect=None)
    assert r.code == EXIT_CHECK_FAILED and "quality" in r.err and "--force" in r.err
    assert git(repo, "tag", "-l") == ""
    cli("register", "churn", "--force", "--version", "v0.1.0")
    shown = json.loads(cli("models", "show", "churn", "--json").out)
    assert shown["versions"][0]["guards"][0]["passed"] is False
    assert "FORCED" in shown["versions"][0]["note"]
    # an existing version is refused
    commit_model(cli, repo, b"strong", 0.95, "strong model")
    r = cli("register", "churn", "--version", "v0.1.0", expect=None)
    assert r.code == EXIT_CHECK_FAILED and "already" in r.err
    assert "v1.0.0" in cli("register", "churn").out
    # the object must be in the cache
    commit_model(cli, repo, b"gone", 0.97, "gone")
    oid = (repo / "models" / "churn.pkl.gitml").read_text().split("oid: ")[1].split()[0]
    for obj in (repo / ".gitml").rglob(oid[2:] + "*"):
        obj.chmod(0o644)
        obj.unlink()
    for obj in (repo / ".gitml").rglob(oid + "*"):
        obj.chmod(0o644)
        obj.unlink()
    r = cli("register", "churn", expect=None)
    assert r.code == EXIT_CHECK_FAILED and "cache" in r.err


def test_lost_race_is_a_clear_error(repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    commit_model(cli, repo, b"model", 0.9, "m")
    from gitml.git import tags
    from gitml.registry import service

    real = service.read_state
    calls = {"n": 0}

    def stale(ctx: object) -> object:
        calls["n"] += 1
        state = real(ctx)  # type: ignore[arg-type]
        if calls["n"] == 1:  # someone registers v1.0.0 right after we read the tags
            tags.create_tag(ctx.git, "churn@v1.0.0", "HEAD", "other")  # type: ignore[attr-defined]
        return state

    monkeypatch.setattr(service, "read_state", stale)
    r = cli("register", "churn", "--path", "models/churn.pkl", expect=None)
    assert r.code == EXIT_CHECK_FAILED and "v1.0.0" in r.err and "again" in r.err


def test_register_old_revision_checks_that_revisions_metrics(repo: Path, cli: Cli) -> None:
    """`register --rev OLD` vouches for OLD: its guards read the metrics committed
    there, not the workspace's (which may belong to a newer, better model)."""
    (repo / "gitml.yaml").write_text(GUARDED)
    git(repo, "add", "gitml.yaml")
    git(repo, "commit", "-qm", "project")
    weak = commit_model(cli, repo, b"weak", 0.5, "weak model")
    commit_model(cli, repo, b"strong", 0.95, "strong model")
    r = cli("register", "churn", "--rev", weak, expect=None)
    assert r.code == EXIT_CHECK_FAILED and "quality" in r.err and "0.5" in r.err
    assert git(repo, "tag", "-l") == ""
    (repo / "metrics" / "churn.json").write_text('{"auc": 0.1}')  # uncommitted, worse
    assert "v1.0.0" in cli("register", "churn").out  # HEAD's committed metrics pass
