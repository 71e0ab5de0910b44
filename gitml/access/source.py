"""Another repository, opened for reading: a cached clone and its data remote.

The clone (:mod:`gitml.git.clone`) gives commits, tags and pointers. What gitml
needs of the source's config (its data remotes) is read from the commit being
read, as the source's own users would see it, with the same distrust as any
tracked config (:func:`gitml.config.load_config` reads it). Objects land in the
*caller's* cache: the context's store is the caller's, and the link mode is
copy, since files written from it are the caller's own.

A relative folder remote (``../store``) means something only next to the
source: it is taken from the source's folder when the source is a local path,
and dropped with a warning when the source is a URL.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gitml.config import (
    CONFIG_NAME,
    GITML_DIR,
    Config,
    RemoteConfig,
    load_config,
    user_cache_home,
)
from gitml.context import RepoContext
from gitml.errors import GitmlError, NotARepoError
from gitml.git.clone import CLONE_TIMEOUT, check_url, clone_dir, is_network_url, update_clone
from gitml.progress import Reporter
from gitml.store.lock import RepoLock


@dataclass
class Source:
    """An opened source repository. ``ctx`` reads the clone; its config is the
    source's at the last :meth:`use_commit`."""

    url: str  # the user's text (recorded in import pointers)
    location: str  # what was cloned: an absolute path or a network URL
    ctx: RepoContext
    local_root: Path | None  # the source's work tree, when it is a local path
    cache_dir: Path
    chunk_min_file: int

    def use_commit(self, commit: str) -> None:
        """Take the source's data remotes from its config at ``commit``."""
        self.ctx.config = source_config(self, commit)

    def close(self) -> None:
        self.ctx.close()
        self.ctx.git.close()


def location_of(url: str, base: Path) -> str:
    """A local path (relative to ``base``) made absolute; a network URL as is."""
    check_url(url)
    if is_network_url(url):
        return url
    path = url[len("file://") :] if url.startswith("file://") else url
    return os.path.normpath(base / os.path.expanduser(path))


def open_source(
    url: str,
    *,
    base: Path,
    cache_dir: Path,
    chunk_min_file: int,
    reporter: Reporter,
    timeout: float = CLONE_TIMEOUT,
) -> Source:
    """Clone or update ``url`` (relative paths from ``base``) and open it;
    ``timeout``: seconds a clone or fetch may take."""
    from gitml.git.repo import GitRepo

    location = location_of(url, base)
    local_root = None if is_network_url(location) else Path(location)
    if local_root is not None and not local_root.exists():
        raise NotARepoError(f"{url}: no such repository ({location} does not exist)")
    home = user_cache_home()
    dest = clone_dir(home, location)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with RepoLock(dest.with_name(dest.name + ".lock"), timeout=600.0, reporter=reporter):
        update_clone(location, dest, timeout=timeout)
    git = GitRepo.discover(dest)
    empty = Config(root=dest, cache_dir=cache_dir, link="copy", chunk_min_file=chunk_min_file)
    ctx = RepoContext(git=git, config=empty, reporter=reporter)
    return Source(url, location, ctx, local_root, cache_dir, chunk_min_file)


def source_config(src: Source, commit: str) -> Config:
    """The source's tracked config at ``commit``, with the caller's cache."""
    name = f"{GITML_DIR}/{CONFIG_NAME}"
    data = src.ctx.git.read_files_at(commit, [name]).get(name)
    with tempfile.TemporaryDirectory(prefix="gitml-source-") as tmp:
        if data is not None:
            (Path(tmp) / GITML_DIR).mkdir()
            (Path(tmp) / name).write_bytes(data)
        loaded = load_config(Path(tmp))
    for message in loaded.warnings:
        src.ctx.reporter.warning(f"{src.url}: {message}")
    remotes: dict[str, RemoteConfig] = {}
    for rname, remote in loaded.remotes.items():
        fixed = _reachable(src, remote)
        if fixed is not None:
            remotes[rname] = fixed
    default = loaded.default_remote if loaded.default_remote in remotes else None
    return dataclasses.replace(
        loaded,
        root=src.ctx.root,
        cache_dir=src.cache_dir,
        link="copy",
        chunk_min_file=src.chunk_min_file,
        remotes=remotes,
        default_remote=default,
        warnings=(),
    )


def _reachable(src: Source, remote: RemoteConfig) -> RemoteConfig | None:
    url = remote.url
    relative = "://" not in url and not os.path.isabs(url) and not url.startswith("~")
    if not relative:
        return remote
    if src.local_root is not None:
        return dataclasses.replace(remote, url=os.path.normpath(src.local_root / url))
    src.ctx.reporter.warning(
        f"{src.url}: data remote {remote.name!r} is a relative folder ({url}), which only "
        "exists next to that repository; not used"
    )
    return None


def local_source_cache(src: Source) -> Path | None:
    """The object cache of a local source with gitml initialised (read-only use)."""
    if src.local_root is None or not (src.local_root / GITML_DIR).is_dir():
        return None
    try:
        return load_config(src.local_root).cache_dir
    except GitmlError:  # its cache is only a shortcut; the remote remains
        return None
