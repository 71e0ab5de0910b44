"""Writing checkout results into the workspace safely, one syscall path at a time.

``Folders`` hands out open descriptors of workspace folders, each reached
from the repository root one component at a time with
``O_DIRECTORY|O_NOFOLLOW``: a symlinked (or swapped-in) parent is refused by
the kernel at the moment of use, not by an earlier ``lstat``, and every file is
then created relative to its folder's descriptor, so each folder is checked
once per run instead of once per file. Deletes and mode changes go the same
way (``unlink``/``rmdir``/``fchmod`` relative to the folder's descriptor,
:meth:`Folders.unlink`, :meth:`Folders.remove_tree`...): a folder swapped for
a symlink while a checkout removes files from it is refused or, once open,
stays the folder that was opened; nothing outside is ever deleted.

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
import shutil
import stat
from pathlib import Path

from gitml.errors import DamagedStateError, GitmlError, UnsafePathError
from gitml.safepath import check_relpath
from gitml.store.durable import write_file_atomic
from gitml.store.fsutil import write_error
from gitml.store.manifest import decode_manifest
from gitml.store.objects import ObjectStore

JOURNAL = "checkout.journal"
_HEADER = "gitml-checkout 2"
TEMP_RE = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
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
                f"refusing to write or delete through symlinked directory {path}",
                "replace the symlink with a real directory",
            )
        if exc.errno == errno.ENOTDIR or (mode and not stat.S_ISDIR(mode)):
            return UnsafePathError(
                f"{path} is a file where a directory is needed", "move it away or use --force"
            )
        return write_error(str(path), exc)

    def existing_fd(self, rel: str) -> int | None:
        """The descriptor of folder ``rel`` if it exists (never created), else None;
        a symlink or a file on the way raises UnsafePathError, as :meth:`fd` does."""
        try:
            return self.fd(rel, create=False)
        except FileNotFoundError:
            return None

    def unlink(self, rel: str) -> bool:
        """Delete the file (or symlink) ``rel`` through its folder's descriptor;
        False if it or its folder is not there."""
        parent, _, name = rel.rpartition("/")
        dir_fd = self.existing_fd(parent)
        if dir_fd is None:
            return False
        try:
            os.unlink(name, dir_fd=dir_fd)
        except FileNotFoundError:
            return False
        except IsADirectoryError:
            raise UnsafePathError(
                f"{self.root / rel} is a directory where a file was expected",
                "move it away or use --force",
            ) from None
        except OSError as exc:
            raise write_error(str(self.root / rel), exc) from None
        return True

    def remove(self, rel: str) -> None:
        """Delete ``rel`` whatever it is (a folder with all it holds), never following a link."""
        parent, _, name = rel.rpartition("/")
        dir_fd = self.existing_fd(parent)
        if dir_fd is None:
            return
        try:
            mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise write_error(str(self.root / rel), exc) from None
        if stat.S_ISDIR(mode):
            self.remove_tree(rel)
        else:
            self.unlink(rel)

    def remove_tree(self, rel: str) -> None:
        """Delete the folder ``rel`` and everything in it, never following a
        symlink (``shutil.rmtree`` relative to the parent's descriptor)."""
        parent, _, name = rel.rpartition("/")
        dir_fd = self.existing_fd(parent)
        if dir_fd is None:
            return
        self.drop(rel)
        try:
            shutil.rmtree(name, dir_fd=dir_fd)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise write_error(str(self.root / rel), exc) from None

    def remove_empty_parents(self, rel: str, stop: str) -> None:
        """Remove the folders above ``rel`` that are now empty, up to (not
        including) ``stop``, each through its parent's descriptor (``rmdir`` of
        a name that became a symlink fails with ENOTDIR: it stays)."""
        folder = rel.rpartition("/")[0]
        while folder.startswith(stop + "/"):
            parent, _, name = folder.rpartition("/")
            dir_fd = self.existing_fd(parent)
            if dir_fd is None:
                return
            try:
                os.rmdir(name, dir_fd=dir_fd)
            except OSError:
                return  # not empty, gone, or no longer a folder
            self.drop(folder)
            folder = parent

    def chmod(self, rel: str, mode: int) -> None:
        """Set the mode of the regular file ``rel``, opened without following a
        symlink (``fchmod``: a name swapped for a link changes nothing outside)."""
        parent, _, name = rel.rpartition("/")
        dir_fd = self.fd(parent, create=False)
        try:
            fd = os.open(name, _FILE, dir_fd=dir_fd)
        except OSError as exc:
            raise write_error(str(self.root / rel), exc) from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UnsafePathError(
                    f"{self.root / rel} is not a regular file", "move it away or use --force"
                )
            os.fchmod(fd, mode)
        finally:
            os.close(fd)

    def drop(self, rel: str) -> None:
        """Forget (close) the descriptors of ``rel`` and the folders below it."""
        below = rel + "/"
        for key in [k for k in self._fds if k == rel or k.startswith(below)]:
            if key:
                os.close(self._fds.pop(key))

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
    """Record what a checkout is about to write (tracked, kind, oid, size, subpath;
    root, the absolute folder ``tracked`` is below, for a ``-o PATH`` destination)."""
    lines = [_HEADER] + [json.dumps(t, ensure_ascii=False, sort_keys=True) for t in targets]
    write_file_atomic(gitml_dir / JOURNAL, ("\n".join(lines) + "\n").encode("utf-8"))


def finish_journal(gitml_dir: Path) -> None:
    (gitml_dir / JOURNAL).unlink(missing_ok=True)


def read_journal(gitml_dir: Path) -> list[dict[str, object]] | None:
    """The records of a checkout journal left behind, None if there is none.

    Anything but what :func:`write_journal` writes (a damaged, truncated or
    foreign file) raises DamagedStateError naming it: recovery must know
    exactly which paths it may clean, so it never guesses.
    """
    path = gitml_dir / JOURNAL
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _damaged(path, exc.strerror or str(exc)) from None
    try:
        lines = raw.decode("utf-8").split("\n")
        if lines[-1] != "":  # written whole, ending in a newline
            raise ValueError("it is truncated")
        if lines[0] != _HEADER:  # an older gitml's: tracked paths (its temp files go)
            return [{"tracked": check_relpath(line, what="journaled path")} for line in lines[:-1]]
        records = [_record(json.loads(line)) for line in lines[1:-1]]
    except UnicodeDecodeError:
        raise _damaged(path, "not UTF-8") from None
    except (ValueError, GitmlError) as exc:
        raise _damaged(path, exc.message if isinstance(exc, GitmlError) else str(exc)) from None
    return records


def _record(rec: object) -> dict[str, object]:
    if not isinstance(rec, dict) or not isinstance(rec.get("tracked"), str):
        raise ValueError("a record without a tracked path")
    check_relpath(rec["tracked"], what="journaled path")
    if rec.get("kind") not in ("file", "dir") or not isinstance(rec.get("oid"), str):
        raise ValueError("a record without kind and oid")
    size, sub = rec.get("size"), rec.get("subpath", "")
    if not isinstance(size, int) or isinstance(size, bool) or not isinstance(sub, str):
        raise ValueError("a record with a bad size or subpath")
    if sub:
        check_relpath(sub, what="journaled subpath")
    root = rec.get("root")
    if root is not None and (not isinstance(root, str) or not os.path.isabs(root)):
        raise ValueError("a record whose root is not an absolute path")
    return rec


def _damaged(path: Path, why: str) -> DamagedStateError:
    return DamagedStateError(
        f"the checkout journal {path} is damaged ({why})",
        f"no checkout can be running now (gitml holds the lock): rm {path}, then gitml checkout",
    )


def recover(root: Path, gitml_dir: Path, store: ObjectStore) -> None:
    """Undo what a killed (or failed) checkout left half done (see the module docstring)."""
    records = read_journal(gitml_dir)
    if records is None:
        return
    by_root: dict[Path, list[dict[str, object]]] = {}
    for rec in records:  # "root": a checkout -o PATH wrote below that folder
        by_root.setdefault(Path(str(rec.get("root") or root)), []).append(rec)
    for where, recs in by_root.items():
        try:
            folders = Folders(where)
        except OSError:
            continue  # gone: nothing of it is left to clean
        try:
            for rec in recs:
                _clean_target(folders, str(rec["tracked"]), _expected_sizes(store, rec))
        finally:
            folders.close()
    (gitml_dir / JOURNAL).unlink(missing_ok=True)


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


def _clean_target(folders: Folders, tracked: str, sizes: dict[str, int]) -> None:
    """Temp files and unfinished files of one journaled path, reached through
    O_NOFOLLOW folder descriptors (a symlink on the way: nothing is touched)."""
    parent, _, name = tracked.rpartition("/")
    with contextlib.suppress(OSError, GitmlError):
        parent_fd = folders.existing_fd(parent)
        if parent_fd is None:
            return
        mine = (f".{name}.", ".gitml.")  # tmp_name's spellings for this name
        temps = [n for n in os.listdir(parent_fd) if TEMP_RE.match(n) and n.startswith(mine)]
        _clean_folder(parent_fd, {name: sizes.get("")} if "" in sizes else {}, temps)
        if not stat.S_ISDIR(_lstat_at(parent_fd, name).st_mode):
            return
        for dirpath, _dirs, files, dir_fd in os.fwalk(name, dir_fd=parent_fd):  # no symlinks
            rel = dirpath[len(name) + 1 :]
            _clean_folder(dir_fd, {n: sizes.get(f"{rel}/{n}" if rel else n) for n in files}, [])


def _lstat_at(dir_fd: int, name: str) -> os.stat_result:
    return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)


def _clean_folder(dir_fd: int, names: dict[str, int | None], temps: list[str]) -> None:
    """In one folder: remove ``temps``, temp files among ``names``, and the files
    of ``names`` that are unfinished."""
    for name in {*names, *temps}:
        with contextlib.suppress(OSError):
            if TEMP_RE.match(name) or _unfinished(_lstat_at(dir_fd, name), names.get(name)):
                os.unlink(name, dir_fd=dir_fd)
