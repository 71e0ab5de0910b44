"""``gitml repro -j N``: independent stages run at the same time.

The main thread plans every stage (hashing, the run cache, tracking outputs,
guards, gitml.lock: everything that touches the stat index, the object store
or the index) and only stage *commands* run in worker threads, at most
``jobs`` at once. A stage starts when every stage it depends on finished.

* Output is kept apart: each command's output is collected and written as
  one block, headed ``[stage NAME]``, when it ends (never interleaved).
* A failure stops only what depends on it: a stage whose command or guards
  failed marks its downstream stages ``skipped``; unrelated stages go on and
  are recorded in gitml.lock as they finish (one writer: the main thread).
* With another ``gitml repro`` at work, a stage it is running is left for
  later (its lock is busy) and the others go on; when the lock frees, the
  stage is planned again and usually found up to date.
* A failed command is raised at the end as one :class:`PipelineError`
  naming every failed stage and what finished.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from typing import Any

from gitml.errors import GitmlError, PipelineError
from gitml.pipelines.execute import Echo, run_command, stage_env
from gitml.pipelines.repro import (
    ReproResult,
    ReproState,
    StageRun,
    finish_stage,
    plan_stage,
    restore_stage,
)
from gitml.pipelines.spec import Pipeline

POLL_S = 0.2  # how often a stage another repro runs is looked at again
_Job = tuple[str, dict[str, Any], list[str], str, bytearray]


def run_parallel(
    st: ReproState,
    pipeline: Pipeline,
    names: list[str],
    *,
    jobs: int,
    force: bool,
    echo: Echo | None,
) -> ReproResult:
    ctx = st.ctx
    selected = set(names)
    ups = {n: [u for u in pipeline.upstream[n] if u in selected] for n in names}
    status = dict.fromkeys(names, "pending")  # pending running done failed skipped
    runs: dict[str, StageRun] = {}
    errors: dict[str, str] = {}
    running: dict[Future[None], _Job] = {}

    def fail(name: str, message: str) -> None:
        status[name] = "failed"
        errors[name] = message

    held: dict[str, AbstractContextManager[Any]] = {}  # stage locks of running stages
    told: set[str] = set()

    def settle(name: str, run: StageRun) -> None:
        runs[name] = run
        status[name] = "failed" if run.action == "guard-failed" else "done"

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="gitml-stage") as pool:
        while True:
            blocked = False  # a ready stage is being run by another gitml repro
            moved = True
            while moved:  # start (or settle) every stage whose upstream is done
                moved = False
                for name in names:
                    if status[name] != "pending":
                        continue
                    if any(status[u] in ("failed", "skipped") for u in ups[name]):
                        status[name] = "skipped"
                        runs[name] = StageRun(name, "skipped", ["an upstream stage failed"])
                        moved = True
                        continue
                    if not all(status[u] == "done" for u in ups[name]):
                        continue
                    lock = st.locks.try_stage(name)
                    if lock is None:
                        blocked = True
                        if name not in told:
                            told.add(name)
                            ctx.reporter.info(
                                f"stage {name}: waiting for the other gitml repro running it"
                            )
                        continue
                    moved = True
                    stage = pipeline.stages[name]
                    try:
                        with st.locks.repo():
                            inputs, reasons, key, cached = plan_stage(st, stage, force=force)
                            if not reasons:
                                settle(name, StageRun(name, "frozen" if stage.frozen
                                                      else "up-to-date"))  # fmt: skip
                            elif cached is not None:
                                restore_stage(st, stage, cached)
                                settle(
                                    name, finish_stage(st, stage, inputs, key, "restored", reasons)
                                )
                            else:
                                env = stage_env(ctx, stage, inputs["params"])
                                ctx.reporter.info(f"stage {name}: running {stage.cmd}")
                                out = bytearray()
                                future = pool.submit(run_command, ctx, stage, env, out.extend)
                                running[future] = (name, inputs, reasons, key, out)
                                status[name] = "running"
                                held[name] = lock
                    except GitmlError as planning:
                        fail(name, planning.message)
                    finally:
                        if name not in held:
                            st.locks.release(lock)
            if not running:
                if blocked:
                    time.sleep(POLL_S)
                    continue
                break
            finished, _pending = wait(
                list(running), timeout=POLL_S if blocked else None, return_when=FIRST_COMPLETED
            )
            for future in finished:
                name, inputs, reasons, key, out = running.pop(future)
                try:
                    if echo is not None and out:
                        tail = b"" if out.endswith(b"\n") else b"\n"
                        echo(f"[stage {name}]\n".encode() + bytes(out) + tail)
                    problem = future.exception()
                    if isinstance(problem, GitmlError):
                        fail(name, problem.message)
                        continue
                    if problem is not None:
                        raise problem
                    try:
                        with st.locks.repo():
                            run = finish_stage(
                                st, pipeline.stages[name], inputs, key, "ran", reasons
                            )
                    except GitmlError as err:
                        fail(name, err.message)
                        continue
                    settle(name, run)
                finally:
                    st.locks.release(held.pop(name))
    result = ReproResult([runs[n] for n in names if n in runs])
    if errors:
        first, *others = errors
        message = errors[first]
        finished_names = [n for n in names if status[n] == "done"]
        skipped = [n for n in names if status[n] == "skipped"]
        if others:
            message += f"\nalso failed: {', '.join(others)}"
        message += f"\nfinished and recorded: {', '.join(finished_names) or 'none'}"
        if skipped:
            message += f"; not run (an upstream stage failed): {', '.join(skipped)}"
        raise PipelineError(
            message, "fix it and run gitml repro again (gitml.lock keeps every finished stage)"
        )
    return result
