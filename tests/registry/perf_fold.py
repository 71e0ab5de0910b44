"""Performance check of the registry read path (a script, not a timed test).

    .venv/bin/python tests/registry/perf_fold.py [--tags 2000] [--gto]

1. In memory: fold N synthetic tags (with full gitml records in their messages).
2. End to end: a real repository with N annotated tags (written by one
   ``git fast-import``), read with ONE ``git for-each-ref`` and folded.
3. With ``--gto``: ``gto show`` on the same repository, for comparison.

Target: 2,000 tags in well under 1 s (GTO needs 6-12 s at ~1,500 tags).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from gitml.registry.model import RawTag
from gitml.registry.ops import TagPlan, plan_assign, plan_register, plan_unassign
from gitml.registry.record import ModelInfo
from gitml.registry.state import fold_tags

_SEP = "\x00\x1e\x00"
_FORMAT = (
    "%(refname:strip=2)%00%(objecttype)%00%(*objectname)%00%(objectname)%00"
    "%(taggername) %(taggeremail)%00%(taggerdate:unix)%00%(contents)%00%1e%00"
)


def synthetic_plans(n_tags: int, commits: list[str]) -> list[TagPlan]:
    """Plans for n_tags tags over 20 artifacts: registrations, promotions, demotions.

    Each plan is made from the state of its own artifact only (folding that
    artifact's tags), which is exactly what the planner needs and keeps this fast.
    """
    per_artifact: dict[str, list[RawTag]] = {f"model-{i:02d}": [] for i in range(20)}
    plans: list[TagPlan] = []
    step = 0
    while len(plans) < n_tags:
        name = f"model-{step % 20:02d}"
        own = per_artifact[name]
        state = fold_tags(own)
        n_versions = len(state.artifacts[name].versions) if name in state.artifacts else 0
        kind = (step // 20) % 5
        plan: TagPlan | None = None
        if kind in (0, 1) or n_versions == 0:
            plan = plan_register(
                state, name, commit=commits[n_versions], bump="minor",
                model=ModelInfo("models/m.pkl", "ab" * 32, 10**6),
                params={"lr": 0.01, "depth": 6}, metrics={"auc": 0.9},
            )  # fmt: skip
        elif kind in (2, 3):
            plan = plan_assign(state, f"{name}@latest", ("prod", "staging")[kind - 2])
        elif state.artifacts[name].stages.get("staging") and (
            state.artifacts[name].stages["staging"].current
        ):
            plan = plan_unassign(state, name, "staging")
        step += 1
        if plan is None:
            continue
        own.append(RawTag(plan.tag, plan.rev, "Ann", 1_700_000_000 + len(plans), plan.message))
        plans.append(plan)
    return plans


def git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "Ann", "GIT_AUTHOR_EMAIL": "ann@example.com",
           "GIT_COMMITTER_NAME": "Ann", "GIT_COMMITTER_EMAIL": "ann@example.com"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=root, env=env, input=stdin, check=True,
                          capture_output=True).stdout  # fmt: skip


def build_repo(root: Path, n_tags: int) -> int:
    git(root, "init", "-q", "-b", "main")
    # 600 commits (one version per commit and artifact), written by one fast-import.
    stream = []
    for i in range(600):
        msg = f"commit {i}".encode()
        stream.append(b"commit refs/heads/main\nmark :%d\n" % (i + 1))
        stream.append(b"committer Ann <ann@example.com> %d +0000\n" % (1_600_000_000 + i))
        stream.append(b"data %d\n%s\n" % (len(msg), msg))
    git(root, "fast-import", "--quiet", "--force", stdin=b"".join(stream))
    commits = git(root, "rev-list", "--reverse", "main").decode().split()
    plans = synthetic_plans(n_tags, commits)
    stream = []
    for i, plan in enumerate(plans):
        data = plan.message.encode()
        stream.append(b"tag %s\nfrom %s\n" % (plan.tag.encode(), plan.rev.encode()))
        stream.append(b"tagger Ann <ann@example.com> %d +0000\n" % (1_700_000_000 + i))
        stream.append(b"data %d\n%s\n" % (len(data), data))
    git(root, "fast-import", "--quiet", stdin=b"".join(stream))
    return len(plans)


def read_registry(root: Path) -> tuple[int, float, float]:
    t0 = time.perf_counter()
    out = git(root, "for-each-ref", f"--format={_FORMAT}", "refs/tags").decode()
    t1 = time.perf_counter()
    tags = []
    for chunk in out.split(_SEP)[:-1]:
        name, kind, peeled, obj, tagger, date, message = chunk.lstrip("\n").split("\x00")
        annotated = kind == "tag"
        target = peeled if annotated else obj
        tags.append(RawTag(name, target, tagger, int(date or 0), message, annotated))
    state = fold_tags(tags)
    t2 = time.perf_counter()
    assert not state.warnings, state.warnings[:3]
    return len(tags), t1 - t0, t2 - t1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tags", type=int, default=2000)
    parser.add_argument("--gto", action="store_true", help="also time `gto show`")
    args = parser.parse_args()

    tags = [
        RawTag(p.tag, p.rev, "Ann", 1_700_000_000 + i, p.message)
        for i, p in enumerate(synthetic_plans(args.tags, [f"{i:040x}" for i in range(600)]))
    ]
    best = min(_timed(lambda: fold_tags(tags)) for _ in range(5))
    print(f"in memory: fold of {len(tags)} tags: {best * 1000:.0f} ms (best of 5)")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        n = build_repo(root, args.tags)
        runs = [read_registry(root) for _ in range(5)]
        count, git_s, fold_s = min(runs, key=lambda r: r[1] + r[2])
        assert count == n
        total = (git_s + fold_s) * 1000
        print(
            f"end to end: {count} tags: for-each-ref {git_s * 1000:.0f} ms + "
            f"parse/fold {fold_s * 1000:.0f} ms = {total:.0f} ms (best of 5)"
        )
        if args.gto:
            gto = Path(sys.executable).with_name("gto")
            t0 = time.perf_counter()
            subprocess.run([str(gto), "show", "--json", "-r", str(root)], check=True,
                           capture_output=True, env={**os.environ, "HOME": tmp})  # fmt: skip
            print(f"gto show on the same repository: {time.perf_counter() - t0:.1f} s")
    return 0


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    raise SystemExit(main())
