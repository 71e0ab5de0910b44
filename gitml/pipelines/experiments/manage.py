"""What a user does with recorded experiments: show, diff, apply, branch,
remove, push and pull them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from gitml.bounded import quote
from gitml.context import RepoContext
from gitml.errors import RefusedError, UsageError, WorkspaceConflictError
from gitml.git.commits import create_branch, delete_ref, hash_files, tree_blobs
from gitml.git.index import changed_between
from gitml.git.notes import NOTES_REF, merge_remote_notes, read_note, remote_notes_ref
from gitml.git.transport import fetch_refs, list_remote_refs, push_refs
from gitml.meta.document import parse_note
from gitml.pipelines.experiments.queue import dequeue, queued
from gitml.pipelines.experiments.refs import (
    EXPS_PREFIX,
    Experiment,
    check_exp_name,
    find_experiment,
    list_experiments,
)
from gitml.safepath import check_relpath, safe_parent
from gitml.store.durable import write_file_atomic
from gitml.workspace.pointer import POINTER_SUFFIX, tracked_name


def flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}`` (lists and scalars are leaves)."""
    if not isinstance(doc, dict):
        return {prefix: doc} if prefix else {}
    out: dict[str, Any] = {}
    for key, value in doc.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def flat_files(docs: dict[str, Any]) -> dict[str, Any]:
    """Metrics or params of several files, keyed by their leaf path; a leaf
    name two files share is prefixed by its file (``m.json:accuracy``)."""
    per_file = {name: flatten(doc) for name, doc in docs.items()}
    counts: dict[str, int] = {}
    for keys in per_file.values():
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    out: dict[str, Any] = {}
    for name, keys in sorted(per_file.items()):
        for key, value in keys.items():
            out[key if counts[key] == 1 else f"{name.rpartition('/')[2]}:{key}"] = value
    return out


def show(
    ctx: RepoContext, *, sort_by: str | None = None, ascending: bool = False
) -> list[Experiment]:
    """Recorded experiments (oldest first, or by metric ``sort_by``), then queued ones."""
    done = list_experiments(ctx)
    if sort_by is not None:
        known = {k for e in done for k in flat_files(e.metrics)}
        if done and sort_by not in known:
            raise UsageError(
                f"no metric named {quote(sort_by)}",
                f"metrics: {', '.join(sorted(known)) or 'none'}",
            )

        def key(e: Experiment) -> tuple[int, float]:
            value = flat_files(e.metrics).get(sort_by)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return (1, 0.0)  # experiments without the metric go last
            return (0, float(value) if ascending else -float(value))

        done.sort(key=key)
    return [*done, *queued(ctx)]


@dataclass
class DiffRow:
    kind: str  # param | metric | data
    key: str
    old: Any
    new: Any

    @property
    def change(self) -> float | None:
        numbers = all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in (self.old, self.new)
        )
        return float(self.new) - float(self.old) if numbers else None


def _document(ctx: RepoContext, name: str) -> tuple[str, dict[str, Any]]:
    """An experiment's (or any commit's) label and metadata document."""
    try:
        exp = find_experiment(ctx, name)
        sha, label = exp.sha, exp.name
    except UsageError:
        found = ctx.git.try_rev_parse(name) if not name.startswith("-") else None
        if found is None:
            raise
        sha, label = found, name
    return label, parse_note(read_note(ctx.git, sha)) or {}


def diff(ctx: RepoContext, old: str, new: str) -> list[DiffRow]:
    """Params, metrics and data that differ between two experiments (or commits)."""
    _a, doc_a = _document(ctx, old)
    _b, doc_b = _document(ctx, new)
    rows: list[DiffRow] = []
    for kind, section in (("param", "params"), ("metric", "metrics")):
        flat_a, flat_b = flat_files(doc_a.get(section) or {}), flat_files(doc_b.get(section) or {})
        for key in sorted(set(flat_a) | set(flat_b)):
            if flat_a.get(key) != flat_b.get(key):
                rows.append(DiffRow(kind, key, flat_a.get(key), flat_b.get(key)))
    data_a, data_b = doc_a.get("data") or {}, doc_b.get("data") or {}
    for path in sorted(set(data_a) | set(data_b)):
        oid_a = (data_a.get(path) or {}).get("oid") if isinstance(data_a.get(path), dict) else None
        oid_b = (data_b.get(path) or {}).get("oid") if isinstance(data_b.get(path), dict) else None
        if oid_a != oid_b:
            rows.append(DiffRow("data", path, oid_a and str(oid_a)[:12], oid_b and str(oid_b)[:12]))
    return rows


@dataclass
class ApplyResult:
    name: str
    files: list[str] = field(default_factory=list)  # git files written and staged
    data: list[str] = field(default_factory=list)  # data paths checked out


def _saved_versions(ctx: RepoContext, paths: list[str]) -> dict[str, set[str]]:
    """Blob ids of each path at HEAD and in every experiment: content that is
    one of these is not unsaved work (it can be had back)."""
    out: dict[str, set[str]] = {p: set() for p in paths}
    revs = [ctx.git.head(), *ctx.git.list_refs(EXPS_PREFIX).values()]
    for rev in revs:
        if rev is not None:
            for path, blob in tree_blobs(ctx.git, rev, paths).items():
                out[path].add(blob)
    return out


def apply(ctx: RepoContext, name: str, *, force: bool = False) -> ApplyResult:
    """Bring an experiment's params, lock, pointers, metrics and data into the
    workspace (staged, not committed). Refused for a failed experiment or one
    whose guards failed, and where a file holds uncommitted changes, unless ``force``."""
    from gitml.remotes.workflow import fetch_missing
    from gitml.workspace.checkout import Target, checkout
    from gitml.workspace.revisions import pointers_at

    exp = find_experiment(ctx, name)
    if exp.status != "ok" and not force:
        raise RefusedError(
            f"experiment {exp.name!r} {exp.status}"
            + (f": {exp.error.splitlines()[0]}" if exp.error else ""),
            "pass --force to apply it anyway",
        )
    if exp.guards_ok is False and not force:
        failed = [
            f"{r.get('guard')}.{r.get('rule')}"
            for r in (exp.guards or {}).get("results", [])
            if isinstance(r, dict) and r.get("status") in ("fail", "error")
        ]
        which = ", ".join(failed[:5]) or "see gitml exp show"
        raise RefusedError(
            f"experiment {exp.name!r} failed its guards: {which}",
            "pass --force to apply it anyway",
        )
    paths = [check_relpath(p) for p in changed_between(ctx.git, exp.base, exp.sha)]
    contents = {p: b for p, b in ctx.git.read_files_at(exp.sha, paths).items() if b is not None}
    if not force:
        saved = _saved_versions(ctx, list(contents))
        dirty = [p for p, blob in hash_files(ctx.git, contents).items() if blob not in saved[p]]
        if dirty:
            raise WorkspaceConflictError(
                f"would overwrite uncommitted changes in {', '.join(dirty[:5])}",
                "commit or stash them first, or pass --force to overwrite them",
            )
    tracked = [tracked_name(p) for p in contents if p.endswith(POINTER_SUFFIX)]
    pointers = pointers_at(ctx, exp.sha, tracked) if tracked else {}
    targets = [Target(t, p, exp.sha) for t, p in sorted(pointers.items())]
    if targets:
        fetch_missing(ctx, {f"{t.tracked}.gitml@{exp.sha[:8]}": t.pointer for t in targets})
        checkout(ctx, targets, force=force, dry_run=True)  # unsaved data: refuse before writing
    for path, data in sorted(contents.items()):
        safe_parent(ctx.root, path)
        write_file_atomic(ctx.root / path, data)
    ctx.git.add(sorted(contents))
    done = checkout(ctx, targets, force=force) if targets else None
    return ApplyResult(exp.name, sorted(contents), sorted(pointers) if done is not None else [])


def branch(ctx: RepoContext, name: str, branch_name: str) -> str:
    """A branch at the experiment's commit (its parent is the base)."""
    exp = find_experiment(ctx, name)
    create_branch(ctx.git, branch_name, exp.sha)
    return exp.sha


def remove(ctx: RepoContext, names: list[str]) -> list[str]:
    """Delete experiments (refs; a queued one leaves the queue). Their notes stay."""
    removed: list[str] = []
    for name in names:
        if dequeue(ctx, check_exp_name(name) if "/" not in name else name.rpartition("/")[2]):
            removed.append(name)
            continue
        exp = find_experiment(ctx, name)
        delete_ref(ctx.git, exp.ref, exp.sha)
        removed.append(exp.name)
    return removed


def _data_remote(ctx: RepoContext, remote: str) -> str | None:
    """The data remote named like the git remote, else the default one; None if none."""
    if remote in ctx.config.remotes:
        return remote
    if ctx.config.default_remote or len(ctx.config.remotes) == 1:
        return ctx.config.default_remote or next(iter(ctx.config.remotes))
    return None


def _notes_name(ctx: RepoContext, remote: str) -> str:
    return remote if remote in ctx.git.remote_names() else "gitml-url"


@dataclass
class ExpSync:
    name: str
    ref: str
    commit: str
    objects: int = 0  # data objects transferred
    data_remote: str | None = None


def push(ctx: RepoContext, remote: str, name: str) -> ExpSync:
    """Upload the experiment's data objects, then push its ref and the notes with git."""
    from gitml.remotes.workflow import expand, remote_for
    from gitml.workspace.revisions import pointers_at

    exp = find_experiment(ctx, name)
    out = ExpSync(exp.name, exp.ref, exp.sha, data_remote=_data_remote(ctx, remote))
    if out.data_remote is not None:
        pointers = {f"{t}.gitml@{exp.sha[:8]}": p for t, p in pointers_at(ctx, exp.sha).items()}
        needed, _missing = expand(ctx, pointers)
        rem = remote_for(ctx, out.data_remote)
        try:
            result = rem.upload(
                ctx.store, sorted(needed), jobs=ctx.config.jobs, reporter=ctx.reporter
            )
        finally:
            rem.close()
        if result.failed:
            raise RefusedError(
                f"{len(result.failed)} data objects of {exp.name!r} were not pushed",
                "gitml fsck finds corrupt or missing local objects",
            )
        out.objects = len(result.transferred)
    os.environ["GITML_PUSHING"] = "1"  # our pre-push hook has nothing left to do
    try:
        pushed = push_refs(ctx.git, remote, [f"{exp.ref}:{exp.ref}", f"{NOTES_REF}:{NOTES_REF}"])
        if any(not r.ok and r.destination == NOTES_REF for r in pushed):
            # The remote has notes we lack: merge them (no note lost), push again.
            notes = _notes_name(ctx, remote)
            fetch_refs(ctx.git, remote, [f"+{NOTES_REF}:{remote_notes_ref(notes)}"])
            merge_remote_notes(ctx.git, notes)
            pushed = push_refs(ctx.git, remote, [f"{NOTES_REF}:{NOTES_REF}"])
    finally:
        os.environ.pop("GITML_PUSHING", None)
    rejected = [r for r in pushed if not r.ok]
    if rejected:
        raise RefusedError(
            f"{rejected[0].destination} was rejected by {remote!r}: {rejected[0].summary}",
            "an experiment of that name already exists there: rename or remove one",
        )
    return out


def pull(ctx: RepoContext, remote: str, name: str) -> ExpSync:
    """Fetch an experiment's ref and notes with git, then its data objects (verified)."""
    from gitml.remotes.workflow import download_for, remote_for
    from gitml.workspace.revisions import pointers_at

    found = {
        ref: sha
        for ref, sha in list_remote_refs(ctx.git, remote, f"{EXPS_PREFIX}*").items()
        if ref.startswith(EXPS_PREFIX) and (ref.endswith("/" + name) or ref == name)
    }
    if not found:
        raise UsageError(
            f"{remote!r} has no experiment named {name[:100]!r}", "gitml exp push there first"
        )
    if len(found) > 1:
        raise UsageError(
            f"{remote!r} has {len(found)} experiments named {name[:100]!r}",
            "name one as BASE/NAME: " + ", ".join(r[len(EXPS_PREFIX) :] for r in sorted(found)[:5]),
        )
    ref, sha = next(iter(found.items()))
    check_exp_name(ref.rpartition("/")[2])
    local = ctx.git.try_rev_parse(ref, kind="object")
    if local is not None and local != sha:
        raise UsageError(
            f"a different experiment {ref[len(EXPS_PREFIX) :]} exists here",
            "gitml exp remove it first, or rename it with gitml exp branch",
        )
    notes = _notes_name(ctx, remote)
    fetch_refs(ctx.git, remote, [f"{ref}:{ref}", f"+{NOTES_REF}:{remote_notes_ref(notes)}"])
    merge_remote_notes(ctx.git, notes)
    out = ExpSync(ref.rpartition("/")[2], ref, sha, data_remote=_data_remote(ctx, remote))
    if out.data_remote is not None:
        pointers = {f"{t}.gitml@{sha[:8]}": p for t, p in pointers_at(ctx, sha).items()}
        rem = remote_for(ctx, out.data_remote)
        try:
            result, needed, _missing = download_for(ctx, rem, pointers, ctx.config.jobs)
        finally:
            rem.close()
        if result.failed:
            names = ", ".join(needed.get(o, o[:12]) for o in list(result.failed)[:5])
            raise RefusedError(
                f"{len(result.failed)} data objects of {out.name!r} could not be fetched: {names}",
                "ask its author to gitml exp push it again",
            )
        out.objects = len(result.transferred)
    return out
