"""Where a read happens: this repository at a revision, or another repository.

:func:`open_place` gives one :class:`Place` for both, so every read (``open``,
``get``, ``import``, ``ls``, ``get_url``) resolves revisions with the one
resolver (registry references included) and fetches objects the same way.

Objects always land in the caller's cache: this repository's when the caller
is in one, else the user's shared cache (``~/.cache/gitml/objects``), so a
second read of the same object costs nothing. Writers of that cache hold its
lock only while they fetch, never while the caller reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gitml.access.fetching import ensure_objects
from gitml.access.locate import Located, locate
from gitml.access.source import Source, local_source_cache, open_source
from gitml.config import DEFAULT_CHUNK_MIN_FILE, user_cache_home
from gitml.context import RepoContext, open_repo
from gitml.errors import NotARepoError
from gitml.progress import Reporter
from gitml.registry.revision import Resolver, Revision
from gitml.store.lock import RepoLock

SHARED_OBJECTS = "objects"


@dataclass
class Place:
    """A repository opened at one commit, for reading."""

    ctx: RepoContext  # reads its pointers; its store is the caller's cache
    revision: Revision
    where: str  # how errors name it: "this repository" or the URL
    source: Source | None  # set when reading another repository
    local_cache: Path | None  # a local source's own cache, read first

    @property
    def commit(self) -> str:
        return self.revision.commit

    def fetch(self, wanted: dict[str, str]) -> int:
        """Bring ``wanted`` (oid -> label) into the cache (see :mod:`.fetching`)."""
        return ensure_objects(self.ctx, wanted, where=self.where, local_cache=self.local_cache)

    def locate(self, path: str) -> Located:
        return locate(
            self.ctx,
            self.commit,
            path,
            rev=self.revision.text,
            where=self.where,
            local_cache=self.local_cache,
        )


def caller_repo(cwd: Path, reporter: Reporter) -> RepoContext | None:
    """The gitml repository around ``cwd``, or None when there is none."""
    try:
        ctx = open_repo(cwd, reporter=reporter)
    except NotARepoError:
        return None
    return ctx


def caller_cache(caller: RepoContext | None) -> tuple[Path, Path, int]:
    """(cache folder, its lock file, chunk threshold) for objects a read brings in."""
    if caller is not None:
        return caller.config.cache_dir, caller.gitml_dir / "lock", caller.config.chunk_min_file
    home = user_cache_home()
    return home / SHARED_OBJECTS, home / f"{SHARED_OBJECTS}.lock", DEFAULT_CHUNK_MIN_FILE


@contextmanager
def open_place(
    repo: str | None, rev: str | None, *, cwd: Path, reporter: Reporter
) -> Iterator[Place]:
    """This repository (``repo`` None) or ``repo`` (a URL or a path, relative to
    ``cwd``), at ``rev`` (default ``HEAD``: the source's default branch), with
    the caller's cache locked for as long as the place is open."""
    caller = caller_repo(cwd, reporter)
    try:
        _cache, lock, _chunk = caller_cache(caller)
        lock.parent.mkdir(parents=True, exist_ok=True)
        timeout = caller.config.lock_timeout if caller is not None else 600.0
        with (
            RepoLock(lock, timeout=timeout, reporter=reporter),
            place_in(caller, repo, rev, base=cwd, reporter=reporter) as place,
        ):
            yield place
    finally:
        if caller is not None:
            caller.close()


@contextmanager
def place_in(
    caller: RepoContext | None, repo: str | None, rev: str | None, *, base: Path,
    reporter: Reporter,
) -> Iterator[Place]:  # fmt: skip
    """:func:`open_place` for a caller that already holds its cache's lock."""
    if repo is None:
        if caller is None:
            raise NotARepoError(
                f"{base} is not in a gitml repository",
                "give repo=URL, or run from a repository (gitml init)",
            )
        revision = Resolver(caller).resolve(rev or "HEAD")
        yield Place(caller, revision, "this repository", None, None)
        return
    cache_dir, _lock, chunk_min = caller_cache(caller)
    src = open_source(
        repo, base=base, cache_dir=cache_dir, chunk_min_file=chunk_min, reporter=reporter
    )
    try:
        resolver = Resolver(src.ctx)
        revision = resolver.resolve(rev or "HEAD")
        src.use_commit(revision.commit)
        if not src.ctx.config.remotes:
            # An old commit may name a remote the source has since replaced:
            # its newest config says where the data lives now (objects are
            # verified by hash, whichever remote they come from).
            newest = resolver.resolve("HEAD").commit
            if newest != revision.commit:
                src.use_commit(newest)
        yield Place(src.ctx, revision, src.url, src, local_source_cache(src))
    finally:
        src.close()
