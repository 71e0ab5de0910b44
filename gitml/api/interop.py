"""DVC interop in the library API (re-exported by :mod:`gitml.api`)."""

from __future__ import annotations

from gitml.context import session
from gitml.interop.results import ConvertedStage, ImportedOutput, ImportResult, NotConverted
from gitml.progress import Callback
from gitml.safepath import UserPath

__all__ = ["ConvertedStage", "ImportResult", "ImportedOutput", "NotConverted", "import_dvc"]


def import_dvc(
    paths: list[str] | None = None,
    *,
    from_remote: str | None = None,
    keep_dvc: bool = False,
    dry_run: bool = False,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> ImportResult:
    """Import DVC-tracked data and stages: ``.dvc`` files and ``dvc.yaml``/``dvc.lock``.

    Each output's files come from the workspace or the DVC cache (or, with
    ``from_remote``, are fetched by DVC from that DVC remote), are checked
    against DVC's MD5 and stored under BLAKE3; pointers are written and staged.
    Stages become ``gitml.yaml`` stages (locked in ``gitml.lock`` when DVC's
    last run still holds). Unless ``keep_dvc``, converted DVC files leave the
    git index (never the disk). ``dry_run`` changes nothing. Files found
    nowhere are listed in ``result.missing`` (the rest is imported).
    """
    from gitml.interop.importer import import_dvc as do_import

    with session(cwd, callback, write=not dry_run) as ctx:
        return do_import(
            ctx, paths or [], cwd=cwd, from_remote=from_remote, keep_dvc=keep_dvc, dry_run=dry_run
        )
