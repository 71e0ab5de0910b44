"""Experiments end to end: real repositories, real worktrees, real subprocesses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Cli, git, run_gitml
from tests.pipelines.conftest import count, write_project
from tests.testing.team import origin_and_first_clone

PREFIX = "refs/gitml/exps/"
FAIL_IF_NEGATIVE = """\
import sys, json, os
if json.loads(os.environ["GITML_PARAMS"])["train"]["acc"] < 0:
    print("negative accuracy")
    sys.exit(3)
"""


def commit_base(root: Path, cli: Cli) -> str:
    cli("repro")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return git(root, "rev-parse", "HEAD").strip()


def show(cli: Cli) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in json.loads(cli("exp", "show", "--json").out)}


def exp_refs(root: Path) -> dict[str, str]:
    out = git(root, "for-each-ref", "--format=%(refname) %(objectname)", PREFIX)
    return dict(line.split() for line in out.splitlines())


def test_run_records_a_commit_on_a_hidden_ref_and_touches_nothing(project: Path, cli: Cli) -> None:
    base = commit_base(project, cli)
    params_before = (project / "params.yaml").read_bytes()
    res = cli("exp", "run", "-S", "train.acc=0.95", "--name", "c01")
    ref = f"{PREFIX}{base[:12]}/c01"
    assert f"experiment c01 (based on {base[:7]}): ok, guards passed; recorded as {ref}" in res.out
    # The user's HEAD, branch, index and workspace are as they were.
    assert git(project, "rev-parse", "HEAD").strip() == base
    assert git(project, "status", "--porcelain") == ""
    assert (project / "params.yaml").read_bytes() == params_before
    assert git(project, "branch", "--format=%(refname:short)").split() == ["main"]
    # One commit whose parent is the base, holding params, lock and metrics.
    sha = exp_refs(project)[ref]
    assert git(project, "rev-parse", f"{sha}^").strip() == base
    assert (
        git(project, "show", f"{sha}:params.yaml") == "prepare:\n  scale: 2\ntrain:\n  acc: 0.95\n"
    )
    assert json.loads(git(project, "show", f"{sha}:metrics/m.json")) == {"accuracy": 0.95}
    lock = json.loads(git(project, "show", f"{sha}:gitml.lock"))
    assert lock["stages"]["train"]["params"] == {"train": {"acc": 0.95}}
    # Its note is a metadata document with an experiment section.
    note = json.loads(git(project, "notes", "--ref=gitml", "show", sha))
    assert note["experiment"]["name"] == "c01" and note["experiment"]["base"] == base
    assert note["experiment"]["overrides"] == {"train.acc": 0.95}
    assert note["metrics"] == {"metrics/m.json": {"accuracy": 0.95}}
    assert note["guards"]["ok"] is True
    # The temporary worktree is gone.
    assert len(git(project, "worktree", "list", "--porcelain").split("worktree ")) == 2
    assert list((project / ".gitml/exps/run").iterdir()) == []
    row = show(cli)["c01"]
    assert (row["status"], row["guards_ok"], row["commit"]) == ("ok", True, sha)


def test_identical_rerun_is_restored_from_the_run_cache(project: Path, cli: Cli) -> None:
    commit_base(project, cli)
    cli("exp", "run", "-S", "train.acc=0.95", "--name", "a")
    runs = len(list((project / ".gitml/runs").iterdir()))
    cli("exp", "run", "-S", "train.acc=0.95", "--name", "b")
    refs = exp_refs(project)
    note = json.loads(
        git(
            project, "notes", "--ref=gitml", "show", refs[next(r for r in refs if r.endswith("/b"))]
        )
    )
    assert note["experiment"]["stages"] == [
        {"action": "up-to-date", "stage": "prepare"},
        {"action": "restored", "stage": "train"},
    ]
    assert len(list((project / ".gitml/runs").iterdir())) == runs
    assert count(project, "train") == 1  # only the base's repro ran in the workspace


def test_queue_then_run_all_in_parallel(project: Path, cli: Cli) -> None:
    base = commit_base(project, cli)
    res = cli("exp", "run", "-S", "train.acc=0.81,0.9,0.99", "--queue", "--name", "g")
    assert res.out.strip() == "queued g-1, g-2, g-3"
    rows = show(cli)
    assert {n: r["status"] for n, r in rows.items()} == {
        "g-1": "queued",
        "g-2": "queued",
        "g-3": "queued",
    }
    res = cli("exp", "run", "--run-all", "-j", "2")
    for name in ("g-1", "g-2", "g-3"):
        assert (
            f"{name}: experiment {name}: ok, guards passed (log: .gitml/exps/logs/{name}.log)"
            in res.out
        )
    rows = show(cli)
    assert {
        n: (r["status"], r["metrics"]["metrics/m.json"]["accuracy"]) for n, r in rows.items()
    } == {
        "g-1": ("ok", 0.81),
        "g-2": ("ok", 0.9),
        "g-3": ("ok", 0.99),
    }
    assert {r["base"] for r in rows.values()} == {base}
    assert cli("exp", "run", "--run-all").out.strip() == "no queued experiments"
    order = [
        e["name"] for e in json.loads(cli("exp", "show", "--json", "--sort-by", "accuracy").out)
    ]
    assert order == ["g-3", "g-2", "g-1"]
    md = cli("exp", "show", "--md").out.splitlines()
    assert md[0] == "| experiment | base | status | guards | params | accuracy |"
    assert f"| g-1 | {base[:7]} | ok | passed | train.acc=0.81 | 0.81 |" in md
    assert git(project, "status", "--porcelain") == ""


def test_range_grid_and_bad_input(project: Path, cli: Cli) -> None:
    commit_base(project, cli)
    res = cli("exp", "run", "-S", "train.acc=range(0.8,1,0.1)", "--queue", "--name", "r")
    assert res.out.strip() == "queued r-1, r-2"
    assert [r["overrides"] for r in show(cli).values()] == [{"train.acc": 0.8}, {"train.acc": 0.9}]
    res = cli("exp", "run", "-S", "train.ac=1", expect=2)
    assert res.err.startswith(
        "error: param 'train.ac' is not in params.yaml\nhint: keys at train: acc"
    )
    res = cli("exp", "run", "-S", "train.acc=1", "--name", "bad name", expect=2)
    assert "error: invalid experiment name 'bad name'" in res.err and "Traceback" not in res.err
    res = cli("exp", "run", "-S", "train.acc=0.8,0.9", expect=2)
    assert "error: the -S values make 2 experiments" in res.err
    assert cli("exp", "run", "-S", "x", "--queue", expect=2).err.startswith(
        "error: -S 'x': expected [FILE:]section.key=VALUE"
    )


def test_failing_experiment_is_recorded_and_not_applied(project: Path, cli: Cli) -> None:
    train = (project / "src/train.py").read_text()
    (project / "src/train.py").write_text(FAIL_IF_NEGATIVE + train)
    commit_base(project, cli)
    res = cli("exp", "run", "-S", "train.acc=-1", "--name", "bad", expect=1)
    assert "experiment bad" in res.out and ": failed, guards -;" in res.out
    assert "`python src/train.py` exited with code 3" in res.out and "negative accuracy" in res.out
    row = show(cli)["bad"]
    assert row["status"] == "failed" and "exited with code 3" in row["error"]
    res = cli("exp", "apply", "bad", expect=1)
    assert res.err.startswith("error: experiment 'bad' failed: stage 'train' failed")
    assert git(project, "status", "--porcelain") == ""


def test_guards_fail_show_and_apply_needs_force(project: Path, cli: Cli) -> None:
    commit_base(project, cli)
    res = cli("exp", "run", "-S", "train.acc=0.5", "--name", "low", expect=1)
    assert ": ok, guards FAILED;" in res.out
    assert show(cli)["low"]["guards_ok"] is False
    table = cli("exp", "show").out
    assert "FAILED" in table
    res = cli("exp", "apply", "low", expect=1)
    assert res.err == (
        "error: experiment 'low' failed its guards: quality.threshold\n"
        "hint: pass --force to apply it anyway\n"
    )
    assert git(project, "status", "--porcelain") == ""
    cli("exp", "apply", "low", "--force")
    assert json.loads((project / "metrics/m.json").read_text()) == {"accuracy": 0.5}


def test_diff_apply_branch_remove(project: Path, cli: Cli) -> None:
    base = commit_base(project, cli)
    cli("exp", "run", "-S", "train.acc=0.95", "--name", "c01")
    cli("exp", "run", "-S", "prepare.scale=3", "-S", "train.acc=0.85", "--name", "c02")
    rows = json.loads(cli("exp", "diff", "c01", "c02", "--json").out)
    by_key = {(r["kind"], r["key"]): r for r in rows}
    assert (
        by_key[("param", "prepare.scale")]["old"] == 2
        and by_key[("param", "prepare.scale")]["new"] == 3
    )
    assert by_key[("metric", "accuracy")]["change"] == 0.85 - 0.95
    assert ("data", "data/prepared") in by_key and ("data", "models/m.txt") in by_key
    assert (
        cli("exp", "diff", "c01", "c01").out.strip()
        == "c01 and c01 have the same params, metrics and data"
    )
    # apply: files staged, data checked out of the cache
    res = cli("exp", "apply", "c02")
    assert res.out.startswith("applied c02: ")
    assert "3" in (project / "data/prepared/out.txt").read_text()[-1:]
    staged = set(git(project, "diff", "--cached", "--name-only").split())
    assert {
        "params.yaml",
        "gitml.lock",
        "metrics/m.json",
        "data/prepared.gitml",
        "models/m.txt.gitml",
    } <= staged
    assert git(project, "rev-parse", "HEAD").strip() == base
    # applying another one over it is fine: those contents are in an experiment
    cli("exp", "apply", "c01")
    assert json.loads((project / "metrics/m.json").read_text()) == {"accuracy": 0.95}
    # but not over uncommitted work of the user
    (project / "params.yaml").write_text("prepare:\n  scale: 7\ntrain:\n  acc: 0.9\n")
    res = cli("exp", "apply", "c02", expect=1)
    assert res.err.startswith("error: would overwrite uncommitted changes in params.yaml")
    assert "scale: 7" in (project / "params.yaml").read_text()
    git(project, "reset", "-q", "--hard")
    # branch
    res = cli("exp", "branch", "c02", "better")
    sha = exp_refs(project)[f"{PREFIX}{base[:12]}/c02"]
    assert res.out.strip() == f"branch better at {sha[:7]}"
    assert git(project, "rev-parse", "better").strip() == sha
    assert cli("exp", "branch", "c02", "better", expect=2).err.startswith(
        "error: branch 'better' already exists"
    )
    # remove
    assert cli("exp", "remove", "c01").out.strip() == "removed c01"
    assert set(show(cli)) == {"c02"}
    assert cli("exp", "remove", "c01", expect=2).err.startswith("error: no experiment named 'c01'")


def test_experiments_survive_git_gc(project: Path, cli: Cli) -> None:
    commit_base(project, cli)
    cli("exp", "run", "-S", "prepare.scale=5", "--name", "keep")
    git(project, "gc", "-q", "--prune=now")
    row = show(cli)["keep"]
    assert row["status"] == "ok" and row["params"]["params.yaml"]["prepare"]["scale"] == 5
    git(project, "cat-file", "-e", row["commit"])
    run_gitml(project, "gc", "--dry-run", check=True)
    cli("exp", "apply", "keep")
    assert (project / "data/prepared/out.txt").read_text().endswith("5")


def test_push_and_pull_between_two_clones(tmp_path: Path) -> None:
    bare, a = origin_and_first_clone(tmp_path, hooks=False)
    write_project(a)
    run_gitml(a, "repro", check=True)
    git(a, "add", "-A")
    git(a, "commit", "-qm", "base")
    git(a, "push", "-q", "origin", "main")
    run_gitml(a, "push", check=True)
    run_gitml(a, "exp", "run", "-S", "prepare.scale=4", "--name", "c04", check=True)
    proc = run_gitml(a, "exp", "push", "origin", "c04", check=True)
    assert proc.stdout.startswith("pushed c04 to origin (")

    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(b))
    proc = run_gitml(b, "exp", "pull", "origin", "c04", check=True)
    assert "pulled c04 from origin" in proc.stdout and "data objects from origin" in proc.stdout
    rows = {
        e["name"]: e for e in json.loads(run_gitml(b, "exp", "show", "--json", check=True).stdout)
    }
    assert rows["c04"]["status"] == "ok" and rows["c04"]["overrides"] == {"prepare.scale": 4}
    # Its data came with it: apply works in B without the remote being asked again.
    run_gitml(b, "exp", "apply", "c04", check=True)
    assert (b / "data/prepared/out.txt").read_text().endswith("4")
    proc = run_gitml(b, "exp", "pull", "origin", "nope")
    assert proc.returncode == 2 and "error: 'origin' has no experiment named 'nope'" in proc.stderr


def test_uncommitted_changes_are_named(project: Path, cli: Cli) -> None:
    commit_base(project, cli)
    (project / "src/train.py").write_text((project / "src/train.py").read_text() + "\n# edit\n")
    res = cli("exp", "run", "--name", "w")
    assert "uncommitted changes to src/train.py are not part of the experiment" in res.err
    sha = exp_refs(project)[next(r for r in exp_refs(project) if r.endswith("/w"))]
    assert "# edit" not in git(project, "show", f"{sha}:src/train.py")


def test_a_killed_run_leaves_a_worktree_the_next_one_removes(project: Path, cli: Cli) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    marker = project.parent / "started"
    (project / "src/train.py").write_text(
        f"import pathlib, time\npathlib.Path({str(marker)!r}).write_text('1')\ntime.sleep(120)\n"
    )
    commit_base_without_repro(project)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitml", "exp", "run", "--name", "killed"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(1200):  # wait (at most a minute) until the stage is running
        if marker.exists():
            break
        time.sleep(0.05)
    assert marker.exists()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    leftovers = [p for p in (project / ".gitml/exps/run").iterdir() if p.is_dir()]
    assert len(leftovers) == 1
    assert len(git(project, "worktree", "list", "--porcelain").split("worktree ")) == 3
    # The next experiment cleans it up (its owner is dead), then runs normally.
    (project / "src/train.py").write_text("print('quick')\n")
    git(project, "commit", "-qam", "quick train")
    res = cli("exp", "run", "--name", "next", expect=1)  # train writes no outs: failed
    assert ": failed," in res.out
    assert [p for p in (project / ".gitml/exps/run").iterdir()] == []
    assert len(git(project, "worktree", "list", "--porcelain").split("worktree ")) == 2
    assert "killed" not in show(cli)


def commit_base_without_repro(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")


def test_one_experiment_runs_its_independent_stages_at_once(repo: Path, cli: Cli) -> None:
    from tests.pipelines.test_parallel import PARALLEL, RENDEZVOUS

    (repo / "meet.py").write_text(RENDEZVOUS)
    (repo / "out").mkdir()
    (repo / "out/.keep").write_text("")
    (repo / "gitml.yaml").write_text(PARALLEL)
    commit_base_without_repro(repo)
    res = cli("exp", "run", "-j", "2", "--name", "par")
    assert ": ok, guards -;" in res.out
    sha = show(cli)["par"]["commit"]
    assert git(repo, "show", f"{sha}:out/x.txt.gitml").startswith("gitml: 1")
    assert cli("exp", "run", "-j", "0", expect=2).err.startswith("error: -j must be at least 1")
