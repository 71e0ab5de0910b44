"""DVC itself reading DVC remotes: ``--from-remote``, and ``dvc import`` sources.

``--from-remote``: let DVC itself download objects into its local cache.

DVC knows every remote it supports (S3, GCS, Azure, SSH, HTTP, WebDAV, Google
Drive, ...) with its config, credentials and quirks, so gitml does not
reimplement any of them: it asks ``Repo.cloud.pull`` for exactly the objects
missing from the DVC cache, then reads them from there like any other object
(verifying DVC's MD5). The source of a ``dvc import`` (a DVC data registry)
is read the same way, by DVC's own file system (:func:`download_from_repo`),
for ``gitml update``. This is the only module that imports dvc, and only
inside the functions (about a second of imports).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gitml.errors import InteropError, RemoteError
from gitml.progress import Reporter

INSTALL_HINT = "pip install 'gitml[dvc]'"


@dataclass
class Fetched:
    cache_dir: Path  # the DVC cache the objects went to (as DVC resolves it)
    requested: int = 0
    transferred: int = 0
    failed: set[tuple[str, bool]] = field(default_factory=set)  # (md5, legacy)


class _ToReporter(logging.Handler):
    def __init__(self, reporter: Reporter) -> None:
        super().__init__(logging.WARNING)
        self._reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        self._reporter.info(f"dvc: {record.getMessage()}")


@contextlib.contextmanager
def _dvc_logs_to(reporter: Reporter) -> Iterator[None]:
    """DVC logs and progress bars go to the reporter, never straight to the terminal."""
    log = logging.getLogger("dvc")
    saved = (log.level, log.propagate, list(log.handlers))
    handler = _ToReporter(reporter)
    log.setLevel(logging.WARNING)  # > INFO also turns DVC's progress bars off
    log.propagate = False
    log.handlers = [handler]
    try:
        yield
    finally:
        log.setLevel(saved[0])
        log.propagate = saved[1]
        log.handlers = saved[2]


def require_dvc() -> None:
    """Raise a clear error naming the extra to install when dvc is missing."""
    try:
        import dvc.repo  # noqa: F401
    except ImportError:
        raise InteropError(
            "DVC is not installed; `--from-remote` fetches from DVC remotes with DVC itself",
            INSTALL_HINT,
        ) from None


def fetch(
    project: Path, remote: str, wanted: list[tuple[str, bool]], reporter: Reporter
) -> Fetched:
    """Download ``wanted`` (md5, legacy) objects from DVC remote ``remote`` into the DVC cache."""
    require_dvc()
    from dvc.repo import Repo
    from dvc_data.hashfile.hash_info import HashInfo

    with _dvc_logs_to(reporter):
        try:
            repo = Repo(str(project))
        except Exception as exc:
            raise InteropError(f"DVC cannot open the project in {project}: {exc}") from None
        try:
            names = sorted((repo.config.get("remote") or {}).keys())
            if remote not in names:
                raise RemoteError(
                    f"the DVC project in {project} has no remote named {remote!r}",
                    f"DVC remotes: {', '.join(names)}" if names else "dvc remote add NAME URL",
                )
            result = Fetched(Path(repo.cache.legacy.path), requested=len(wanted))
            if not wanted:
                return result
            infos = [HashInfo("md5-dos2unix" if legacy else "md5", md5) for md5, legacy in wanted]
            reporter.info(f"fetching {len(infos)} objects from DVC remote {remote!r}")
            try:
                done = repo.cloud.pull(infos, remote=remote)
            except Exception as exc:
                raise RemoteError(f"fetching from DVC remote {remote!r} failed: {exc}") from None
            result.transferred = len(done.transferred)
            result.failed = {(h.value, h.name == "md5-dos2unix") for h in done.failed}
            return result
        finally:
            repo.close()


def download_from_repo(
    location: str, path: str, commit: str, dest: Path, reporter: Reporter
) -> None:
    """``path`` of the DVC repository at ``location``, as committed at ``commit``,
    written below ``dest`` by DVC (its clone, its remote, its credentials): the
    source of a ``dvc import`` that ``gitml update`` moves."""
    require_dvc()
    from dvc.api import DVCFileSystem

    with _dvc_logs_to(reporter):
        try:
            fs = DVCFileSystem(location, rev=commit)
        except Exception as exc:
            raise RemoteError(f"DVC cannot open {location} at {commit[:12]}: {exc}") from None
        try:
            if not fs.exists(path):
                raise InteropError(f"{path} does not exist at {commit[:12]} in {location}")
            fs.get(path, str(dest), recursive=True)
        except InteropError:
            raise
        except Exception as exc:
            raise RemoteError(f"DVC cannot read {path} from {location}: {exc}") from None
        finally:
            fs.close()
