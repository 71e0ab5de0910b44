"""The journaled write path of a batch: what makes 100,000 small objects fast and safe.

Measured here (docs field notes): a temp file + rename per object doubles the
metadata cost, and an fsync per object is far worse. So the writer keeps
pending objects (small ones in memory, big ones as temp files in
``tmp/<batch-id>.<n>``) and, every few thousand objects:

1. appends their oids to the batch's journal and fsyncs it (journal.py);
2. *then* writes the small ones straight to their final names with O_EXCL
   (an object that exists is kept: dedupe) and renames the temps into place;

and at the end makes everything durable at once before it removes the
journal: ONE ``syncfs`` of the cache's filesystem, or, for a batch of at most
``FSYNC_MAX`` objects (a few big files, a hardlink add), an fsync of each
object and its folder, which does not wait for unrelated writes. A crash at
any moment leaves every possibly incomplete object named by a journal, and
``ObjectStore.recover()`` re-hashes exactly those. Objects are created
read-only (0444, or only the read bits of the private file they came from:
``object_mode``); fan-out folders are created when first needed.

A batch of at most ``DIRECT_MAX`` small objects and nothing else (the
manifest written after an add's files) needs no journal: unnamed.py makes
each object durable before it gets its name.

Concurrent writers of the same object: O_EXCL makes one of them the writer;
the other sees the object, and if its size is not yet right (the first writer
is mid-write, or died) re-checks it at the end and replaces it if still bad.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from typing import TYPE_CHECKING

from gitml.errors import ObjectMissingError
from gitml.faults import fault_point
from gitml.store import unnamed
from gitml.store.bulk import fsync_path, syncfs
from gitml.store.fsutil import layout_error, unlink_quiet, write_all, write_error
from gitml.store.journal import Journal

if TYPE_CHECKING:
    from gitml.store.objects import ObjectStore

FLUSH_BYTES = 32 << 20  # pending small-object bytes before a journal group is written
FLUSH_COUNT = 8192  # pending objects before a journal group is written
FSYNC_MAX = 16  # up to this many objects: fsync each (and its folder) instead of syncfs
DIRECT_MAX = 4  # up to this many small objects and nothing else: no journal (O_TMPFILE)
CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
OBJECT_MODE = 0o444  # objects are read-only; readable by whom, see object_mode


def object_mode(src_mode: int) -> int:
    """The mode of an object stored from a file of ``src_mode``: read-only, with
    at most the file's own read bits (a 0600 file gives 0400, 0640 gives 0440,
    0644 and 0755 give 0444), and always readable by its owner. The cache never
    makes a private file's bytes readable by more people than the file was."""
    return OBJECT_MODE & (src_mode | 0o400)


class Writer:
    """Pending objects, the journal, and the end of a batch (base of ``Batch``)."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._root = os.fspath(store.root)
        self._id = f"{os.getpid()}-{secrets.token_hex(6)}"
        self._journal: Journal | None = None
        self._known: set[str] = set()
        self._small: dict[str, bytes] = {}
        self._temps: dict[str, tuple[str, int | None]] = {}  # oid -> (temp, mode to restore)
        self._pending_bytes = 0
        self._suspects: dict[str, bytes] = {}
        self._seq = 0
        self._wrote = False
        self._dirs_made = False  # a fan-out folder was created: the root needs an fsync
        self._modes: dict[str, int] = {}  # oid -> mode, for objects of private files
        self._chunked: dict[str, str] = {}  # file oid -> chunk list oid, indexed at commit

    def holds(self, oid: str) -> bool:
        """True if this batch stored (or will store) ``oid``."""
        return oid in self._known or oid in self._chunked

    def _new_temp(self) -> str:
        self._ensure_journal()
        self._seq += 1
        return f"{self._store.root}/tmp/{self._id}.{self._seq}"

    def _ensure_journal(self) -> None:
        if self._journal is None:
            self._store.ensure_layout()
            try:
                self._journal = Journal(self._store.root / "journal", self._id)
            except OSError as exc:
                raise write_error(f"the journal in {self._store.root}", exc) from None

    def _narrow(self, oid: str, mode: int) -> None:
        """The object ``oid`` comes (also) from a file of ``mode``: it keeps at
        most that file's read bits (see :func:`object_mode`), never more."""
        want = object_mode(mode)
        if want != OBJECT_MODE or oid in self._modes:
            self._modes[oid] = self._modes.get(oid, OBJECT_MODE) & want

    def _queue_small(self, oid: str, data: bytes, src_mode: int | None = None) -> None:
        if src_mode is not None:
            self._narrow(oid, src_mode)
        if oid in self._known:
            return
        self._known.add(oid)
        self._small[oid] = data
        self._pending_bytes += len(data)
        self._maybe_flush()

    def _queue_temp(
        self, oid: str, tmp: str, restore_mode: int | None, src_mode: int | None = None
    ) -> None:
        if src_mode is not None:
            self._narrow(oid, src_mode)
        if oid in self._known:  # same content seen earlier in this batch
            if restore_mode is not None:  # a user's file we hard-linked: give its mode back
                with contextlib.suppress(OSError):
                    os.chmod(tmp, restore_mode)
            unlink_quiet(tmp)
            return
        self._known.add(oid)
        self._temps[oid] = (tmp, restore_mode)
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        if self._pending_bytes >= FLUSH_BYTES or len(self._small) + len(self._temps) >= FLUSH_COUNT:
            self._flush()

    def _flush(self) -> None:
        """Journal the pending oids (fsync), then give the objects their final names."""
        if not self._small and not self._temps:
            return
        self._ensure_journal()
        assert self._journal is not None
        try:
            self._journal.append([*self._small, *self._temps])
        except OSError as exc:
            raise write_error(f"the journal in {self._store.root}", exc) from None
        fault_point("store.after-journal")
        self._wrote = True
        small, self._small = self._small, {}
        self._pending_bytes = 0
        for oid, data in small.items():
            self._write_small(oid, data)
            fault_point("store.mid-batch")
        for oid, (tmp, _mode) in list(self._temps.items()):
            self._install(oid, tmp)
            del self._temps[oid]
            fault_point("store.mid-batch")

    def _write_small(self, oid: str, data: bytes) -> None:
        path = f"{self._root}/{oid[:2]}/{oid[2:]}"  # oid: a hash we computed
        for _ in range(3):
            try:
                fd = os.open(path, CREATE, self._modes.get(oid, OBJECT_MODE))
            except FileExistsError:
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue  # quarantined meanwhile: write it
                if st.st_size != len(data) or st.st_mode & 0o222:
                    self._suspects[oid] = data  # being written by another batch, or damaged
                return
            except FileNotFoundError:
                self._make_dir(os.path.dirname(path))  # first object of its fan-out folder
                continue
            except NotADirectoryError:
                raise layout_error(os.path.dirname(path)) from None
            except OSError as exc:
                raise write_error(f"object {oid} into {self._store.root}", exc) from None
            try:
                write_all(fd, data)
            except OSError as exc:
                os.close(fd)
                unlink_quiet(path)
                raise write_error(f"object {oid} into {self._store.root}", exc) from None
            os.close(fd)
            return

    def _install(self, oid: str, tmp: str) -> None:
        # os.replace: an existing object has the same bytes, or is damaged and
        # is best replaced by bytes we have just hashed.
        path = self._store.path_of(oid)
        try:
            try:
                os.replace(tmp, path)
            except FileNotFoundError:
                self._make_dir(os.path.dirname(path))
                os.replace(tmp, path)
        except NotADirectoryError:
            raise layout_error(os.path.dirname(path)) from None
        except OSError as exc:
            raise write_error(f"object {oid} into {self._store.root}", exc) from None

    def _make_dir(self, path: str) -> None:
        try:
            os.makedirs(path, exist_ok=True)
        except (FileExistsError, NotADirectoryError):  # a file where the folder goes
            raise layout_error(path) from None
        except OSError as exc:
            raise write_error(f"the cache folder {path}", exc) from None
        self._dirs_made = True

    def _fix_suspects(self) -> None:
        """Objects that existed with a wrong size when we wanted to write them.

        By now a concurrent writer has finished; if the object is still wrong
        its writer died (or it was damaged): move it aside, write ours.
        """
        suspects, self._suspects = self._suspects, {}
        for oid, data in suspects.items():
            try:
                if self._store.verify(oid):
                    continue
                self._store.quarantine(oid)
            except ObjectMissingError:
                pass
            self._write_small(oid, data)
        self._suspects.clear()  # re-suspected now means another live writer: it is theirs

    def _apply_modes(self) -> None:
        """Narrow objects that already existed (or were written by another
        batch) to the read bits of the private files they were added from."""
        for oid, mode in self._modes.items():
            path = f"{self._root}/{oid[:2]}/{oid[2:]}"
            try:
                current = stat.S_IMODE(os.lstat(path).st_mode)
                if current & 0o444 & ~mode:
                    os.chmod(path, current & ~(0o444 & ~mode))
            except FileNotFoundError:
                continue
            except OSError as exc:  # another user's object in a shared cache
                raise write_error(f"the mode of object {oid} in {self._root}", exc) from None

    # -- end of batch -------------------------------------------------------
    def commit(self) -> None:
        """Write what is pending, make the batch durable, drop the journal."""
        tiny = self._journal is None and not self._temps and len(self._small) <= DIRECT_MAX
        if tiny and (not self._small or self._commit_direct()):
            self._apply_modes()
            self._index_chunked()
            return
        try:
            self._flush()
            self._fix_suspects()
            self._apply_modes()
        except BaseException:
            self.abort()
            raise
        if self._journal is None:
            return
        fault_point("store.before-sync")
        try:
            self._make_durable()
        except BaseException:
            self._journal.release()  # kept: recover() re-checks its objects
            self._journal = None
            raise
        self._index_chunked()  # the lists and chunks are durable: now they may be named
        self._journal.remove()
        self._journal = None

    def _index_chunked(self) -> None:
        from gitml.store.chunks import write_entries

        fault_point("store.before-chunk-index")
        try:
            write_entries(self._root, self._chunked)
        except OSError as exc:
            raise write_error(f"the chunk index in {self._root}", exc) from None
        self._chunked.clear()

    def _make_durable(self) -> None:
        if len(self._known) > FSYNC_MAX:
            syncfs(self._root)
            return
        folders: set[str] = set()
        for oid in self._known:
            path = f"{self._root}/{oid[:2]}/{oid[2:]}"
            try:
                fsync_path(path)
            except FileNotFoundError:  # quarantined meanwhile by another process
                pass
            folders.add(os.path.dirname(path))
        for folder in sorted(folders):
            with contextlib.suppress(FileNotFoundError):
                fsync_path(folder, directory=True)
        if self._dirs_made:
            fsync_path(self._root, directory=True)

    def _commit_direct(self) -> bool:
        """The few pending small objects, each durable before it is named (unnamed.py).

        False (the rest left pending) where the filesystem cannot do that.
        """
        if not unnamed.SUPPORTED:
            return False
        self._store.ensure_layout()
        for oid, data in list(self._small.items()):
            if not unnamed.put(self._store, oid, data, self._modes.get(oid, OBJECT_MODE)):
                return False
            del self._small[oid]
            self._pending_bytes -= len(data)
        return True

    def abort(self) -> None:
        """Drop what is pending; objects already written are made durable first."""
        for tmp, mode in self._temps.values():
            if mode is not None:  # a user's file we hard-linked: give its mode back
                with contextlib.suppress(OSError):
                    os.chmod(tmp, mode)
            unlink_quiet(tmp)
        self._temps.clear()
        self._small.clear()
        self._chunked.clear()
        if self._journal is not None:
            if self._wrote:
                syncfs(self._root)
            self._journal.remove()
            self._journal = None
