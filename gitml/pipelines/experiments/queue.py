"""Queued experiments and ``exp run --run-all -j N``.

A queued experiment is ``.gitml/exps/queue/<name>.json`` (name, base commit,
overrides), written atomically. ``run_all`` claims each entry by renaming it
into ``.gitml/exps/running/`` (a rename is atomic: two ``--run-all`` at once
never run one experiment twice) and runs it in its own process
(:mod:`gitml.pipelines.experiments.worker`), at most ``jobs`` at a time, each
in its own worktree; each process's output goes to ``.gitml/exps/logs/<name>.log``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml.bounded import load_json, read_capped
from gitml.context import RepoContext
from gitml.errors import ConfigError, UsageError
from gitml.pipelines.experiments.params import Override, describe_overrides
from gitml.pipelines.experiments.refs import Experiment, check_exp_name, exp_ref
from gitml.store.durable import write_file_atomic

QUEUE_DIR = "exps/queue"
RUNNING_DIR = "exps/running"
LOG_DIR = "exps/logs"
MAX_ENTRY_BYTES = 1 << 20


@dataclass
class QueuedRun:
    name: str
    exit_code: int  # 0 ok, 1 failed or guards failed, other: could not run
    log: str  # repo-relative path of its output
    last_line: str = ""


def entry_doc(name: str, base: str, overrides: list[Override]) -> dict[str, Any]:
    return {
        "name": name,
        "base": base,
        "overrides": [{"file": o.file, "key": o.key, "value": o.value} for o in overrides],
        "queued": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def read_entry(path: Path) -> tuple[str, str, list[Override], str]:
    """(name, base, overrides, queued time) of a queue file, checked."""
    doc = load_json(
        read_capped(path, source=path.name, max_bytes=MAX_ENTRY_BYTES),
        source=path.name,
        max_bytes=MAX_ENTRY_BYTES,
    )
    try:
        name, base = check_exp_name(str(doc["name"])), str(doc["base"])
        overrides = [
            Override(o["file"] if isinstance(o["file"], str) else None, str(o["key"]), o["value"])
            for o in doc["overrides"]
        ]
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{path.name}: not a queued experiment ({exc})") from None
    return name, base, overrides, str(doc.get("queued", ""))


def _names(ctx: RepoContext) -> set[str]:
    found = {ref.rpartition("/")[2] for ref in ctx.git.list_refs("refs/gitml/exps/")}
    for folder in (QUEUE_DIR, RUNNING_DIR):
        path = ctx.gitml_dir / folder
        if path.is_dir():
            found |= {p.stem for p in path.glob("*.json")}
    return found


def check_new_name(ctx: RepoContext, name: str) -> str:
    if check_exp_name(name) in _names(ctx):
        raise UsageError(f"an experiment named {name!r} already exists", "choose another --name")
    return name


def enqueue(ctx: RepoContext, name: str, base: str, overrides: list[Override]) -> str:
    folder = ctx.gitml_dir / QUEUE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{check_new_name(ctx, name)}.json"
    exp_ref(base, name)  # the name must make a valid ref
    write_file_atomic(
        path, (json.dumps(entry_doc(name, base, overrides), indent=1) + "\n").encode()
    )
    return name


def queued(ctx: RepoContext) -> list[Experiment]:
    """Queued and running experiments (no commit yet), oldest first."""
    out: list[Experiment] = []
    for folder, status in ((RUNNING_DIR, "running"), (QUEUE_DIR, "queued")):
        path = ctx.gitml_dir / folder
        for entry in sorted(path.glob("*.json")) if path.is_dir() else []:
            try:
                name, base, overrides, when = read_entry(entry)
            except (OSError, ConfigError) as exc:
                ctx.reporter.warning(f"skipped {entry.name}: {exc}")
                continue
            out.append(
                Experiment(name, "", "", base, status, describe_overrides(overrides), created=when)
            )
    return sorted(out, key=lambda e: (e.created, e.name))


def dequeue(ctx: RepoContext, name: str) -> bool:
    """Drop a queued experiment, or the entry a killed ``--run-all`` left in
    ``running/``; False when there is none. (A live run's entry goes when it ends.)"""
    for folder in (QUEUE_DIR, RUNNING_DIR):
        try:
            (ctx.gitml_dir / folder / f"{check_exp_name(name)}.json").unlink()
        except FileNotFoundError:
            continue
        return True
    return False


def run_all(ctx: RepoContext, jobs: int) -> list[QueuedRun]:
    """Run every queued experiment, ``jobs`` at a time, each in its own process."""
    folder = ctx.gitml_dir / QUEUE_DIR
    running = ctx.gitml_dir / RUNNING_DIR
    logs = ctx.gitml_dir / LOG_DIR
    running.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    claimed: list[tuple[str, Path]] = []
    entries = sorted(folder.glob("*.json"), key=lambda p: (p.stat().st_mtime, p.name))
    for entry in entries if folder.is_dir() else []:
        target = running / entry.name
        try:
            os.rename(entry, target)
        except FileNotFoundError:
            continue  # another --run-all took it
        claimed.append((entry.stem, target))
    env = ctx.git.clean_env()

    def one(item: tuple[str, Path]) -> QueuedRun:
        name, path = item
        log = logs / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "gitml.pipelines.experiments.worker",
                    str(ctx.root),
                    str(path),
                ],
                cwd=ctx.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        path.unlink(missing_ok=True)
        text = log.read_bytes()[-4000:].decode("utf-8", "replace").strip().splitlines()
        rel = log.relative_to(ctx.root).as_posix()
        return QueuedRun(name, proc.returncode, rel, text[-1] if text else "")

    if not claimed:
        return []
    ctx.reporter.start("experiments", len(claimed))
    results: list[QueuedRun] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for done in pool.map(one, claimed):
            results.append(done)
            ctx.reporter.advance("experiments")
    ctx.reporter.done("experiments")
    return results
