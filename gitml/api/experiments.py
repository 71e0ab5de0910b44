"""Library API of experiments (``gitml exp ...``). Nothing here prints.

Each experiment is a commit on ``refs/gitml/exps/<base>/<name>``; see
:mod:`gitml.pipelines.experiments` and docs/PIPELINES.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.api.baselines import registry_baseline
from gitml.context import session
from gitml.errors import UsageError
from gitml.progress import Callback
from gitml.safepath import UserPath

if TYPE_CHECKING:
    from gitml.context import RepoContext
    from gitml.pipelines.execute import Echo
    from gitml.pipelines.experiments.manage import ApplyResult, DiffRow, ExpSync
    from gitml.pipelines.experiments.params import Override
    from gitml.pipelines.experiments.queue import QueuedRun
    from gitml.pipelines.experiments.refs import Experiment
    from gitml.pipelines.experiments.run import ExpOutcome

__all__ = [
    "exp_apply",
    "exp_branch",
    "exp_diff",
    "exp_pull",
    "exp_push",
    "exp_queue",
    "exp_remove",
    "exp_run",
    "exp_run_all",
    "exp_show",
]


def exp_run(
    overrides: list[str] | None = None,
    *,
    name: str | None = None,
    jobs: int = 1,
    echo: Echo | None = None,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> ExpOutcome:
    """Run the pipeline of HEAD with ``overrides`` (``section.key=value``) in a
    temporary worktree and record it on ``refs/gitml/exps/``. The workspace,
    index and HEAD are not touched. A failing stage is recorded (status ``failed``).
    ``jobs``: independent stages of the experiment at once (``repro -j``)."""
    from gitml.pipelines.experiments.params import parse_overrides
    from gitml.pipelines.experiments.queue import check_new_name
    from gitml.pipelines.experiments.run import (
        new_name,
        resolve_base,
        run_experiment,
        warn_uncommitted,
    )

    if jobs < 1:
        raise UsageError(f"-j must be at least 1, not {jobs}")
    combos = parse_overrides(overrides or [])
    if len(combos) > 1:
        raise UsageError(
            f"the -S values make {len(combos)} experiments",
            "queue them with --queue, then --run-all",
        )
    # No repository lock while it runs: the experiment has its own worktree.
    with session(cwd, callback, write=False) as ctx:
        base = resolve_base(ctx)
        warn_uncommitted(ctx)
        chosen = check_new_name(ctx, name or new_name())
        return run_experiment(
            ctx,
            chosen,
            base,
            combos[0],
            echo=echo,
            jobs=jobs,
            stage_metrics=registry_baseline(ctx),
        )


def exp_queue(
    overrides: list[str] | None = None,
    *,
    name: str | None = None,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> list[str]:
    """Queue one experiment per combination of the ``-S`` grids; their names
    (``name``, or ``name-1``, ``name-2``... for a grid)."""
    from gitml.pipelines.experiments.params import parse_overrides
    from gitml.pipelines.experiments.queue import check_new_name, enqueue
    from gitml.pipelines.experiments.run import new_name, resolve_base, warn_uncommitted

    combos = parse_overrides(overrides or [])
    with session(cwd, callback, write=True) as ctx:
        base = resolve_base(ctx)
        warn_uncommitted(ctx)
        if name is not None:
            names = [name] if len(combos) == 1 else [f"{name}-{i + 1}" for i in range(len(combos))]
        else:
            names = [new_name() for _ in combos]
        for chosen in names:
            check_new_name(ctx, chosen)
        check_at_base(ctx, base, combos)
        return [enqueue(ctx, n, base, combo) for n, combo in zip(names, combos, strict=True)]


def check_at_base(ctx: RepoContext, base: str, combos: list[list[Override]]) -> None:
    """The overrides name params that exist at ``base`` (checked now, not when run)."""
    from gitml.pipelines.experiments.params import check_overrides
    from gitml.project.file import PROJECT_FILE, parse_project

    text = ctx.git.read_files_at(base, [PROJECT_FILE]).get(PROJECT_FILE)
    project = parse_project(text or b"", exists=text is not None)
    files = ctx.git.read_files_at(base, list(project.params))
    for combo in combos:
        check_overrides(files, project.params, combo)


def exp_run_all(
    *, jobs: int = 1, cwd: UserPath | None = None, callback: Callback | None = None
) -> list[QueuedRun]:
    """Run every queued experiment, ``jobs`` at a time, each in its own worktree and process."""
    from gitml.pipelines.experiments.queue import run_all

    if jobs < 1:
        raise UsageError(f"-j must be at least 1, not {jobs}")
    with session(cwd, callback, write=False) as ctx:
        return run_all(ctx, jobs)


def exp_show(
    *,
    sort_by: str | None = None,
    ascending: bool = False,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> list[Experiment]:
    """Every experiment (recorded, running, queued) with its params, metrics and guard verdict."""
    from gitml.pipelines.experiments.manage import show

    with session(cwd, callback, write=False) as ctx:
        return show(ctx, sort_by=sort_by, ascending=ascending)


def exp_diff(
    old: str, new: str, *, cwd: UserPath | None = None, callback: Callback | None = None
) -> list[DiffRow]:
    """Params, metrics and data that differ between two experiments (or commits)."""
    from gitml.pipelines.experiments.manage import diff

    with session(cwd, callback, write=False) as ctx:
        return diff(ctx, old, new)


def exp_apply(
    name: str, *, force: bool = False, cwd: UserPath | None = None, callback: Callback | None = None
) -> ApplyResult:
    """Bring an experiment's files and data into the workspace (staged, not committed)."""
    from gitml.pipelines.experiments.manage import apply

    with session(cwd, callback, write=True) as ctx:
        return apply(ctx, name, force=force)


def exp_branch(
    name: str, branch: str, *, cwd: UserPath | None = None, callback: Callback | None = None
) -> str:
    """Create ``branch`` at the experiment's commit; returns the commit."""
    from gitml.pipelines.experiments.manage import branch as do_branch

    with session(cwd, callback, write=True) as ctx:
        return do_branch(ctx, name, branch)


def exp_remove(
    names: list[str], *, cwd: UserPath | None = None, callback: Callback | None = None
) -> list[str]:
    """Delete experiments (their refs) or drop queued ones."""
    from gitml.pipelines.experiments.manage import remove

    if not names:
        raise UsageError("name the experiments to remove", "gitml exp show lists them")
    with session(cwd, callback, write=True) as ctx:
        return remove(ctx, names)


def exp_push(
    remote: str, name: str, *, cwd: UserPath | None = None, callback: Callback | None = None
) -> ExpSync:
    """Push an experiment: its data objects to the data remote, its ref and notes with git."""
    from gitml.pipelines.experiments.manage import push

    with session(cwd, callback, write=True) as ctx:
        return push(ctx, remote, name)


def exp_pull(
    remote: str, name: str, *, cwd: UserPath | None = None, callback: Callback | None = None
) -> ExpSync:
    """Fetch an experiment's ref and notes with git, and its data objects (verified)."""
    from gitml.pipelines.experiments.manage import pull

    with session(cwd, callback, write=True) as ctx:
        return pull(ctx, remote, name)
