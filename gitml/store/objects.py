"""The content-addressed object store (the cache).

Layout under ``root`` (``config.cache_dir``)::

    <oid[:2]>/<oid[2:]>   objects, read-only (0444, or fewer read bits: writer.object_mode),
                          named by the BLAKE3 of their bytes
    tmp/                  temp files of live batches (``<batch-id>.<n>``)
    journal/              one intent journal per live batch (see journal.py)
    quarantine/           objects whose bytes did not match their name (never deleted)
    chunked/<oid>         big files stored as chunks: the oid of their chunk list (chunks.py)

Writes happen only inside :meth:`ObjectStore.batch` (see batch.py for the
crash-safety design). Every read that hands bytes to someone (``read_bytes``,
``materialize`` in copy mode) re-hashes them, and a mismatch moves the object
aside instead of deleting it: a later ``pull`` can repair it, and nothing a
user might need is ever destroyed. Corruption means exactly that the bytes do
not hash to the name: an object whose size differs from what a pointer says
is good, and the pointer is wrong (``wrong_size``: SizeMismatchError, the
object stays). A quarantined copy whose bytes do match its name comes back
(``restore_quarantined``: checkout for what it needs, fsck for all).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from gitml.errors import (
    CorruptObjectError,
    GitmlError,
    InputError,
    ObjectMissingError,
    SizeMismatchError,
    UsageError,
)
from gitml.faults import fault_point
from gitml.store import chunkread, chunks, copyout, journal
from gitml.store.batch import Batch
from gitml.store.chunks import ChunkList
from gitml.store.durable import fsync_dir
from gitml.store.fsutil import LINK_MODES, layout_error, read_exact, unlink_quiet, write_error
from gitml.store.hashing import hash_bytes, hash_file, is_oid, new_hasher

__all__ = ["Batch", "ObjectStore"]

_HEX = "0123456789abcdef"
FANOUT = tuple(a + b for a in _HEX for b in _HEX)
_OPEN_OBJ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


class ObjectStore:
    """Objects on local disk, named by their BLAKE3; see the module docstring."""

    def __init__(self, root: Path, *, chunk_min_file: int = 0) -> None:
        self.root = Path(root)
        # files this big or bigger are stored as chunks (0: never); see chunks.py
        self.chunk_min_file = chunk_min_file
        self._root_str = os.fspath(self.root)
        self._fanout_ready = False
        self._recovered = False
        self._batches: list[Batch] = []
        self.reflink = copyout.ReflinkMemo()  # FICLONE refused once: copy from then on

    # -- naming -------------------------------------------------------------
    def object_path(self, oid: str) -> Path:
        """``root/<oid[:2]>/<oid[2:]>``; refuses anything that is not an oid."""
        return Path(self.path_of(oid))

    def path_of(self, oid: str) -> str:
        """``object_path`` as a str: pathlib costs more than the syscalls in hot loops."""
        if not is_oid(oid):
            raise UsageError(f"not an object id: {oid!r}")
        return f"{self._root_str}/{oid[:2]}/{oid[2:]}"

    def has(self, oid: str) -> bool:
        """True if the object exists (or was added by a batch still open in this
        process), whole or as chunks (an entry in ``chunked/``; chunks.py)."""
        for batch in self._batches:
            if batch.holds(oid):
                return True
        return os.path.exists(self.path_of(oid)) or chunks.has_entry(self._root_str, oid)

    def missing(self, oids: Iterable[str]) -> list[str]:
        """The oids of ``oids`` not present (see :meth:`has`), in order.

        Many oids in one fan-out folder cost one listing of that folder
        instead of a stat each: 100,000 stats were a second of a checkout.
        A folder is listed only if it holds at most ~16 entries per oid
        asked of it (its size in bytes tells roughly how many), so a small
        checkout from a huge cache still costs a stat per object.
        """
        oids = list(oids)
        wanted: dict[str, list[str]] = {}
        for oid in oids:
            if not is_oid(oid):
                raise UsageError(f"not an object id: {oid!r}")
            wanted.setdefault(oid[:2], []).append(oid)
        absent: set[str] = set()
        for prefix, group in wanted.items():
            folder = f"{self._root_str}/{prefix}"
            names = self._listing(folder, len(group))
            for oid in group:
                present = (
                    oid[2:] in names if names is not None else os.path.exists(f"{folder}/{oid[2:]}")
                )
                if not present and not any(b.holds(oid) for b in self._batches):
                    absent.add(oid)
            if absent and os.path.lexists(folder) and not os.path.isdir(folder):
                raise layout_error(folder)  # not "missing": say what is wrong
        if absent:  # big files stored as chunks have no object of their own
            absent = {oid for oid in absent if not chunks.has_entry(self._root_str, oid)}
        return [oid for oid in oids if oid in absent] if absent else []

    @staticmethod
    def _listing(folder: str, asked: int) -> set[str] | None:
        """The names in ``folder`` if listing it is cheaper than ``asked`` stats, else None."""
        try:
            size = os.stat(folder).st_size
        except FileNotFoundError:
            return set()
        if asked < 8 or size > asked * 16 * 80:  # ~80 bytes per entry on ext4
            return None
        try:
            return set(os.listdir(folder))
        except FileNotFoundError:
            return set()
        except NotADirectoryError:
            raise layout_error(folder) from None

    def iter_oids(self) -> Iterator[str]:
        """Every object name present (no verification)."""
        try:
            top = sorted(e.name for e in os.scandir(self.root) if e.name in _FANOUT_SET)
        except FileNotFoundError:
            return
        for prefix in top:  # a fan-out name that is no folder: layout_problems() names it
            with (
                contextlib.suppress(FileNotFoundError, NotADirectoryError),
                os.scandir(self.root / prefix) as it,
            ):
                for entry in it:
                    oid = prefix + entry.name
                    if is_oid(oid):
                        yield oid

    def layout_problems(self) -> list[str]:
        """What is wrong with the cache's own folders (fsck reports it): a
        fan-out name or ``tmp``/``journal``/``quarantine`` that is not a folder."""
        problems: list[str] = []
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return problems
        except NotADirectoryError:
            return [f"the cache {self.root} is not a folder"]
        for entry in sorted(entries, key=lambda e: e.name):
            own = entry.name in _FANOUT_SET or entry.name in _OWN_FOLDERS
            if own and not entry.is_dir(follow_symlinks=False):
                problems.append(f"{entry.path} is not a folder")
        return problems

    # -- writing ------------------------------------------------------------
    @contextlib.contextmanager
    def batch(self) -> Iterator[Batch]:
        """A group of writes made durable together (journal, one sync at exit)."""
        if not self._recovered:
            self.recover()
        batch = Batch(self)
        self._batches.append(batch)
        try:
            yield batch
        except BaseException:
            batch.abort()
            raise
        else:
            batch.commit()
        finally:
            self._batches.remove(batch)

    def ensure_layout(self) -> None:
        """Create the cache and its ``tmp/`` folder once (fsyncing their parents).

        The 256 fan-out folders are created by the writers when first needed
        (256 mkdirs cost a small add ~0.5 s on a busy disk).
        """
        if self._fanout_ready:
            return
        try:
            for path in (self.root, self.root / "tmp"):
                if not os.path.isdir(path):
                    os.makedirs(path, exist_ok=True)
                    fsync_dir(path.parent)
        except OSError as exc:
            raise write_error(f"the cache folder {self.root}", exc) from None
        self._fanout_ready = True

    def remove(self, oid: str) -> None:
        """Delete an object (gc); a missing object is not an error."""
        unlink_quiet(self.path_of(oid))

    def quarantine(self, oid: str) -> Path:
        """Move an object to ``root/quarantine/<oid>.<time_ns>.<random>``; never deletes it."""
        src = self.path_of(oid)
        qdir = self.root / "quarantine"
        try:
            os.makedirs(qdir, exist_ok=True)
        except FileExistsError:  # a file where the folder goes
            raise layout_error(qdir) from None
        # time + random: os.rename would silently replace an earlier quarantined copy
        dest = qdir / f"{oid}.{time.time_ns()}.{secrets.token_hex(3)}"
        try:
            os.rename(src, dest)
        except FileNotFoundError:
            raise ObjectMissingError(f"object {oid} is not in the cache {self.root}") from None
        return dest

    def restore_quarantined(self, oids: Iterable[str] | None = None) -> list[str]:
        """Move back from quarantine every object (of ``oids``; None = all) whose
        bytes DO match its name and that the cache lacks; return their oids.

        A good object lands in quarantine when something else was wrong (an
        older gitml took a wrong size for corruption) or when it was repaired
        in place; keeping it there would make every pointer naming it fail.
        The quarantined copy is linked back (never overwriting anything), made
        durable, then its quarantine name is removed. Copies that do not match
        stay in quarantine: nothing is ever deleted there.
        """
        qdir = self.root / "quarantine"
        try:
            names = sorted(os.listdir(qdir))
        except (FileNotFoundError, NotADirectoryError):
            return []
        wanted = None if oids is None else set(oids)
        restored: list[str] = []
        for name in names:
            oid = name.partition(".")[0]
            if not is_oid(oid) or (wanted is not None and oid not in wanted):
                continue
            if oid in restored or self.has(oid) or not self._restore_one(oid, qdir / name):
                continue
            restored.append(oid)
        return restored

    def _restore_one(self, oid: str, copy: Path) -> bool:
        """One quarantined copy back, if it is a read-only file of its own (a copy
        that is still a workspace file's inode, from hardlink mode, stays) whose
        bytes match ``oid``."""
        try:
            st = os.lstat(copy)
            if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
                return False
            os.chmod(copy, stat.S_IMODE(st.st_mode) & 0o444 | 0o400)  # before it is hashed
            if hash_file(copy)[0] != oid:
                return False
        except (InputError, OSError):
            return False
        dest = self.path_of(oid)
        try:
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            os.link(copy, dest)
        except FileExistsError:
            return False  # someone stored it meanwhile: theirs is as good
        except OSError as exc:
            raise write_error(f"object {oid} back into {self.root}", exc) from None
        fsync_dir(Path(dest).parent)
        unlink_quiet(copy)
        return True

    def recover(self) -> list[str]:
        """Re-verify the objects of batches that died; return the oids quarantined.

        Cheap (one listdir) when no batch died. Batches still running, in this
        or another process, are left alone.
        """
        self._recovered = True
        return journal.recover(self.root, self.verify, self.quarantine)

    # -- chunked objects (chunks.py, chunkread.py) ---------------------------
    def chunk_list(self, oid: str, what: str = "") -> ChunkList | None:
        """The verified chunk list of ``oid`` if it is stored as chunks only (no whole
        object: a whole object, from an older gitml or a link mode, always wins)."""
        if os.path.lexists(self.path_of(oid)):
            return None
        return chunkread.load_list(self, oid, what)

    def size_of(self, oid: str) -> int:
        """The object's logical size (a chunked file's whole size); ObjectMissingError."""
        try:
            return os.stat(self.path_of(oid)).st_size
        except FileNotFoundError:
            clist = self.chunk_list(oid)
            if clist is None:
                raise ObjectMissingError(f"object {oid} is not in the cache {self.root}") from None
            return clist.size

    def index_chunked(self, entries: dict[str, str]) -> None:
        """Record ``file oid -> chunk list oid`` for files whose list and chunks are
        already durable in this cache and verified (a pull of chunks: chunked.py in
        remotes). Each entry is written durably (chunks.write_entries)."""
        for file_oid, list_oid in entries.items():
            if not (is_oid(file_oid) and is_oid(list_oid)):
                raise UsageError(f"not an object id: {file_oid[:80]!r} / {list_oid[:80]!r}")
        fault_point("store.before-pulled-chunk-index")
        try:
            chunks.write_entries(self.root, entries)
        except OSError as exc:
            raise write_error(f"the chunk index in {self.root}", exc) from None

    def open_chunked(self, oid: str, what: str = "") -> chunkread.ChunkedReader | None:
        """A verified-per-chunk reader of a chunked object, None for a whole one."""
        clist = self.chunk_list(oid, what)
        return None if clist is None else chunkread.ChunkedReader(self, clist, what)

    # -- reading ------------------------------------------------------------
    def _open(self, oid: str) -> tuple[int, os.stat_result]:
        try:
            fd = os.open(self.path_of(oid), _OPEN_OBJ)
        except FileNotFoundError:
            raise ObjectMissingError(
                f"object {oid} is not in the cache {self.root}", "gitml pull, or add the data again"
            ) from None
        except NotADirectoryError:
            raise layout_error(self.root / oid[:2]) from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise CorruptObjectError(f"object {oid} is not a regular file")
        return fd, st

    def _corrupt(self, oid: str) -> CorruptObjectError:
        try:
            where = f"moved to {self.quarantine(oid)}"
        except ObjectMissingError:
            where = "already moved aside"
        return CorruptObjectError(
            f"object {oid} is corrupt: its bytes do not match its name ({where})",
            "gitml pull restores it from a remote; or add the original data again",
        )

    def wrong_size(self, oid: str, actual: int, expected: int) -> GitmlError:
        """The error for an object of ``actual`` bytes where ``expected`` were
        recorded: corruption only if its bytes do not match its name (then it is
        quarantined); else SizeMismatchError and the object stays, untouched."""
        if not self.verify(oid):
            return self._corrupt(oid)
        return SizeMismatchError(
            f"object {oid} has {actual} bytes, not the {expected} recorded for it",
            "the record (pointer or manifest) is wrong, the object is intact",
            actual=actual,
            expected=expected,
        )

    def read_bytes(self, oid: str) -> bytes:
        """The object's bytes, verified (corrupt → quarantine + CorruptObjectError)."""
        clist = self.chunk_list(oid)
        if clist is not None:
            data = b"".join(chunkread.iter_chunks(self, clist, ""))
            got = hash_bytes(data)
            if got != oid:
                raise chunkread.rebuild_error(clist, got, "")
            return data
        fd, st = self._open(oid)
        try:
            data = read_exact(fd, st.st_size)
        finally:
            os.close(fd)
        hasher = new_hasher(len(data))
        hasher.update(data)
        if hasher.hexdigest() != oid:
            raise self._corrupt(oid)
        return data

    def verify(self, oid: str) -> bool:
        """Re-hash the object; False if its bytes do not match (does not quarantine)."""
        path = self.path_of(oid)
        if not os.path.lexists(path):
            clist = chunkread.load_list(self, oid)
            if clist is None:
                raise ObjectMissingError(f"object {oid} is not in the cache {self.root}")
            try:
                chunkread.verify(self, clist)
            except CorruptObjectError:
                return False
            return True
        try:
            return hash_file(path)[0] == oid
        except InputError:  # not a regular file, or being modified: not a good object
            return False

    # -- materializing (the copying itself is in copyout.py) ---------------
    def materialize(
        self,
        oid: str,
        dest: Path,
        *,
        link: str,
        executable: bool = False,
        size: int | None = None,
    ) -> None:
        """Write the object to ``dest`` atomically (temp beside dest + rename).

        A symlink or hardlink already at ``dest`` is replaced, never written
        through. ``copy`` (and ``reflink``/``auto``) verify the bytes while
        copying: on mismatch the object is quarantined, ``dest`` is untouched
        and CorruptObjectError is raised. ``hardlink``/``symlink`` link to the
        read-only object after a check: its size against ``size`` when given
        (cheap), else a full re-hash. Hard links fall back to a copy across
        filesystems. For a name that does not exist yet, :meth:`create` is
        cheaper (no temp file, no rename).
        """
        copyout.materialize_path(self, oid, dest, self._link_mode(link), executable, size)

    def create(
        self,
        oid: str,
        dir_fd: int,
        name: str,
        *,
        link: str,
        executable: bool = False,
        size: int | None = None,
        display: str = "",
        replace: bool = False,
    ) -> os.stat_result | None:
        """Write the object as the new file ``name`` in the open folder ``dir_fd``.

        Returns the new file's lstat, or None if ``name`` exists (then nothing
        was touched: replace it with :meth:`materialize`). No temp file and no
        rename: ``O_CREAT|O_EXCL|O_NOFOLLOW`` straight to the name, which never
        follows or replaces anything. A copy is created with mode 000 and gets
        0644/0755 only once its bytes are verified, so a file left by a killed
        process is recognisable (mode 000, at most the object's size; see
        ``gitml.workspace.materialize``). Small objects are verified before
        the file is created at all. Same checks and errors as
        :meth:`materialize`; ``display`` names the file in them. With
        ``replace``, whatever is at ``name`` is replaced through a temp file
        and a rename, as :meth:`materialize` does.
        """
        link = self._link_mode(link)
        what = display or name
        return copyout.create_file(
            self, oid, dir_fd, name, link, executable, size, what, replace=replace
        )

    def _link_mode(self, link: str) -> str:
        if link not in LINK_MODES:
            raise UsageError(f"unknown link mode {link!r}", f"use one of {', '.join(LINK_MODES)}")
        if not self._recovered:
            self.recover()  # links trust a size check: first fix what a crash left
        return link

    def check_for_link(self, oid: str, size: int | None) -> None:
        """Before a workspace name becomes this object: its size when given and
        the object is read-only (cheap), else a full re-hash; CorruptObjectError."""
        fd, st = self._open(oid)
        os.close(fd)
        writable = st.st_mode & 0o222
        if size is not None and st.st_size != size:
            raise self.wrong_size(oid, st.st_size, size)
        if size is not None and not writable:
            return
        if not self.verify(oid):
            raise self._corrupt(oid)


_FANOUT_SET = frozenset(FANOUT)
_OWN_FOLDERS = frozenset({"tmp", "journal", "quarantine", chunks.INDEX_DIR})
