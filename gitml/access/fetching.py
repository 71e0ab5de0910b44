"""Bringing the objects a read needs into the caller's cache, each verified.

In order: what the cache already has; a local source repository's own cache
(read only, every object re-hashed on the way in); the data remote of the
repository being read. What is still missing is one error that names the files
and says where gitml looked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from gitml.context import RepoContext
from gitml.errors import CorruptObjectError, GitmlError, ObjectMissingError, RemoteError
from gitml.store.objects import ObjectStore

_BLOCK = 1 << 20


def ensure_objects(
    ctx: RepoContext, wanted: dict[str, str], *, where: str, local_cache: Path | None = None
) -> int:
    """Make ``ctx.store`` hold every oid of ``wanted`` (oid -> label for errors);
    returns how many objects were brought in."""
    missing = ctx.store.missing(wanted)
    if not missing:
        return 0
    brought = 0
    if local_cache is not None and local_cache != ctx.store.root:
        brought += _copy_from_cache(ctx.store, ObjectStore(local_cache), missing)
        missing = ctx.store.missing(missing)
    if missing:
        brought += _download(ctx, missing, wanted, where)
    return brought


def _copy_from_cache(store: ObjectStore, other: ObjectStore, oids: list[str]) -> int:
    done = 0
    with store.batch() as batch:
        for oid in oids:
            try:
                batch.add_stream(_object_blocks(other, oid), expected_oid=oid)
            except (ObjectMissingError, CorruptObjectError):
                continue  # not there, or damaged: the remote may still have it
            done += 1
    return done


def _object_blocks(store: ObjectStore, oid: str) -> Iterator[bytes]:
    """The object's bytes in blocks (a whole object, or its chunks in order)."""
    from gitml.access.reader import ObjectReader

    with ObjectReader(store, oid, store.size_of(oid), oid) as reader:
        while block := reader.read(_BLOCK):
            yield block


def _download(ctx: RepoContext, missing: list[str], wanted: dict[str, str], where: str) -> int:
    names = ", ".join(wanted[o] for o in missing[:3]) + (
        f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    )
    if not ctx.config.remotes:
        raise ObjectMissingError(
            f"{names} is not in the cache, and {where} has no data remote to fetch it from",
            "push it from a clone that has it (gitml push), or configure a data remote there",
        )
    from gitml.remotes.workflow import remote_for

    rem = remote_for(ctx, None)
    try:
        result = rem.download(ctx.store, missing, jobs=ctx.config.jobs, reporter=ctx.reporter)
    except GitmlError as exc:
        raise RemoteError(f"cannot fetch {names} from {where}: {exc.message}", exc.hint) from None
    finally:
        rem.close()
    if result.failed:
        oid, reason = next(iter(result.failed.items()))
        raise RemoteError(
            f"cannot fetch {wanted.get(oid, oid)} from {where}: {reason}",
            "check that it was pushed, and your credentials for that remote",
        )
    return len(result.transferred)
