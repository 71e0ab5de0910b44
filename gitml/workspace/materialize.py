"""Writing checkout results into the workspace safely, one syscall path at a time.

``Folders`` hands out open descriptors of workspace folders, each reached
from the repository root one component at a time with
``O_DIRECTORY|O_NOFOLLOW``: a symlinked (or swapped-in) parent is refused by
the kernel at the moment of use, not by an earlier ``lstat``, and every file is
then created relative to its folder's descriptor, so each folder is checked
once per run instead of once per file.

Crash safety. A new file is written straight to its final name
(``ObjectStore.create``: ``O_CREAT|O_EXCL``, no temp file, no rename), created
with mode 000 and given 0644/0755 only when its bytes are complete and
verified; a file that already exists is replaced through a temp file and a
rename. Before writing anything, checkout records its targets in
``.gitml/checkout.journal`` (fsync'd); the journal is removed when the
checkout is complete. If the process dies in between, the next checkout
calls :func:`recover` first, which removes

- temp files (``.<name>.<12 hex>.tmp``) in the journaled trees, and
- unfinished files: a regular file at a path the journaled version names,
  with mode 000 and no larger than its object, i.e. exactly what a killed
  ``create`` leaves.

So no later checkout, status or add ever takes a half-written file for
data: it is removed first, and until then it is unreadable to its owner
(mode 000) and never recorded in the stat index.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
from pathlib import Path

from gitml.errors import GitmlError, UnsafePathError
from gitml.store.durable import write_file_atomic
from gitml.store.fsutil import write_error
from gitml.store.manifest import decode_manifest
from gitml.store.objects import ObjectStore

JOURNAL = "checkout.journal"
_HEADER = "gitml-checkout 2"
TEMP_RE = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_MAX_OPEN = 256


class Folders:
    """Open, verified descriptors of folders below ``root`` (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._fds: dict[str, int] = {"": self._root_fd}

    def fd(self, rel: str, *, create: bool = True) -> int:
        """The descriptor of folder ``rel`` ('' = root), created if missing and ``create``.

        ``rel`` must have passed ``check_relpath``. Raises UnsafePathError for a
        symlink or a file on the way, FileNotFoundError if missing and not ``create``.
        Valid until the next call (at most ``_MAX_OPEN`` stay open).
        """
        fd = self._fds.get(rel)
        if fd is not None:
            return fd
        if len(self._fds) > _MAX_OPEN:
            self.forget()
        parent, _, name = rel.rpartition("/")
        parent_fd = self.fd(parent, create=create)
        try:
            fd = os.open(name, _DIR, dir_fd=parent_fd)
        except FileNotFoundError:
            if not create:
                raise
            try:
                os.mkdir(name, 0o777, dir_fd=parent_fd)
            except FileExistsError:
                pass
            except OSError as exc:
                raise write_error(str(self.root / rel), exc) from None
            fd = self._open_existing(parent_fd, name, rel)
        except OSError as exc:
            raise self._refusal(parent_fd, name, rel, exc) from None
        self._fds[rel] = fd
        return fd

    def _open_existing(self, parent_fd: int, name: str, rel: str) -> int:
        try:
            return os.open(name, _DIR, dir_fd=parent_fd)
        except OSError as exc:
            raise self._refusal(parent_fd, name, rel, exc) from None

    def _refusal(self, parent_fd: int, name: str, rel: str, exc: OSError) -> GitmlError:
        path = self.root / rel
        try:
            mode = os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode
        except OSError:
            mode = 0
        if stat.S_ISLNK(mode) or exc.errno == errno.ELOOP:
            return UnsafePathError(
                f"refusing to write through symlinked directory {path}",
                "replace the symlink with a real directory",
            )
        if exc.errno == errno.ENOTDIR or (mode and not stat.S_ISDIR(mode)):
            return UnsafePathError(
                f"{path} is a file where a directory is needed", "move it away or use --force"
            )
        return write_error(str(path), exc)

    def forget(self) -> None:
        """Close every descriptor but the root's (after folders were removed)."""
        for rel, fd in self._fds.items():
            if rel:
                os.close(fd)
        self._fds = {"": self._root_fd}

    def close(self) -> None:
        self.forget()
        os.close(self._root_fd)


# -- the journal ---------------------------------------------------------------


def write_journal(gitml_dir: Path, targets: list[dict[str, object]]) -> None:
    """Record what a checkout is about to write (tracked, kind, oid, size, subpath)."""
    lines = [_HEADER] + [json.dumps(t, ensure_ascii=False, sort_keys=True) for t in targets]
    write_file_atomic(gitml_dir / JOURNAL, ("\n".join(lines) + "\n").encode("utf-8"))


def finish_journal(gitml_dir: Path) -> None:
    (gitml_dir / JOURNAL).unlink(missing_ok=True)


def recover(root: Path, gitml_dir: Path, store: ObjectStore) -> None:
    """Undo what a killed checkout left half done (see the module docstring)."""
    journal = gitml_dir / JOURNAL
    try:
        lines = journal.read_text("utf-8").splitlines()
    except FileNotFoundError:
        return
    records: list[dict[str, object]] = []
    if lines and lines[0] == _HEADER:
        with contextlib.suppress(ValueError):
            records = [json.loads(line) for line in lines[1:] if line]
    else:  # a journal of an older gitml: tracked paths, temp files only
        records = [{"tracked": line} for line in lines if line]
    for rec in records:
        tracked = str(rec["tracked"])
        _clean_target(root / tracked, _expected_sizes(store, rec))
    journal.unlink(missing_ok=True)


def _expected_sizes(store: ObjectStore, rec: dict[str, object]) -> dict[str, int]:
    """Relative path ('' = the tracked file) → object size, for the files the
    journaled version names; {} when unknown (then only temp files go)."""
    kind, oid, size = rec.get("kind"), rec.get("oid"), rec.get("size")
    sub = str(rec.get("subpath") or "")
    if kind == "file" and isinstance(size, int):
        return {"": size}
    if kind != "dir" or not isinstance(oid, str):
        return {}
    try:
        entries = decode_manifest(store.read_bytes(oid), source="checkout journal")
    except GitmlError:
        return {}
    return {
        e.path: e.size for e in entries if not sub or e.path == sub or e.path.startswith(sub + "/")
    }


def _unfinished(st: os.stat_result, size: int | None) -> bool:
    return (
        size is not None
        and stat.S_ISREG(st.st_mode)
        and stat.S_IMODE(st.st_mode) == 0
        and st.st_size <= size
    )


def _clean_target(top: Path, sizes: dict[str, int]) -> None:
    with contextlib.suppress(OSError):
        _clean_folder(os.fspath(top.parent), None, {top.name: sizes.get("")} if "" in sizes else {})
    with contextlib.suppress(OSError):
        if not stat.S_ISDIR(os.lstat(top).st_mode):
            return
        prefix_len = len(os.fspath(top)) + 1
        for dirpath, _dirs, files, dir_fd in os.fwalk(top):  # never follows symlinks
            rel = dirpath[prefix_len:]
            names = {n: sizes.get(f"{rel}/{n}" if rel else n) for n in files}
            _clean_folder(None, dir_fd, names)


def _lstat_at(dir_fd: int, name: str) -> os.stat_result:
    return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)


def _clean_folder(path: str | None, dir_fd: int | None, names: dict[str, int | None]) -> None:
    """In one folder: remove temp files, and files in ``names`` that are unfinished."""
    fd = dir_fd if dir_fd is not None else os.open(path or ".", _DIR)
    try:
        candidates = set(names)
        if path is not None:
            candidates |= {n for n in os.listdir(fd) if TEMP_RE.match(n)}
        for name in candidates:
            with contextlib.suppress(OSError):
                if TEMP_RE.match(name) or _unfinished(_lstat_at(fd, name), names.get(name)):
                    os.unlink(name, dir_fd=fd)
    finally:
        if dir_fd is None:
            os.close(fd)
