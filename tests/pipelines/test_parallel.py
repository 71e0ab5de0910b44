"""``repro -j N``, foreach/matrix stages and ${...} templating."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import Cli, run_gitml

# Each of x and y waits until the other one has started: they can only both
# succeed if they run at the same time (no timing assertion needed).
RENDEZVOUS = """\
import pathlib, sys, time
me, other = sys.argv[1], sys.argv[2]
pathlib.Path(f"started-{me}").write_text("1")
for _ in range(600):
    if pathlib.Path(f"started-{other}").exists():
        break
    time.sleep(0.05)
else:
    sys.exit(f"{me}: {other} never started")
pathlib.Path(f"out/{me}.txt").write_text(me)
"""

PARALLEL = """\
stages:
  x:
    cmd: python meet.py x y
    deps: [meet.py]
    outs: [out/x.txt]
  y:
    cmd: python meet.py y x
    deps: [meet.py]
    outs: [out/y.txt]
"""

FAILING = """\
stages:
  a:
    cmd: python -c "print('a1'); print('a2'); open('a.txt','w').write('a')"
    outs: [a.txt]
  b:
    cmd: python -c "print('b1'); import sys; sys.exit(4)"
    outs: [b.txt]
  c:
    cmd: python -c "open('c.txt','w').write('c')"
    deps: [b.txt]
    outs: [c.txt]
  d:
    cmd: python -c "print('d1'); open('d.txt','w').write(open('a.txt').read() + 'd')"
    deps: [a.txt]
    outs: [d.txt]
"""


def test_independent_stages_run_at_the_same_time(repo: Path, cli: Cli) -> None:
    (repo / "meet.py").write_text(RENDEZVOUS)
    (repo / "out").mkdir()
    (repo / "gitml.yaml").write_text(PARALLEL)
    res = cli("repro", "-j", "2")
    assert "stage x: ran" in res.out and "stage y: ran" in res.out
    assert (repo / "out/x.txt").read_text() == "x" and (repo / "out/y.txt").read_text() == "y"
    lock = json.loads((repo / "gitml.lock").read_text())
    assert set(lock["stages"]) == {"x", "y"}
    assert "stage x: up to date" in cli("repro", "-j", "2").out


def test_a_failure_stops_its_downstream_only(repo: Path, cli: Cli) -> None:
    (repo / "gitml.yaml").write_text(FAILING)
    res = cli("repro", "-j", "2", expect=1)
    lines = res.err.splitlines()
    assert lines[0].startswith("error: stage 'b' failed: `python -c")
    assert "exited with code 4" in res.err
    assert "finished and recorded: a, d; not run (an upstream stage failed): c" in res.err
    # each stage's output is one block under its own header
    assert "[stage a]\na1\na2\n" in res.out and "[stage b]\nb1\n" in res.out
    assert "[stage d]\nd1\n" in res.out
    lock = json.loads((repo / "gitml.lock").read_text())
    assert set(lock["stages"]) == {"a", "d"}
    assert (repo / "d.txt").read_text() == "ad" and not (repo / "c.txt").exists()
    assert (repo / "a.txt.gitml").is_file() and (repo / "d.txt.gitml").is_file()
    assert cli("repro", "-j", "0", expect=2).err.startswith("error: -j must be at least 1")


TEMPLATED = """\
params: [params.yaml]
stages:
  prep:
    foreach: [small, large]
    do:
      cmd: python -c "open('prep-${item}.txt','w').write('${item}:${train.lr}')"
      outs:
        - prep-${item}.txt
  eval:
    foreach: ${sets}
    do:
      cmd: python -c "open('eval-${key}.txt','w').write('${item.rows}')"
      outs:
        - eval-${key}.txt
  fit:
    matrix:
      model: [lr, svm]
      C: [0.1, 1]
    cmd: python -c "open('fit-${item.model}-${item.C}.txt','w').write('${item.model} ${item.C}')"
    deps: [prep-small.txt]
    outs:
      - fit-${item.model}-${item.C}.txt
"""
PARAMS = "train:\n  lr: 0.5\nsets:\n  test: {rows: 10}\n  valid: {rows: 20}\n"


def test_foreach_matrix_and_params_templates(repo: Path, cli: Cli) -> None:
    (repo / "gitml.yaml").write_text(TEMPLATED)
    (repo / "params.yaml").write_text(PARAMS)
    dag = cli("dag").out.split("\n")
    assert dag[:4] == ["prep@small", "prep@large", "eval@test", "eval@valid"]
    assert "fit@lr-0.1  <- prep@small" in dag and "fit@svm-1  <- prep@small" in dag
    res = cli("repro", "-j", "2")
    for name in ("prep@small", "prep@large", "eval@test", "eval@valid", "fit@lr-0.1", "fit@lr-1",
                 "fit@svm-0.1", "fit@svm-1"):  # fmt: skip
        assert f"stage {name}: ran" in res.out
    assert (repo / "prep-small.txt").read_text() == "small:0.5"
    assert (repo / "eval-valid.txt").read_text() == "20"
    assert (repo / "fit-svm-0.1.txt").read_text() == "svm 0.1"
    # a templated param is part of the command: changing it reruns that stage only
    (repo / "params.yaml").write_text(PARAMS.replace("0.5", "0.7"))
    res = cli("repro", "prep@large")
    assert "stage prep@large: ran (command changed)" in res.out
    assert (repo / "prep-large.txt").read_text() == "large:0.7"
    res = cli("repro", "prep")  # the group's name selects every stage it generated
    assert res.out.splitlines() == [
        "stage prep@small: ran (command changed)",
        "stage prep@large: up to date",
    ]


def test_template_errors_name_the_line(repo: Path, cli: Cli) -> None:
    (repo / "params.yaml").write_text(PARAMS)
    cases = [
        ("    cmd: echo ${nope.x}\n", "gitml.yaml:3: stage 'a': ${nope.x} is not defined"),
        ("    foreach: [1, 2]\n    cmd: echo\n", "gitml.yaml:4: unknown key 'cmd' in stage 'a'"),
        ("    foreach: [1, 2]\n", "gitml.yaml:3: stage 'a': foreach needs a do: mapping"),
        (
            "    matrix: {m: 3}\n    cmd: echo\n",
            "gitml.yaml:3: stage 'a': matrix 'm' must be a non-empty list",
        ),
        ("    foreach: [x, x]\n    do: {cmd: echo}\n", "item 'x' gives no unique stage name"),
        (
            "    foreach: [1, 2]\n    do: {cmd: echo, outs: [same.txt]}\n",
            "stages 'a@1' and 'a@2' both write same.txt",
        ),
    ]
    for body, message in cases:
        text = "stages:\n  a:\n" + body
        (repo / "gitml.yaml").write_text(text)
        res = cli("dag", expect=None)
        assert res.code != 0 and message in res.err, (text, res.err)
        assert "Traceback" not in res.err


def test_two_repro_runs_at_once_never_corrupt_the_lock(repo: Path) -> None:
    (repo / "gitml.yaml").write_text(
        FAILING.split("  b:")[0]
        + "  e:\n    outs: [e.txt]\n"
        + "    cmd: python -c \"import time; time.sleep(0.3); open('e.txt','w').write('e')\"\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gitml", "repro", "-j", "2"],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    lock = json.loads((repo / "gitml.lock").read_text())
    assert set(lock["stages"]) == {"a", "e"}
    ran = sum(o[0].count(": ran") for o in outs)
    assert ran == 2  # each stage ran once: the second run found them up to date


WAIT_FOR = """\
import pathlib, sys, time
name, gate = sys.argv[1], pathlib.Path(sys.argv[2])
pathlib.Path(f"started-{name}").write_text("1")
for _ in range(1200):
    if gate.exists():
        break
    time.sleep(0.05)
else:
    sys.exit(f"{name}: {gate} never appeared")
pathlib.Path(f"{name}.txt").write_text(name)
"""


def wait_for(path: Path) -> None:
    for _ in range(1200):  # at most a minute
        if path.exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def gated(repo: Path, gate: Path) -> None:
    (repo / "wait.py").write_text(WAIT_FOR)
    (repo / "gitml.yaml").write_text(
        "stages:\n"
        f"  slow:\n    cmd: python wait.py slow {gate}\n    outs: [slow.txt]\n"
        "  other:\n    cmd: python -c \"open('other.txt','w').write('o')\"\n    outs: [other.txt]\n"
    )
    (repo / ".gitml/config.local.toml").write_text("[core]\nlock_timeout = 2\n")


def test_other_commands_go_on_while_a_stage_runs(repo: Path) -> None:
    gate = repo.parent / "gate"
    gated(repo, gate)
    first = subprocess.Popen(
        [sys.executable, "-m", "gitml", "repro", "slow"], cwd=repo, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(repo / "started-slow")
    (repo / "notes.txt").write_text("mine\n")
    added = run_gitml(repo, "add", "notes.txt")  # the repository lock is free meanwhile
    assert added.returncode == 0, added.stderr
    gate.write_text("go")
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert "stage slow: ran" in out
    assert (repo / "notes.txt.gitml").is_file() and (repo / "slow.txt.gitml").is_file()


def test_two_repro_runs_share_the_work_stage_by_stage(repo: Path) -> None:
    gate = repo.parent / "gate"
    gated(repo, gate)
    first = subprocess.Popen(
        [sys.executable, "-m", "gitml", "repro"], cwd=repo, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(repo / "started-slow")
    # The second run cannot take `slow` (the first is running it) and runs
    # `other` meanwhile; then it waits for `slow`, which it finds up to date.
    second = subprocess.Popen(
        [sys.executable, "-m", "gitml", "repro", "-j", "2"], cwd=repo, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(repo / "other.txt.gitml")
    gate.write_text("go")
    out1, err1 = first.communicate(timeout=120)
    out2, err2 = second.communicate(timeout=120)
    assert (first.returncode, second.returncode) == (0, 0), (err1, err2)
    assert "stage slow: ran" in out1 and "stage other: up to date" in out1
    assert "stage other: ran" in out2 and "stage slow: up to date" in out2
    assert "stage slow: waiting for the other gitml repro running it" in err2
    lock = json.loads((repo / "gitml.lock").read_text())
    assert set(lock["stages"]) == {"slow", "other"}
