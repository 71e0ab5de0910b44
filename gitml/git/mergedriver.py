"""The git side of gitml's merge driver for pointers (``*.gitml``).

``gitml init`` (and ``gitml hooks install``, for a fresh clone: ``.git/config``
is not cloned) records the driver in the repository's own config, as git-lfs
and DVC do::

    [merge "gitml"]
        name = gitml pointer merge
        driver = '<python>' -m gitml merge-driver %O %A %B %P

and ``.gitattributes`` (tracked) routes pointers to it: ``*.gitml merge=gitml``.
The recorded Python is the one gitml runs in, so the driver works from any
shell; git quotes ``%O %A %B %P`` itself. Without the config (a clone that
never ran gitml) git falls back to its line merge, and ``gitml checkout PATH
--conflict ours|theirs`` resolves what that leaves.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gitml.git.repo import GitRepo

DRIVER_NAME = "gitml"
ATTRIBUTES_LINE = "*.gitml merge=gitml"


def driver_command(python: str) -> str:
    return f"{shlex.quote(python)} -m gitml merge-driver %O %A %B %P"


def configure_merge_driver(repo: GitRepo, python: str) -> list[str]:
    """Record the driver in ``.git/config``; idempotent. Returns the keys it changed."""
    changed: list[str] = []
    wanted = {
        f"merge.{DRIVER_NAME}.name": "gitml pointer merge",
        f"merge.{DRIVER_NAME}.driver": driver_command(python),
    }
    for key, value in wanted.items():
        if repo.config_get(key) != value:
            repo.config_set(key, value)
            changed.append(key)
    return changed


def merge_driver_configured(repo: GitRepo) -> bool:
    return bool(repo.config_get(f"merge.{DRIVER_NAME}.driver"))
