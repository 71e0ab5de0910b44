"""The run cache shared through the data remote: ``gitml push/pull --run-cache``.

A local record (``.gitml/runs/<key>.json``) names its own inputs, so its key
is checkable: ``key == BLAKE3(canonical(record["inputs"]))``. On the remote
a record is stored under ``runs/<key>/<BLAKE3 of its bytes>``, the way an
object is named by its hash. A pulled record is used only if

* its bytes hash to the name they are stored under (changed in place: refused),
* its inputs hash to its key (moved under another key: refused),
* it has the shape repro writes (paths pass the path rules, oids are oids),
* and every object its outs name arrived, verified, in the cache.

The objects are pushed before the record, so a record on the remote never
names an object that is not there. Records written before records named
their inputs stay local (they cannot be checked by anyone else).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from gitml.bounded import load_json
from gitml.context import RepoContext
from gitml.errors import ConfigError, GitmlError, RemoteError
from gitml.pipelines.repro import RUNS_DIR
from gitml.pipelines.state import canonical
from gitml.remotes.workflow import RunCacheSync
from gitml.safepath import check_relpath
from gitml.store.durable import write_file_atomic
from gitml.store.hashing import hash_bytes, is_oid
from gitml.workspace.pointer import Pointer

REMOTE_DIR = "runs"
MAX_RECORD_BYTES = 64 << 20


def record_problem(key: str, record: object) -> str | None:
    """Why ``record`` cannot be the run-cache entry ``key``, or None."""
    if not isinstance(record, dict):
        return "not a JSON object"
    inputs = record.get("inputs")
    if not isinstance(inputs, dict) or hash_bytes(canonical(inputs)) != key:
        return "its inputs do not hash to its key"
    outs, texts = record.get("outs"), record.get("metrics_text", {})
    names = inputs.get("outs")
    if not isinstance(outs, dict) or not isinstance(names, list) or sorted(outs) != sorted(names):
        return "its outs do not match its inputs"
    if not isinstance(texts, dict) or not all(isinstance(t, str) for t in texts.values()):
        return "its metrics are not text"
    try:
        for path in [*outs, *texts]:
            check_relpath(str(path), what="path")
    except GitmlError as exc:
        return exc.message
    for entry in outs.values():
        if not isinstance(entry, dict) or not is_oid(str(entry.get("oid"))):
            return "an out has no valid oid"
        if entry.get("kind") not in ("file", "dir"):
            return "an out has no valid kind"
        if any(type(entry.get(k)) is not int or entry[k] < 0 for k in ("size", "nfiles")):
            return "an out has no valid size"
    return None


def _pointers(key: str, record: dict[str, Any]) -> dict[str, Pointer]:
    return {
        f"{path}.gitml@run-{key[:8]}": Pointer(
            path.rpartition("/")[2], e["kind"], e["oid"], e["size"], e["nfiles"]
        )
        for path, e in record["outs"].items()
    }


def _local(ctx: RepoContext) -> dict[str, bytes]:
    """key → bytes of every local record that names its inputs and checks out."""
    folder = ctx.gitml_dir / RUNS_DIR
    found: dict[str, bytes] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        key = path.stem
        try:
            data = path.read_bytes()
            record = load_json(data, source=path.name, max_bytes=MAX_RECORD_BYTES)
        except (OSError, ConfigError):
            continue
        if is_oid(key) and record_problem(key, record) is None:
            found[key] = data
    return found


def _remote_keys(rem: Any) -> dict[str, list[str]]:
    """key → the record names stored under ``runs/<key>/`` on the remote."""
    keys: dict[str, list[str]] = {}
    listing = rem.call("listing the run cache of", lambda: list(rem.backend.list_keys(REMOTE_DIR)))
    for item in listing:
        parts = str(item).split("/")
        if len(parts) == 3 and parts[0] == REMOTE_DIR and is_oid(parts[1]) and is_oid(parts[2]):
            keys.setdefault(parts[1], []).append(parts[2])
    return keys


def push_run_cache(ctx: RepoContext, remote: str | None) -> RunCacheSync:
    """Upload every checkable local record and the objects its outs name."""
    from gitml.remotes.workflow import expand, remote_for

    out = RunCacheSync()
    local = _local(ctx)
    rem = remote_for(ctx, remote)
    try:
        there = _remote_keys(rem)
        todo = {k: d for k, d in local.items() if k not in there}
        out.present = len(local) - len(todo)
        for key, data in sorted(todo.items()):
            record = load_json(data, source=key, max_bytes=MAX_RECORD_BYTES)
            needed, _missing = expand(ctx, _pointers(key, record))
            if not all(ctx.store.has(oid) for oid in needed):
                out.refused[key] = "its objects are no longer in the cache"
                continue
            result = rem.upload(ctx.store, sorted(needed), jobs=ctx.config.jobs)
            if result.failed:
                out.refused[key] = f"{len(result.failed)} of its objects were not pushed"
                continue
            out.objects += len(result.transferred)
            name = f"{REMOTE_DIR}/{key}/{hash_bytes(data)}"
            rem.call("uploading a run-cache entry to", partial(rem.backend.put_bytes, name, data))
            out.transferred.append(key)
        if out.transferred:  # a folder remote gives the entries their names here
            rem.call("uploading the run cache to", rem.backend.flush)
    finally:
        rem.close()
    return out


def pull_run_cache(ctx: RepoContext, remote: str | None) -> RunCacheSync:
    """Download the records this clone lacks, each checked (see the module
    docstring), with the objects they name; refused records are not kept."""
    from gitml.remotes.workflow import download_for, remote_for

    out = RunCacheSync()
    folder = ctx.gitml_dir / RUNS_DIR
    rem = remote_for(ctx, remote)
    try:
        for key, names in sorted(_remote_keys(rem).items()):
            if (folder / f"{key}.json").exists():
                out.present += 1
                continue
            name = sorted(names)[0]
            path = f"{REMOTE_DIR}/{key}/{name}"
            data: bytes = rem.call(
                "downloading a run-cache entry from", partial(rem.backend.get_bytes, path)
            )
            if len(data) > MAX_RECORD_BYTES or hash_bytes(data) != name:
                out.refused[key] = "its bytes do not match its name (changed on the remote)"
                continue
            try:
                record = load_json(
                    data, source=f"run-cache entry {key[:12]}", max_bytes=MAX_RECORD_BYTES
                )
            except ConfigError as exc:
                out.refused[key] = exc.message
                continue
            problem = record_problem(key, record)
            if problem is not None:
                out.refused[key] = problem
                continue
            result, _needed, _missing = download_for(
                ctx, rem, _pointers(key, record), ctx.config.jobs
            )
            if result.failed:
                out.refused[key] = f"{len(result.failed)} of its objects could not be fetched"
                continue
            out.objects += len(result.transferred)
            folder.mkdir(parents=True, exist_ok=True)
            write_file_atomic(folder / f"{key}.json", data)
            out.transferred.append(key)
    finally:
        rem.close()
    return out


def refused_error(sync: RunCacheSync, remote: str) -> RemoteError:
    first, why = next(iter(sync.refused.items()))
    more = f" (and {len(sync.refused) - 1} more)" if len(sync.refused) > 1 else ""
    return RemoteError(
        f"run-cache entry {first[:12]} from {remote} was refused: {why}{more}",
        "those stages will run instead; gitml push --run-cache from a clone that has "
        "them replaces nothing, so remove the damaged entries from the remote",
    )
