"""Storing planned outputs and writing their pointers, group by group.

Order per group (crash safety, as ``gitml add``): every file object in one
batch (one sync), the MD5 → oid rows, the directory manifests in a second
batch, then the pointers (temp + rename), the stat index and the ignore rules.
A pointer therefore never names an object that is not durable, and a killed
import resumes: objects already stored are found through the MD5 map and not
read again, pointers already written are left as they are.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field

from gitml.context import RepoContext
from gitml.faults import fault_point
from gitml.interop.dvccache import object_paths
from gitml.interop.ingest import Ingestor, Stored
from gitml.interop.md5map import Md5Map
from gitml.interop.plan import OutputPlan
from gitml.interop.results import ImportedOutput, ImportResult, NotConverted, Workspace
from gitml.safepath import safe_parent
from gitml.store.durable import write_file_atomic
from gitml.store.hashing import hash_bytes
from gitml.store.manifest import Entry, encode_manifest
from gitml.store.objects import Batch, ObjectStore
from gitml.store.stat_index import StatRow
from gitml.workspace.ignore import add_ignore
from gitml.workspace.pointer import ImportSource, Pointer, format_pointer, pointer_name

GROUP_FILES = 20_000
GROUP_BYTES = 1 << 30
TASK = "import-dvc"


@dataclass
class Applied:
    imported: list[tuple[OutputPlan, Pointer, Workspace, bool]] = field(default_factory=list)
    staged: list[str] = field(default_factory=list)


def store_link(link: str) -> str:
    """Link mode for storing: never make a DVC or workspace file *be* the object."""
    return link if link in ("auto", "reflink", "copy") else "copy"


def groups(items: list[OutputPlan]) -> Iterator[list[OutputPlan]]:
    group: list[OutputPlan] = []
    files = nbytes = 0
    for item in items:
        if item.out.is_dir and item.entries is None:
            continue  # listing nowhere: reported by the planner
        group.append(item)
        files += len(item.files())
        nbytes += item.out.size or 0
        if files >= GROUP_FILES or nbytes >= GROUP_BYTES:
            yield group
            group, files, nbytes = [], 0, 0
    if group:
        yield group


def _store_group(
    ctx: RepoContext, group: list[OutputPlan], known: Md5Map, result: ImportResult
) -> dict[str, list[Stored]]:
    stored: dict[str, list[Stored]] = {}
    with ctx.store.batch() as batch:
        ingest = Ingestor(ctx, batch, known, store_link(ctx.config.link))
        for item in group:
            got: list[Stored] = []
            missing: list[str] = []
            rows = ctx.index.lookup_prefix(item.out.path)
            for path, md5, size in item.files():
                paths = object_paths(item.cache, md5, legacy=item.out.legacy)
                found = ingest.ingest(md5, item.out.legacy, path, paths, size, rows.get(path))
                if found is None:
                    missing.append(path)
                else:
                    got.append(found)
                ctx.reporter.advance(TASK, 1, found.size if found else 0)
            if missing:
                result.missing += missing
            else:
                stored[item.out.path] = got
    ingest.flush_known()
    for path in ingest.corrupt:
        ctx.reporter.warning(f"DVC cache object {path} does not match its MD5; not used")
    return stored


def _pointer(item: OutputPlan, got: list[Stored], store: ObjectStore, batch: Batch) -> Pointer:
    name = posixpath.basename(item.out.path)
    origin = item.out.origin  # a dvc import: the pointer keeps where it came from
    source = (
        None
        if origin is None
        else ImportSource(origin.url, origin.path, origin.rev, origin.rev_lock)
    )
    if not item.out.is_dir:
        return Pointer(name, "file", got[0].oid, got[0].size, source=source)
    entries = [
        Entry(e.relpath, s.oid, s.size, e.isexec or s.executable)
        for e, s in zip(item.entries or [], got, strict=True)
    ]
    data = encode_manifest(entries)
    oid = hash_bytes(data)
    if not store.has(oid):  # a rerun: no write, so the batch needs no sync
        batch.add_bytes(data, expected_oid=oid)
    return Pointer(name, "dir", oid, sum(e.size for e in entries), len(entries), source)


def _workspace(got: list[Stored]) -> Workspace:
    states = {s.state for s in got}
    if "differs" in states:
        return "differs"
    if "absent" in states:
        return "absent"
    return "clean" if states <= {"verified"} else "present"


def apply_group(
    ctx: RepoContext, group: list[OutputPlan], known: Md5Map, result: ImportResult, applied: Applied
) -> None:
    stored = _store_group(ctx, group, known, result)
    pointers: dict[str, Pointer] = {}
    with ctx.store.batch() as batch:
        for item in group:
            if item.out.path in stored:
                pointers[item.out.path] = _pointer(item, stored[item.out.path], ctx.store, batch)
    rows: list[StatRow] = []
    states: list[tuple[str, str]] = []
    for item in group:
        path = item.out.path
        pointer = pointers.get(path)
        if pointer is None:
            continue
        if item.existing is not None and item.existing.oid != pointer.oid:
            result.not_converted.append(
                NotConverted(
                    path, item.out.source, "gitml already tracks it with other content (kept as is)"
                )
            )
            continue
        name = pointer_name(path)
        target = safe_parent(ctx.root, name) / posixpath.basename(name)
        data = format_pointer(pointer)
        changed = item.existing is None or not target.is_file() or target.read_bytes() != data
        if changed:
            # No fsync: a lost pointer is written again by the next run (the
            # objects it names are durable: their batch has synced).
            write_file_atomic(target, data, sync=False)
        got = stored[path]
        rows += [s.row for s in got if s.row is not None]
        workspace = _workspace(got)
        if workspace == "present" and ctx.index.get_state(path) == pointer.oid:
            workspace = "clean"
        elif workspace == "clean" and ctx.index.get_state(path) != pointer.oid:
            states.append((path, pointer.oid))
        applied.staged += [name, add_ignore(ctx.root, path)]
        applied.imported.append((item, pointer, workspace, changed))
        fault_point("interop.after-output")
    ctx.index.put_many(rows)  # one transaction per group
    for path, oid in states:
        ctx.index.set_state(path, oid)


def record(applied: Applied, result: ImportResult, restored: set[str]) -> None:
    for item, pointer, workspace, changed in applied.imported:
        state: Workspace = "restored" if item.out.path in restored else workspace
        result.imported.append(
            ImportedOutput(
                item.out.path,
                pointer.kind,
                pointer.oid,
                pointer.size,
                pointer.nfiles,
                item.out.source,
                changed,
                state,
            )
        )
