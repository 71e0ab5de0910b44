"""A batch of writes into the object store: how inputs are read.

A small file (< 1 MiB) is read into memory with one ``read`` and hashed; a
big one is copied into a temp file by the kernel while the copy's pages are
hashed (bulk.py), or cloned there (reflink), or, in hardlink mode, the
user's file itself is linked into the cache and made read-only. Every input
is opened without following symlinks or blocking on FIFOs, and its stat
before (the caller's fresh ``lstat``, or ours) and its ``fstat`` after
reading must agree: a file that changed while it was read raises InputError
and nothing of it is stored. How the objects are then written (journal, one
sync) is writer.py's job.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import blake3

from gitml.errors import ConfigError, CorruptObjectError, InputError, UsageError
from gitml.faults import fault_point
from gitml.store import chunks
from gitml.store.bulk import copy_pipelined
from gitml.store.fsutil import (
    LINK_FALLBACK,
    LINK_MODES,
    StatLike,
    changed_error,
    copy_hashing,
    open_input,
    read_exact,
    replace_with_link,
    stat_key,
    try_reflink,
    unlink_quiet,
    write_all,
    write_error,
)
from gitml.store.hashing import MMAP_THRESHOLD, hash_bytes, is_oid, new_hasher
from gitml.store.writer import OBJECT_MODE, Writer, object_mode

if TYPE_CHECKING:
    from gitml.store.objects import ObjectStore

SMALL = 1 << 20  # below this a file is read into memory and written to its final name
CREATE_RW = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class Batch(Writer):
    """Writes into an :class:`ObjectStore`; obtained from ``ObjectStore.batch()``.

    Objects added are visible through ``store.has`` at once and readable from
    disk once the batch has exited (the durable point).
    """

    def __init__(self, store: ObjectStore) -> None:
        super().__init__(store)
        self._reflink_ok = True
        self._cache_dev: int | None = None

    def add_file(
        self,
        src: Path | str,
        *,
        link: str = "copy",
        expected_oid: str | None = None,
        st: StatLike | None = None,
    ) -> tuple[str, int]:
        """Store the regular file ``src``; return ``(oid, size)``.

        ``link``: ``copy``/``symlink`` copy the bytes; ``auto``/``reflink``
        clone big files when the filesystem can (``reflink`` fails if it
        cannot); ``hardlink`` links ``src`` itself into the cache and makes it
        read-only (its read bits only, see ``writer.object_mode``), falling back to
        a copy across filesystems and for a file with other hard links (whose
        mode gitml must not change).
        ``st``: the caller's fresh ``lstat`` of ``src`` (from its directory
        walk), saving one; the file must still match it after it was read.
        """
        if link not in LINK_MODES:
            raise UsageError(f"unknown link mode {link!r}", f"use one of {', '.join(LINK_MODES)}")
        src = os.fspath(src)  # str: cheaper than Path in every syscall below
        fd, st = open_input(src, st)
        try:
            if link == "hardlink":
                done = self._add_hardlink(src, fd, st, expected_oid)
                if done is not None:
                    return done
                os.lseek(fd, 0, os.SEEK_SET)
                link = "copy"
            if self._chunk_it(st.st_size, link):
                return self._add_chunked(src, fd, st, expected_oid)
            if st.st_size < SMALL and link != "reflink":
                data = read_exact(fd, st.st_size)
                _check_unchanged(src, fd, st, len(data))
                oid = hash_bytes(data)
                _check_expected(src, oid, expected_oid)
                self._queue_small(oid, data, st.st_mode)
                return oid, len(data)
            return self._add_streamed(src, fd, st, link, expected_oid)
        finally:
            os.close(fd)

    def add_bytes(
        self, data: bytes, *, expected_oid: str | None = None, whole: bool = False
    ) -> str:
        """Store ``data``; with ``expected_oid``, wrong bytes raise and store nothing.
        ``whole``: never store it as chunks (it is a chunk, pulled from a remote)."""
        oid = hash_bytes(data)
        if expected_oid is not None and oid != expected_oid:
            raise CorruptObjectError(
                f"bytes given for object {expected_oid} hash to {oid}; nothing stored"
            )
        # A verified download (expected_oid) of a big file is stored as chunks too;
        # what gitml itself writes (manifests, chunk lists) always stays whole.
        if expected_oid is not None and not whole and self._chunk_it(len(data), "copy"):
            self._chunked[oid] = self.add_bytes(
                chunks.split_bytes(data, self._chunk_keeper(0o444))[1].encode()
            )
            return oid
        self._queue_small(oid, bytes(data))
        return oid

    def add_stream(
        self, chunks: Iterable[bytes], *, expected_oid: str, whole: bool = False
    ) -> None:
        """Store a stream (e.g. a download) that must hash to ``expected_oid``.

        The bytes go to a temp file and get the final name only once verified;
        wrong bytes raise CorruptObjectError and nothing is stored. ``whole``:
        never store it as chunks.
        """
        if not is_oid(expected_oid):
            raise UsageError(f"not an object id: {expected_oid!r}")
        tmp = self._new_temp()
        what = f"object {expected_oid} into {self._store.root}"
        try:
            hasher = blake3.blake3()
            fd = _create(tmp, what)
            try:
                for chunk in chunks:  # errors of the stream itself propagate as they are
                    hasher.update(chunk)
                    try:
                        write_all(fd, chunk)
                    except OSError as exc:
                        raise write_error(what, exc) from None
            finally:
                os.close(fd)
            oid = hasher.hexdigest()
            if oid != expected_oid:
                raise CorruptObjectError(
                    f"received bytes for object {expected_oid} hash to {oid}; nothing stored",
                    "the remote copy may be corrupt: check it with gitml fsck --cloud",
                )
        except BaseException:
            unlink_quiet(tmp)
            raise
        if not whole and self._chunk_it(os.stat(tmp).st_size, "copy"):
            self._chunk_temp(tmp, expected_oid)  # a pulled big file is stored as chunks too
            return
        self._queue_temp(expected_oid, tmp, None)

    def _chunk_temp(self, tmp: str, oid: str) -> None:
        """Store the verified temp file ``tmp`` as chunks, then drop it."""
        try:
            fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                self._add_chunked(tmp, fd, os.fstat(fd), oid)
            finally:
                os.close(fd)
        finally:
            unlink_quiet(tmp)

    # -- ingest paths -------------------------------------------------------
    def _chunk_it(self, size: int, link: str) -> bool:
        """Big files in copy modes become chunks (chunks.py). ``reflink`` keeps whole
        objects (a clone shares the blocks already); hardlink/symlink workspaces are
        the cache objects themselves, so those modes need them whole."""
        threshold = self._store.chunk_min_file
        return bool(threshold) and size >= threshold and link in ("copy", "auto")

    def _chunk_keeper(self, src_mode: int) -> Callable[[str, memoryview], None]:
        def keep(oid: str, data: memoryview) -> None:
            # Every chunk goes the small-object way, also one the cache has: the
            # writer then checks an existing one (another batch may be writing it,
            # or have died mid-write) as it does for any object. A copy: ``data``
            # is pyfastcdc's buffer.
            self._queue_small(oid, bytes(data), src_mode)
            fault_point("store.chunk-queued")

        return keep

    def _add_chunked(
        self, src: str, fd: int, st: StatLike, expected: str | None
    ) -> tuple[str, int]:
        """Cut ``src`` into chunks, hashing the whole file and each chunk in the
        same pass; queue the chunks and the chunk list. The index
        entry (file oid -> list) is written at commit, once all of it is durable."""
        try:
            oid, clist = chunks.split(fd, st.st_size, self._chunk_keeper(st.st_mode))
        except OSError as exc:
            raise InputError(f"cannot read {src}: {exc.strerror}") from None
        _check_unchanged(src, fd, st, clist.size)
        _check_expected(src, oid, expected)
        listed = self.add_bytes(clist.encode())
        self._chunked[oid] = listed
        return oid, clist.size

    def _check_name_unchanged(self, src: str, st: StatLike, nbytes: int) -> None:
        """``src`` (the name, not only the open file) is still the file ``st``
        describes: before the name itself is replaced by a link."""
        try:
            after = os.lstat(src)
        except OSError:
            raise changed_error(src) from None
        if nbytes != st.st_size or stat_key(after) != stat_key(st):
            raise changed_error(src)

    def _add_streamed(
        self, src: str, fd: int, st: StatLike, link: str, expected: str | None
    ) -> tuple[str, int]:
        """Big files (and strict reflink): into a temp, hashing what was written."""
        tmp = self._new_temp()
        what = f"{src} into the cache {self._store.root}"
        try:
            hasher = new_hasher(st.st_size)
            out = _create(tmp, what, object_mode(st.st_mode))
            try:
                if self._clone(src, fd, out, st, link):
                    hasher.update_mmap(f"/proc/self/fd/{out}")
                    size = os.fstat(out).st_size
                elif st.st_size >= MMAP_THRESHOLD:
                    size = copy_pipelined(fd, out, hasher, src, what, st.st_size + 1)
                else:
                    size = copy_hashing(fd, out, hasher, src, what, st.st_size + 1)
            finally:
                os.close(out)
            _check_unchanged(src, fd, st, size)
            oid = str(hasher.hexdigest())
            _check_expected(src, oid, expected)
        except BaseException:
            unlink_quiet(tmp)
            raise
        self._queue_temp(oid, tmp, None, st.st_mode)
        return oid, size

    def _clone(self, src: str, fd: int, out: int, st: StatLike, link: str) -> bool:
        if link not in ("auto", "reflink") or not st.st_size:
            return False
        if self._reflink_ok and try_reflink(fd, out):
            return True
        self._reflink_ok = False
        if link == "reflink":
            raise ConfigError(
                f"cannot reflink {src} into {self._store.root}: the filesystem does not support it",
                "gitml config set --local cache.link auto",
            )
        return False

    def _add_hardlink(
        self, src: str, fd: int, st: StatLike, expected: str | None
    ) -> tuple[str, int] | None:
        """Hash ``src``, then make it (the same inode) the cache object; None = copy instead.

        Only an inode that lives nowhere but here is linked: one with other
        names (``st_nlink > 1``: a hard link outside the repository, say) is
        copied, so gitml never changes the mode of a file outside the cache,
        and that file's later edits cannot reach the cache object.
        """
        if self._cache_dev is None:
            self._store.ensure_layout()
            self._cache_dev = os.stat(self._store.root).st_dev
        if st.st_dev != self._cache_dev or os.fstat(fd).st_nlink != 1:
            return None
        data: bytes | None = None
        if st.st_size < SMALL:
            data = read_exact(fd, st.st_size)
            size = len(data)
            oid = hash_bytes(data)
        else:
            hasher = new_hasher(st.st_size)
            hasher.update_mmap(f"/proc/self/fd/{fd}")  # a change shows in the fstat below
            size = st.st_size
            oid = str(hasher.hexdigest())
        _check_unchanged(src, fd, st, size)
        _check_expected(src, oid, expected)
        existing = self._link_target(oid, size)
        if existing is not None:
            # Keep the object we have; the workspace file becomes a link to it
            # (narrowed to this file's read bits at commit, see _narrow).
            self._narrow(oid, st.st_mode)
            self._check_name_unchanged(src, st, size)
            try:
                replace_with_link(existing, Path(src))
            except OSError as exc:
                if exc.errno not in LINK_FALLBACK:
                    raise write_error(src, exc) from None
            return oid, size
        tmp = self._new_temp()
        try:
            os.link(src, tmp)
        except OSError as exc:
            if exc.errno in LINK_FALLBACK:
                if data is None:
                    return None
                self._queue_small(oid, data, st.st_mode)
                return oid, size
            raise write_error(f"{src} into the cache {self._store.root}", exc) from None
        try:
            linked = os.lstat(tmp)
            if stat_key(linked) != stat_key(st):
                raise changed_error(src)
            if linked.st_nlink != 2:  # someone else linked it meanwhile: copy instead
                unlink_quiet(tmp)
                return None
            os.chmod(tmp, object_mode(st.st_mode))  # this inode lives only here and in the cache
        except BaseException:
            unlink_quiet(tmp)
            raise
        self._queue_temp(oid, tmp, st.st_mode & 0o7777, st.st_mode)
        return oid, size

    def _link_target(self, oid: str, size: int) -> str | None:
        """A path holding object ``oid`` already (pending temp or final object)."""
        if oid in self._temps:
            return self._temps[oid][0]
        if oid in self._small:
            self._flush()
        path = self._store.path_of(oid)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        if st.st_size != size or st.st_mode & 0o222:
            return None  # damaged: our new copy will replace it
        return path

    # -- queueing and flushing ----------------------------------------------


def _check_unchanged(src: str, fd: int, st: StatLike, nbytes: int) -> None:
    """The open file still is what ``st`` described, after ``nbytes`` were read."""
    if nbytes != st.st_size or stat_key(os.fstat(fd)) != stat_key(st):
        raise changed_error(src)


def _create(path: str, what: str, mode: int = OBJECT_MODE) -> int:
    try:  # read-write: bulk.copy_pipelined hashes the copy back from it
        return os.open(path, CREATE_RW, mode)
    except OSError as exc:
        raise write_error(what, exc) from None


def _check_expected(src: str, oid: str, expected: str | None) -> None:
    if expected is not None and oid != expected:
        raise InputError(
            f"{src} does not have the expected content (object {expected}, found {oid})",
            "nothing was stored",
        )
