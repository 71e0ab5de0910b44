"""Guards and commit metadata in the library API: guard run, show, log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitml.api.baselines import registry_baseline
from gitml.context import session
from gitml.errors import UsageError
from gitml.progress import Callback
from gitml.safepath import UserPath

if TYPE_CHECKING:
    from gitml.guards.results import GuardReport
    from gitml.meta.history import LogRow

__all__ = ["guard_run", "log", "show"]


def guard_run(
    targets: list[str] | None = None,
    *,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> GuardReport:
    """Run guards by name, or those affected by the given paths (default: all).

    Drift compares with the newest statistics stored in HEAD's history;
    no-regression with the model in the configured stage.
    """
    from gitml.guards.commit import run_for_commit
    from gitml.guards.runner import affected_guards
    from gitml.project.file import load_project

    with session(cwd, callback, write=False) as ctx:
        project = load_project(ctx.root)
        names: list[str] | None = None
        if targets:
            names = []
            for target in targets:
                if target in project.guards.guards:
                    names.append(target)
                else:
                    hits = affected_guards(project.guards, [ctx.relpath(target, cwd=cwd)])
                    if not hits:
                        raise UsageError(
                            f"{target!r} is neither a guard nor a path a guard checks",
                            f"guards: {', '.join(project.guards.guards) or 'none'}",
                        )
                    names += hits
        return run_for_commit(ctx, project, names, stage_metrics=registry_baseline(ctx))


def show(rev: str = "HEAD", *, cwd: UserPath | None = None) -> dict[str, Any]:
    """The metadata document attached to a commit."""
    from gitml.meta.history import show as do_show
    from gitml.registry.revision import resolve_revision

    with session(cwd, None, write=False) as ctx:
        return do_show(ctx, resolve_revision(ctx, rev).commit)


def log(
    path: str | None = None,
    *,
    metrics: bool = False,
    rev: str = "HEAD",
    max_count: int | None = None,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> list[LogRow]:
    """History of a tracked path, a metrics file, or all metrics, from notes.

    A commit whose note cannot be decoded is listed without metadata and
    reported as a ``warning`` event.
    """
    from gitml.meta.history import log as do_log
    from gitml.registry.revision import resolve_revision

    with session(cwd, callback, write=False) as ctx:
        rel = ctx.relpath(path, cwd=cwd) if path else None
        start = rev if rev == "HEAD" else resolve_revision(ctx, rev).commit  # HEAD may be unborn
        return do_log(ctx, rel, metrics=metrics, rev=start, max_count=max_count, callback=callback)
