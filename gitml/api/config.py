"""``gitml config``: read and edit the two config files directly, so a config
that does not load (a bad value, a stale remote) can still be read and repaired."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from gitml.progress import Reporter
from gitml.safepath import UserPath, as_path

if TYPE_CHECKING:
    from gitml.configfile import ConfigEntry, ConfigListing


@contextmanager
def _config_files(cwd: UserPath | None, *, write: bool) -> Iterator[Path]:
    from gitml.config import GITML_DIR
    from gitml.errors import NotARepoError
    from gitml.git.repo import GitRepo

    root = GitRepo.discover(as_path(cwd)).root
    if not (root / GITML_DIR).is_dir():
        raise NotARepoError(f"gitml is not initialised in {root}", "run `gitml init` first")
    if not write:
        yield root
        return
    from gitml.store.lock import RepoLock

    with RepoLock(root / GITML_DIR / "lock", timeout=60.0, reporter=Reporter()):
        yield root


def config_get(key: str, *, local: bool = False, cwd: UserPath | None = None) -> ConfigEntry | None:
    """The value gitml uses for ``key`` and where it comes from (``local``: only
    what config.local.toml says); None when it is set nowhere and has no default."""
    from gitml.configfile import effective, parse_key

    parsed, _spec = parse_key(key)
    with _config_files(cwd, write=False) as root:
        return effective(root, parsed, local_only=local)


def config_list(*, local: bool = False, cwd: UserPath | None = None) -> ConfigListing:
    """Every key set in the tracked and local files, where it comes from, and
    whether gitml uses it (``refused``: an untrusted tracked setting)."""
    from gitml.configfile import ConfigListing, list_entries

    with _config_files(cwd, write=False) as root:
        entries, error = list_entries(root, local_only=local)
        return ConfigListing(entries=entries, error=error)


def config_set(key: str, value: str, *, local: bool = False, cwd: UserPath | None = None) -> None:
    """Set ``key`` in the tracked config (staged) or, with ``local``, in
    config.local.toml; comments in the file are kept. Secrets, a cache outside the
    repository and the hardlink/symlink modes are refused in the tracked file."""
    from gitml.config import check_remote_name
    from gitml.configfile import ConfigFile, coerce, parse_key

    parsed, spec = parse_key(key)
    typed = coerce(parsed, spec, value)
    if str(parsed) == "core.remote":
        check_remote_name(typed)
    if parsed.remote is not None and parsed.name in ("url", "endpoint_url"):
        from gitml.remotes.url import check_endpoint_url, parse_url

        with _config_files(cwd, write=False) as root:
            if parsed.name == "url":
                parse_url(str(typed), base=root)
            else:
                check_endpoint_url(str(typed))
    with _config_files(cwd, write=True) as root:
        config = ConfigFile(root, local=local)
        config.set(parsed, typed)
        config.save()
        _stage_tracked(root, local)


def config_unset(key: str, *, local: bool = False, cwd: UserPath | None = None) -> bool:
    """Remove ``key`` from one file; False if it was not set there."""
    from gitml.configfile import ConfigFile, parse_key

    parsed, _spec = parse_key(key)
    with _config_files(cwd, write=True) as root:
        config = ConfigFile(root, local=local)
        if not config.unset(parsed):
            return False
        config.save()
        _stage_tracked(root, local)
        return True


def _stage_tracked(root: Path, local: bool) -> None:
    if not local:
        from gitml.git.repo import GitRepo

        GitRepo.discover(root).add([".gitml/config.toml"])
