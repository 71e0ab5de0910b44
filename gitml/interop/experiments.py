"""DVC experiments (``refs/exps/<base[:2]>/<base[2:]>/<name>``) as gitml experiments.

A DVC experiment is a commit whose parent is its baseline; gitml's is the same
(``refs/gitml/exps/<base[:12]>/<name>``, pipelines/experiments/refs.py) plus a
note describing it. So each one gets a gitml ref to the very same commit and a
note with the params and metrics read from the files committed in it (the
files gitml.yaml declares, after the import wrote it): ``gitml exp show``,
``exp diff``, ``exp apply`` then work on them. DVC's own refs are left as they
are (``dvc exp`` keeps working). DVC's run queue and stashes are not carried.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.interop.results import Carried, ImportResult, NotConverted

DVC_EXPS = "refs/exps/"
_NOT_EXPERIMENTS = ("exec", "celery", "runs", "temp", "stash")


def carry_experiments(ctx: RepoContext, result: ImportResult, *, dry_run: bool) -> None:
    from gitml.git.commits import create_ref
    from gitml.git.notes import read_note, write_note
    from gitml.meta.collect import collect_metrics, collect_params, pointer_summary
    from gitml.meta.document import Metadata
    from gitml.pipelines.experiments.refs import check_exp_name, exp_ref
    from gitml.project.file import load_project
    from gitml.workspace.revisions import pointers_at
    from gitml.workspace.snapshot import Snapshot

    refs = ctx.git.list_refs(DVC_EXPS)
    if not refs:
        return
    project = load_project(ctx.root)
    created = _commit_times(ctx, refs.values())
    for ref, sha in sorted(refs.items()):
        parts = ref[len(DVC_EXPS) :].split("/")
        if len(parts) != 3 or parts[0] in _NOT_EXPERIMENTS or len(parts[0]) != 2:
            continue
        base, name = parts[0] + parts[1], parts[2]
        try:
            target = exp_ref(base, check_exp_name(name))
        except GitmlError as exc:
            result.not_converted.append(NotConverted(f"experiment {name}", ref, exc.message))
            continue
        present = ctx.git.try_rev_parse(target, kind="object")
        if present is not None and present != sha:
            why = f"{target} already names another commit (kept)"
            result.not_converted.append(NotConverted(f"experiment {name}", ref, why))
            continue
        result.carried.append(Carried("experiment", name, f"{target} (gitml exp show)"))
        if dry_run or present is not None:
            continue
        if read_note(ctx.git, sha) is None:
            snapshot = Snapshot.commit(ctx, sha)
            params = collect_params(snapshot, project)
            doc = Metadata(
                data=pointer_summary(pointers_at(ctx, sha)),
                params=params,
                metrics=collect_metrics(snapshot, project),
                extra={"experiment": {
                    "name": name, "base": base, "status": "ok",
                    "overrides": _changed(params, collect_params(Snapshot.commit(ctx, base),
                                                                 project)),
                    "error": None, "created": created.get(sha, ""), "imported_from": ref,
                }},
            )  # fmt: skip
            write_note(ctx.git, sha, doc.to_json())
        create_ref(ctx.git, target, sha, message=f"gitml import-dvc: experiment {name}")


def _changed(params: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The params an experiment set (``-S train.n_est=7``): what differs from its base."""
    from gitml.meta.history import flatten

    now: dict[str, Any] = {}
    before: dict[str, Any] = {}
    for doc in params.values():
        flatten("", doc, now, keep_lists=True)
    for doc in base.values():
        flatten("", doc, before, keep_lists=True)
    return {k: v for k, v in sorted(now.items()) if before.get(k) != v}


def _commit_times(ctx: RepoContext, shas: Iterable[str]) -> dict[str, str]:
    """sha -> commit time as gitml's experiments record it (UTC, ISO 8601), from
    one ``git log --no-walk``."""
    wanted = sorted(set(shas))
    if not wanted:
        return {}
    _s, out, _e = ctx.git.run("log", "--no-walk=unsorted", "--format=%H %ct", *wanted)
    times = {}
    for line in out.decode("ascii").splitlines():
        sha, _, stamp = line.partition(" ")
        when = datetime.fromtimestamp(int(stamp or 0), UTC)
        times[sha] = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return times
