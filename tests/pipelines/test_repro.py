from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Cli
from tests.pipelines.conftest import YAML, count, write_project


def actions(cli: Cli, *args: str, expect: int = 0) -> dict[str, Any]:
    out = cli("repro", "--json", *args, expect=expect).out
    doc = json.loads(out[out.index("{\n") :])
    return {s["stage"]: s for s in doc["stages"]}


def test_runs_in_order_then_up_to_date(project: Path, cli: Cli) -> None:
    acts = actions(cli, "--dry-run")
    assert acts["prepare"]["action"] == "would-run" and acts["train"]["action"] == "would-run"
    assert not (project / "gitml.lock").exists() and count(project, "prepare") == 0
    assert "train  <- prepare" in cli("dag").out
    dot = cli("dag", "--dot").out
    assert dot.startswith("digraph") and '"prepare" -> "train";' in dot
    res = cli("repro")
    assert "stage prepare: ran" in res.out and "stage train: ran" in res.out
    assert (project / "data/prepared.gitml").is_file() and (
        project / "models/m.txt.gitml"
    ).is_file()
    lock = json.loads((project / "gitml.lock").read_text())
    assert set(lock["stages"]) == {"prepare", "train"}
    assert lock["stages"]["train"]["metrics"]["metrics/m.json"] == {"accuracy": 0.9}
    assert lock["stages"]["prepare"]["params"] == {"prepare": {"scale": 2}}
    assert (project / "gitml.lock").read_text().endswith("}\n")
    assert "2" in (project / "data/prepared/out.txt").read_text()
    acts = actions(cli)
    assert {s["action"] for s in acts.values()} == {"up-to-date"}
    assert count(project, "prepare") == 1 and count(project, "train") == 1


def test_each_kind_of_change_is_detected(project: Path, cli: Cli) -> None:
    cli("repro")
    # command
    (project / "gitml.yaml").write_text(
        YAML.replace("python src/train.py", "python src/train.py x")
    )
    acts = actions(cli)
    assert acts["prepare"]["action"] == "up-to-date"
    assert acts["train"]["action"] == "ran" and "command changed" in acts["train"]["reasons"]
    # dep
    (project / "data/raw/a.txt").write_text("row-2\n")
    acts = actions(cli)
    assert acts["prepare"]["reasons"] == ["dep data/raw changed"]
    assert acts["train"]["reasons"] == ["dep data/prepared changed"]
    # param
    (project / "params.yaml").write_text("prepare:\n  scale: 2\ntrain:\n  acc: 0.95\n")
    acts = actions(cli)
    assert acts["prepare"]["action"] == "up-to-date"
    assert acts["train"]["reasons"] == ["param train changed"]
    # out deleted: same inputs, so the run cache brings it back without running
    before = count(project, "train")
    (project / "models/m.txt").unlink()
    acts = actions(cli)
    assert acts["train"]["action"] == "restored" and acts["train"]["reasons"] == [
        "out models/m.txt missing"
    ]
    assert (project / "models/m.txt").is_file() and count(project, "train") == before


def test_run_cache_restores_without_running(project: Path, cli: Cli) -> None:
    cli("repro")
    (project / "params.yaml").write_text("prepare:\n  scale: 3\ntrain:\n  acc: 0.9\n")
    cli("repro")
    assert count(project, "prepare") == 2
    (project / "params.yaml").write_text("prepare:\n  scale: 2\ntrain:\n  acc: 0.9\n")
    res = cli("repro")
    assert "stage prepare: restored from the run cache" in res.out
    assert count(project, "prepare") == 2 and count(project, "train") == 2
    assert (project / "data/prepared/out.txt").read_text().endswith("2")
    assert json.loads((project / "metrics/m.json").read_text()) == {"accuracy": 0.9}
    # --force runs even so
    cli("repro", "--force", "prepare")
    assert count(project, "prepare") == 3 and count(project, "train") == 2


def test_failing_command_stops_and_keeps_lock(project: Path, cli: Cli) -> None:
    bad = YAML.replace(
        "python src/train.py", "python -c \"import sys; print('boom-line'); sys.exit(3)\""
    )
    (project / "gitml.yaml").write_text(bad)
    res = cli("repro", expect=1)
    assert "exited with code 3" in res.err and "boom-line" in res.err
    lock = json.loads((project / "gitml.lock").read_text())
    assert list(lock["stages"]) == ["prepare"]


def test_failing_guard_stops(repo: Path, cli: Cli) -> None:
    write_project(repo, acc=0.5)
    res = cli("repro", expect=1)
    assert "guards FAILED" in res.out and "accuracy" in res.out
    assert list(json.loads((repo / "gitml.lock").read_text())["stages"]) == ["prepare"]


def test_dag_errors_name_the_stages(repo: Path, cli: Cli) -> None:
    cycle = (
        "stages:\n  one:\n    cmd: x\n    deps: [b]\n    outs: [a]\n"
        "  two:\n    cmd: y\n    deps: [a]\n    outs: [b]\n"
    )
    (repo / "gitml.yaml").write_text(cycle)
    err = cli("repro", expect=1).err
    assert "cycle" in err and "one" in err and "two" in err
    dup = "stages:\n  one:\n    cmd: x\n    outs: [a]\n  two:\n    cmd: y\n    outs: [a]\n"
    (repo / "gitml.yaml").write_text(dup)
    err = cli("dag", expect=1).err
    assert "'one' and 'two' both write a" in err and "gitml.yaml:" in err
    (repo / "gitml.yaml").write_text("stages:\n  one:\n    cmd: x\n    outz: [a]\n")
    assert "gitml.yaml:4: unknown key 'outz'" in cli("dag", expect=3).err


def test_missing_dep_is_an_error(project: Path, cli: Cli) -> None:
    (project / "src/train.py").unlink()
    err = cli("repro", "train", expect=1).err
    assert "stage 'train': dep src/train.py does not exist" in err
    assert list(json.loads((project / "gitml.lock").read_text())["stages"]) == ["prepare"]


def test_repro_stages_the_metrics_and_params_it_records(project: Path, cli: Cli) -> None:
    """A repro followed by `git commit` is never half-staged (issue 10)."""
    from tests.conftest import git

    cli("repro")
    staged = set(git(project, "diff", "--cached", "--name-only").split())
    assert {"gitml.lock", "models/m.txt.gitml", "metrics/m.json", "params.yaml"} <= staged
    assert git(project, "diff", "--name-only", "--", "metrics/m.json", "params.yaml") == ""


def test_a_frozen_stage_never_runs(project: Path, cli: Cli) -> None:
    cli("repro")
    text = (project / "gitml.yaml").read_text()
    (project / "gitml.yaml").write_text(
        text.replace(
            "    cmd: python src/prep.py\n", "    cmd: python src/prep.py\n    frozen: true\n"
        )
    )
    (project / "data" / "raw" / "new.txt").write_text("more\n")
    acts = actions(cli)
    assert acts["prepare"]["action"] == "frozen"
    assert count(project, "prepare") == 1
    assert "stage prepare: frozen (not run)" in cli("repro", "--force").out
    assert count(project, "prepare") == 1
