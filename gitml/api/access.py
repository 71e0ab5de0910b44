"""Versioned data and models, read from this repository or from another one.

``open``/``read`` stream one file of any version; ``ls`` lists what a version
holds (copies and imports: :mod:`gitml.api.imports`); ``params``/``metrics`` read the
committed values; ``get_url`` names where an object lives on the data remote;
``load_model`` loads a registered model (safe formats only, unless trusted).

Every ``rev`` takes what the CLI takes (``HEAD~2``, a branch, a tag,
``churn@v1``, ``churn@latest``, ``churn#prod``); ``repo`` is another
repository's URL or path (None: the repository around ``cwd``). Paths name
files relative to the repository's root, as in DVC. Objects land in the
caller's cache (the repository's, else ``~/.cache/gitml/objects``), verified.
"""

from __future__ import annotations

import builtins
import io
import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, overload

from gitml.errors import GitmlError, UsageError
from gitml.progress import Callback, Reporter
from gitml.safepath import UserPath, as_path

if TYPE_CHECKING:
    from gitml.access.listing import Listing
    from gitml.access.place import Place

__all__ = [
    "get_url",
    "load_model",
    "ls",
    "metrics",
    "open",
    "params",
    "read",
]

_STREAM_BUFFER = 1 << 20
_base = as_path


def _repo(repo: UserPath | None) -> str | None:
    return None if repo is None else os.fspath(repo)


def open_place_for(
    repo: UserPath | None, rev: str | None, cwd: UserPath | None, callback: Callback | None
) -> AbstractContextManager[Place]:
    from gitml.access.place import open_place

    return open_place(_repo(repo), rev, cwd=_base(cwd), reporter=Reporter(callback))


# -- reading -----------------------------------------------------------------------------


@contextmanager
def open(  # the name users expect (dvc.api.open, io.open)
    path: str,
    rev: str | None = None,
    repo: UserPath | None = None,
    mode: Literal["rb", "r"] = "rb",
    encoding: str | None = None,
    *,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> Iterator[IO[Any]]:
    """A stream of ``path`` at ``rev`` (None, in this repository: the workspace
    file, else ``HEAD``). Nothing is read whole into memory; a tracked object
    comes from the cache, fetched first when missing, and its hash is checked
    as it is read (a damaged one raises :class:`gitml.errors.CorruptObjectError`).
    ``mode``: ``"rb"`` (bytes) or ``"r"`` (text, ``encoding`` default UTF-8).

    >>> with gitml.open("data/customers.csv", rev="churn@v2", mode="r") as f:
    ...     header = f.readline()
    """
    if mode not in ("rb", "r"):
        raise UsageError(f"mode must be 'rb' or 'r', not {mode!r}")
    stream = _binary(path, rev, repo, cwd, callback)
    try:
        if mode == "rb":
            yield stream
        else:
            with io.TextIOWrapper(stream, encoding=encoding or "utf-8") as text:
                yield text
    finally:
        stream.close()


@overload
def read(
    path: str,
    rev: str | None = None,
    repo: UserPath | None = None,
    mode: Literal["rb"] = "rb",
    encoding: str | None = None,
    *,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> bytes: ...
@overload
def read(
    path: str,
    rev: str | None = None,
    repo: UserPath | None = None,
    *,
    mode: Literal["r"],
    encoding: str | None = None,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> str: ...
def read(
    path: str,
    rev: str | None = None,
    repo: UserPath | None = None,
    mode: Literal["rb", "r"] = "rb",
    encoding: str | None = None,
    *,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> bytes | str:
    """The whole content of ``path`` at ``rev`` (see :func:`open`): bytes, or
    text with ``mode="r"``.

    >>> gitml.read("metrics.json", rev="HEAD~3", mode="r")
    """
    with open(path, rev, repo, mode, encoding, cwd=cwd, callback=callback) as stream:
        data: bytes | str = stream.read()
    return data


def _binary(
    path: str,
    rev: str | None,
    repo: UserPath | None,
    cwd: UserPath | None,
    callback: Callback | None,
) -> IO[bytes]:
    from gitml.access.reader import ObjectReader

    if repo is None and rev is None:
        here = _workspace_file(_base(cwd), path)
        if here is not None:
            return builtins.open(here, "rb")
    with open_place_for(repo, rev, cwd, callback) as place:
        located = place.locate(path)
        if located.kind == "dir":
            raise UsageError(
                f"{path} is a folder at {place.revision.text}", "open a file in it (gitml ls)"
            )
        if located.kind == "git":
            return io.BytesIO(place.ctx.git.read_blobs([located.oid])[located.oid])
        place.fetch({located.oid: located.path})
        store = place.ctx.store
    # the cache lock is released here: objects are immutable, reading needs none
    raw = ObjectReader(store, located.oid, located.size, located.path)
    return io.BufferedReader(raw, buffer_size=_STREAM_BUFFER)


def _workspace_file(base: Path, path: str) -> Path | None:
    """``path`` in the work tree of the repository around ``base``, if a file."""
    from gitml.git.repo import GitRepo

    try:
        root = GitRepo.discover(base).root
    except GitmlError:
        return None
    candidate = root / path
    return candidate if candidate.is_file() else None


# -- listing and values ----------------------------------------------------------------------


def ls(
    repo: UserPath | None = None,
    path: str = "",
    rev: str | None = None,
    *,
    recursive: bool = False,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> Listing:
    """What ``repo`` (default: this repository) holds under ``path`` at ``rev``:
    git files, folders and tracked data with sizes, and the registered models.

    >>> [e.path for e in gitml.ls("../registry", "data").entries]
    """
    from gitml.access.listing import list_place

    with open_place_for(repo, rev, cwd, callback) as place:
        return list_place(place, path, recursive=recursive)


def params(
    rev: str | None = None,
    repo: UserPath | None = None,
    *,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> dict[str, Any]:
    """The params at ``rev`` (None, in this repository: the workspace) from the
    declared params files, flattened (``train.lr``). A key two files share is
    given as ``file:key``.

    >>> gitml.params("HEAD~1")["train.lr"]
    """
    return _values("params", rev, repo, cwd, callback)


def metrics(
    rev: str | None = None,
    repo: UserPath | None = None,
    *,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> dict[str, Any]:
    """The metrics at ``rev`` (as :func:`params`), from the committed files.

    >>> gitml.metrics("churn@v1")["auc"]
    """
    return _values("metrics", rev, repo, cwd, callback)


def _values(
    kind: Literal["metrics", "params"],
    rev: str | None,
    repo: UserPath | None,
    cwd: UserPath | None,
    callback: Callback | None,
) -> dict[str, Any]:
    from gitml.compare.sides import Side, open_side
    from gitml.compare.values import read_values
    from gitml.context import session
    from gitml.registry.revision import Resolver
    from gitml.workspace.snapshot import Snapshot

    if repo is None and rev is None:
        with session(_base(cwd), callback, write=False) as ctx:
            return _merged(read_values(ctx, open_side(ctx, Resolver(ctx), None), kind).files)
    with open_place_for(repo, rev, cwd, callback) as place:
        side = Side(place.revision.text, place.commit, Snapshot(place.ctx, "commit", place.commit))
        return _merged(read_values(place.ctx, side, kind).files)


def _merged(files: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, int] = {}
    for values in files.values():
        for key in values.values:
            seen[key] = seen.get(key, 0) + 1
    out: dict[str, Any] = {}
    for name, values in files.items():
        for key, value in values.values.items():
            out[key if seen[key] == 1 else f"{name}:{key}"] = value
    return out


def get_url(
    path: str,
    rev: str | None = None,
    repo: UserPath | None = None,
    *,
    remote: str | None = None,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> str:
    """UserPath the object of ``path`` at ``rev`` is on the data remote (``remote``,
    default the default one), checked to be there: a URL, or a path for a
    folder remote. Small files pushed inside packs have no URL of their own.

    >>> gitml.get_url("data/customers.csv", rev="v1")
    """
    with open_place_for(repo, rev, cwd, callback) as place:
        return _object_url(place, path, remote)


def _object_url(place: Place, path: str, remote: str | None) -> str:
    from gitml.remotes.workflow import remote_for

    located = place.locate(path)
    if located.kind == "git":
        raise UsageError(f"{path} is stored in git, not on a data remote", "gitml.read() reads it")
    if located.kind == "dir":
        raise UsageError(f"{path} is a folder; get_url names one file", "name a file in it")
    rem = remote_for(place.ctx, remote)
    try:
        size = rem.stat_many([located.oid]).get(located.oid)
        if size is None:
            packed = located.oid in rem.present([located.oid], entries=False)
            chunked = not packed and located.oid in rem.present([located.oid])
            how = (
                "inside a pack (small files are packed)" if packed
                else "stored as chunks (big files are deduplicated)" if chunked
                else "not there"
            )  # fmt: skip
            raise UsageError(
                f"{path} at {place.revision.text} has no URL of its own on remote "
                f"{rem.name}: {how}",
                "gitml.open() reads it" if packed or chunked else "push it first (gitml push)",
            )
        return f"{rem.url.display().rstrip('/')}/{rem.key(located.oid)}"
    finally:
        rem.close()


# -- models ---------------------------------------------------------------------------------------


def load_model(
    ref: str,
    *,
    repo: UserPath | None = None,
    trusted: bool | Sequence[str] = False,
    cwd: UserPath | None = None,
    callback: Callback | None = None,
) -> Any:
    """Load the registered model ``ref`` (``churn@v2``, ``churn#prod``,
    ``churn@latest``) by its file type: ``.skops`` with skops, refusing types
    skops does not trust unless named in ``trusted`` (or ``trusted=True``);
    ``.pkl``/``.pickle``/``.joblib`` only with ``trusted=True``, since
    unpickling runs whatever code the file holds. Other types: use
    :func:`gitml.model_path` and your framework's loader.

    >>> model = gitml.load_model("churn#prod")
    """
    from gitml.access.models import load_stream
    from gitml.access.reader import ObjectReader
    from gitml.registry.resolve import resolve
    from gitml.registry.service import model_file, model_ref, read_state

    if repo is None:
        from gitml.api.registry import model_path

        file = model_path(ref, cwd=cwd, callback=callback)
        base = as_path(cwd)
        shown = file.relative_to(base).as_posix() if file.is_relative_to(base) else str(file)
        with builtins.open(file, "rb") as fh:
            return load_stream(fh, shown, trusted)
    with open_place_for(repo, None, cwd, callback) as place:
        version = resolve(read_state(place.ctx), model_ref(ref, None))
        tracked, pointer = model_file(place.ctx, version)
        if pointer.kind == "dir":
            raise UsageError(f"{ref} is a folder ({tracked})", "gitml.get() copies it out")
        place.fetch({pointer.oid: tracked})
        store = place.ctx.store
    raw = ObjectReader(store, pointer.oid, pointer.size, tracked)
    with io.BufferedReader(raw, buffer_size=_STREAM_BUFFER) as stream:
        return load_stream(stream, tracked, trusted)
