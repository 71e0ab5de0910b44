"""Running one stage command: its environment, live output and the tail kept
for the error message."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import deque
from collections.abc import Callable
from typing import Any

from gitml.bounded import quote
from gitml.context import RepoContext
from gitml.errors import PipelineError
from gitml.guards.commit import command_env
from gitml.pipelines.spec import Stage

Echo = Callable[[bytes], None]
TAIL_LINES = 20


def stage_env(ctx: RepoContext, stage: Stage, params: dict[str, Any]) -> dict[str, str]:
    """``GITML_STAGE``, ``GITML_PARAMS`` (JSON) and ``GITML_PARAM_<SECTION>_<KEY>``."""
    env = command_env(ctx)
    env["GITML_STAGE"] = stage.name
    env["GITML_PARAMS"] = json.dumps(params, sort_keys=True)

    def flat(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                flat(f"{prefix}_{key}", sub)
            return
        name = "GITML_PARAM_" + re.sub(r"[^A-Za-z0-9]", "_", prefix).upper()
        env[name] = (
            json.dumps(value) if isinstance(value, list | bool) or value is None else str(value)
        )

    for key, value in params.items():
        flat(key, value)
    return env


def run_command(ctx: RepoContext, stage: Stage, env: dict[str, str], echo: Echo | None) -> None:
    """Run the stage command in the repository root; stream its output to ``echo``.

    Raises :class:`PipelineError` with the exit code and the last lines on failure.
    """
    for out in (*stage.outs, *stage.metrics):
        (ctx.root / out).parent.mkdir(parents=True, exist_ok=True)
    tail: deque[bytes] = deque(maxlen=TAIL_LINES)
    partial = b""
    try:
        proc = subprocess.Popen(
            stage.cmd,
            shell=True,
            cwd=ctx.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    except OSError as exc:
        raise PipelineError(
            f"stage {stage.name!r}: cannot start {quote(stage.cmd)}: {exc.strerror or exc}"
        ) from None
    assert proc.stdout is not None
    with proc:
        fd = proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            if echo is not None:
                echo(chunk)
            lines = (partial + chunk).split(b"\n")
            partial = lines.pop()
            tail.extend(lines)
    if partial:
        tail.append(partial)
    if proc.returncode != 0:
        text = "\n".join(line.decode("utf-8", "replace") for line in tail)
        raise PipelineError(
            f"stage {stage.name!r} failed: `{stage.cmd}` exited with code {proc.returncode}"
            + (f"; last lines of its output:\n{text}" if text else ""),
            "fix it and run gitml repro again (gitml.lock keeps the last successful run)",
        )
    missing = [p for p in (*stage.outs, *stage.metrics) if not os.path.lexists(ctx.root / p)]
    if missing:
        raise PipelineError(
            f"stage {stage.name!r} did not write {', '.join(missing)}",
            "its command must create every path in outs: and metrics:",
        )
