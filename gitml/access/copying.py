"""``gitml get``: a plain copy of a file or folder of some version, untracked.

The bytes go through the one checkout writer (verified, written under a
temporary name, then renamed), always as copies: a ``get`` leaves files the
user owns, never links into a cache. A destination that holds other bytes is
refused unless ``force``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from gitml.access.imports import bring
from gitml.access.locate import Located
from gitml.access.place import Place
from gitml.errors import WorkspaceConflictError
from gitml.workspace.checkout import Target, checkout


@dataclass
class Copied:
    path: str  # in the repository read
    dest: Path  # absolute
    kind: str  # "file" or "dir"
    size: int
    commit: str
    written: list[str] = field(default_factory=list)


def copy_out(place: Place, located: Located, dest: Path, *, force: bool) -> Copied:
    if dest.is_dir() and located.kind != "dir" and not force:
        raise WorkspaceConflictError(f"{dest} is a folder", "give -o PATH for the file")
    pointer = bring(place, located)
    ctx = place.ctx
    copying = ctx.with_config(dataclasses.replace(ctx.config, link="copy"))
    ctx.gitml_dir.mkdir(exist_ok=True)  # the writer's journal (a source clone has none)
    target = Target(located.path, pointer, place.revision.text, dest=dest)
    done = checkout(copying, [target], force=force)
    kind = "dir" if pointer.kind == "dir" else "file"
    return Copied(located.path, dest, kind, pointer.size, place.commit, done.written)
