from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli
from tests.pipelines.conftest import count


def incoming(root: Path, score: float) -> None:
    (root / "incoming").mkdir(exist_ok=True)
    (root / "incoming/batch.txt").write_text(f"{score} batch-7\n")


def run(cli: Cli, *extra: str, expect: int) -> dict[str, object]:
    out = cli(
        "monitor",
        "m",
        "--data",
        "incoming",
        "--metric",
        "accuracy",
        "--min",
        "0.85",
        "--json",
        *extra,
        expect=expect,
    ).out
    doc: dict[str, object] = json.loads(out[out.index("{\n") :])
    return doc


def test_healthy_then_degraded(project: Path, cli: Cli) -> None:
    cli("repro")
    incoming(project, 0.9)
    doc = run(cli, expect=0)
    assert doc["before"]["value"] == 0.9  # type: ignore[index]
    assert (project / str(doc["record"])).is_file()
    incoming(project, 0.5)
    doc = run(cli, expect=1)
    assert "degraded" in str(doc["message"]) and not (project / "data/raw/batch.txt").exists()
    assert len(list((project / ".gitml/monitor").glob("*-m.json"))) == 2


def test_retrain_fixes_it(project: Path, cli: Cli) -> None:
    cli("repro")
    incoming(project, 0.5)
    doc = run(cli, "--retrain", expect=10)
    assert doc["retrained"] is True and doc["after"]["value"] == 0.99  # type: ignore[index]
    assert (project / "data/raw/batch.txt").is_file() and (project / "data/raw.gitml").is_file()
    assert count(project, "prepare") == 2 and count(project, "train") == 2
    lock = json.loads((project / "gitml.lock").read_text())
    assert "data/raw" in lock["stages"]["prepare"]["deps"]


def test_retrain_registers_and_promotes(project: Path, cli: Cli) -> None:
    from tests.conftest import git

    cli("add", "data/raw")
    cli("repro")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "base")
    cli("register", "m")
    cli("promote", "m@v1", "prod")
    incoming(project, 0.5)
    doc = run(cli, "--retrain", "--register", "--promote", expect=10)
    assert doc["registered"] and doc["promoted"] == "prod"
    assert "gitml monitor: retrain m" in git(project, "log", "-1", "--format=%s")
    # the prod model is now the retrained one: healthy
    assert run(cli, expect=0)["before"]["value"] == 0.99  # type: ignore[index]


def test_refused_commit_is_reported_with_gits_message(project: Path, cli: Cli) -> None:
    from tests.conftest import git

    cli("add", "data/raw")
    cli("repro")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "base")
    cli("register", "m")
    head = git(project, "rev-parse", "HEAD")
    hooks = project / "refuse-hooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\necho 'frozen: no commits today' >&2\nexit 1\n")
    (hooks / "pre-commit").chmod(0o755)
    git(project, "config", "core.hooksPath", "refuse-hooks")
    incoming(project, 0.5)
    doc = run(cli, "--retrain", "--register", expect=1)
    assert str(doc["message"]).endswith(
        "; could not commit the new model: git commit failed: frozen: no commits today"
    )
    assert doc["retrained"] is True and doc["registered"] is None
    assert git(project, "rev-parse", "HEAD") == head
