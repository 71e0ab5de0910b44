"""The open repository: git, config, object store and stat index together.

Each operation of :mod:`gitml.api` opens one :class:`RepoContext` with
:func:`session` (and the repository lock when it writes); domain code receives
it instead of re-discovering things.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitml.config import GITML_DIR, Config, load_config
from gitml.errors import NotARepoError, UsageError
from gitml.progress import Callback, Reporter
from gitml.safepath import UserPath, as_path, check_relpath

# Most modules import this one for the RepoContext type; git (GitPython), the
# object store and the stat index (sqlite3) load when an operation uses them.
if TYPE_CHECKING:
    from gitml.git.repo import GitRepo
    from gitml.store.objects import ObjectStore
    from gitml.store.stat_index import StatIndex


@dataclass
class RepoContext:
    git: GitRepo
    config: Config
    reporter: Reporter
    _store: ObjectStore | None = field(default=None, repr=False)
    _index: StatIndex | None = field(default=None, repr=False)

    @property
    def root(self) -> Path:
        return self.git.root

    @property
    def gitml_dir(self) -> Path:
        return self.root / GITML_DIR

    @property
    def store(self) -> ObjectStore:
        if self._store is None:
            from gitml.store.objects import ObjectStore

            self._store = ObjectStore(
                self.config.cache_dir, chunk_min_file=self.config.chunk_min_file
            )
        return self._store

    @property
    def index(self) -> StatIndex:
        if self._index is None:
            from gitml.store.stat_index import StatIndex

            self._index = StatIndex(self.gitml_dir / "index")
        return self._index

    def with_config(self, config: Config) -> RepoContext:
        """This repository under another config (same cache folder), sharing the
        open object store; the stat index is its own."""
        return RepoContext(self.git, config, self.reporter, self._store)

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    def relpath(self, user_path: str | os.PathLike[str], *, cwd: UserPath | None = None) -> str:
        """A user-given path (relative to ``cwd``) as a safe repo-relative POSIX path."""
        base = as_path(cwd)
        absolute = Path(os.path.normpath(base / Path(user_path)))
        try:
            rel = absolute.relative_to(self.root)
        except ValueError:
            raise UsageError(f"{user_path} is outside the repository {self.root}") from None
        text = rel.as_posix()
        if text in ("", "."):
            raise UsageError("name a file or folder inside the repository, not its root")
        return check_relpath(text, what="path")


def open_repo(
    start: UserPath | None = None, *, reporter: Reporter | None = None, require_init: bool = True
) -> RepoContext:
    """Discover the git repository around ``start`` and load gitml's config."""
    from gitml.git.repo import GitRepo

    git = GitRepo.discover(as_path(start))
    if require_init and not (git.root / GITML_DIR).is_dir():
        raise NotARepoError(f"gitml is not initialised in {git.root}", "run `gitml init` first")
    reporter = reporter or Reporter()
    config = load_config(git.root)
    for message in config.warnings:  # refused tracked settings, unusable remotes
        reporter.warning(message)
    return RepoContext(git=git, config=config, reporter=reporter)


@contextmanager
def session(
    cwd: UserPath | None, callback: Callback | None, *, write: bool, require_init: bool = True
) -> Iterator[RepoContext]:
    """Open the repository (and take its lock when ``write``) for one operation."""
    ctx = open_repo(cwd, reporter=Reporter(callback), require_init=require_init)
    try:
        if require_init:
            from gitml.git.hooknotice import hooks_notice

            notice = hooks_notice(ctx.git)  # a fresh clone has none: say it once
            if notice:
                ctx.reporter.warning(notice)
        if write:
            from gitml.store.lock import RepoLock

            with RepoLock(
                ctx.gitml_dir / "lock", timeout=ctx.config.lock_timeout, reporter=ctx.reporter
            ):
                if require_init:
                    # A cache outside the repository may be shared: say we use it,
                    # so gc run from another repository keeps what we need.
                    from gitml.cache_users import record_user

                    record_user(ctx.config.cache_dir, ctx.root, ctx.git.common_dir, ctx.reporter)
                yield ctx
        else:
            yield ctx
    finally:
        ctx.close()
