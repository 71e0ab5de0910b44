"""Chunk-level dedup for big files: content-defined chunks, chunk lists, the index.

A file at or above ``cache.chunk_min_file`` is stored as chunks (FastCDC,
``pyfastcdc``'s Cython cutter, 64 KiB average: see docs/PERFORMANCE.md) plus a
**chunk list**, a small canonical object::

    gitml-chunks 1 <file oid> <file size>\\n
    <chunk oid> <chunk size>\\n          one line per chunk, in file order

Its own oid is the BLAKE3 of those bytes; the file's oid stays the BLAKE3 of
the whole content, so pointers, manifests and notes do not change. The file
oid in the header binds the list to the file it rebuilds (an index entry
pointing at another file's list is caught before any byte is written), and
the whole-file hash is verified again on every read.

The index maps a file oid to its chunk list: ``<cache>/chunked/<file oid>``
holding the list's oid. It is written (temp, fsync, rename, folder fsync)
only after the batch holding the list and every chunk is durable, so an
entry never names something incomplete.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import blake3

from gitml.errors import CorruptObjectError
from gitml.store.durable import fsync_dir, tmp_name
from gitml.store.hashing import is_oid, new_hasher

if TYPE_CHECKING:
    from pyfastcdc import Chunk

# Measured (docs/PERFORMANCE.md): 256 KiB stores a 1 MiB edit as ~1.3 MiB (64 KiB: ~1.04)
# with a quarter of the chunk files, and loose chunk files are what an add pays for.
AVG_CHUNK = 256 << 10  # pyfastcdc's avg_size; real chunks average ~320 KiB (avg + min)
MIN_CHUNK = AVG_CHUNK // 4
# the measured threshold to opt in with (cache.chunk_min_file; its default 0 is off)
DEFAULT_MIN_FILE = 16 << 20
MIN_FILE_FLOOR = 1 << 20  # smaller settings are raised to this (chunking a tiny file saves nothing)
INDEX_DIR = "chunked"
HEADER = b"gitml-chunks 1 "
MAX_CHUNK = AVG_CHUNK * 4  # 1 MiB: a chunk is still a small object (store and remote packs)
_LINE = 64 + 1 + 1  # shortest chunk line: oid, space, one digit


@dataclass(frozen=True, slots=True)
class ChunkList:
    """The decoded chunk list of one file."""

    file_oid: str
    size: int
    chunks: tuple[tuple[str, int], ...]  # (chunk oid, chunk size), in file order

    def encode(self) -> bytes:
        lines = [HEADER + f"{self.file_oid} {self.size}\n".encode()]
        lines += [f"{oid} {n}\n".encode() for oid, n in self.chunks]
        return b"".join(lines)


def decode(data: bytes, *, source: str) -> ChunkList:
    """Parse a chunk list strictly; anything else is CorruptObjectError naming ``source``."""

    def bad(why: str) -> CorruptObjectError:
        return CorruptObjectError(
            f"chunk list {source} is damaged: {why}", "gitml fsck; gitml pull restores it"
        )

    if not data.startswith(HEADER) or not data.endswith(b"\n"):
        raise bad("no gitml-chunks 1 header")
    lines = data[len(HEADER) :].split(b"\n")[:-1]
    head = lines[0].split(b" ")
    if len(head) != 2 or not is_oid(head[0].decode("ascii", "replace")) or not head[1].isdigit():
        raise bad("bad header")
    file_oid, size = head[0].decode(), int(head[1])
    chunks: list[tuple[str, int]] = []
    total = 0
    for line in lines[1:]:
        parts = line.split(b" ")
        if len(parts) != 2 or not parts[1].isdigit() or len(parts[0]) != 64:
            raise bad("bad chunk line")
        oid, n = parts[0].decode("ascii", "replace"), int(parts[1])
        if not is_oid(oid) or n <= 0:
            raise bad("bad chunk line")
        chunks.append((oid, n))
        total += n
    if total != size:
        raise bad(f"its chunks add up to {total} bytes, not {size}")
    return ChunkList(file_oid, size, tuple(chunks))


def split(fd: int, size: int, on_chunk: Callable[[str, memoryview], None]) -> tuple[str, ChunkList]:
    """Cut the open file into chunks in one read of it: returns the whole-file oid
    and its chunk list, calling ``on_chunk(oid, bytes)`` per chunk (the bytes are
    valid only during the call).

    The cutting runs in Cython (pyfastcdc, reading into its own bounded buffer:
    memory stays at a few chunks, and a file truncated meanwhile is a short read,
    not a SIGBUS as with a memory map) and every hash in BLAKE3's C code; Python
    only sees one call per chunk. ``size`` is what the caller's stat said: the
    caller compares it with the list's total (a file that changed is refused).
    """
    from pyfastcdc import FastCDC

    with open(fd, "rb", buffering=0, closefd=False) as stream:
        return _cut(
            FastCDC(AVG_CHUNK, min_size=MIN_CHUNK, max_size=MAX_CHUNK).cut_stream(stream), on_chunk
        )


def split_bytes(data: bytes, on_chunk: Callable[[str, memoryview], None]) -> tuple[str, ChunkList]:
    """:func:`split` for bytes already in memory (a download small enough to be read whole)."""
    from pyfastcdc import FastCDC

    return _cut(FastCDC(AVG_CHUNK, min_size=MIN_CHUNK, max_size=MAX_CHUNK).cut_buf(data), on_chunk)


def _cut(
    pieces: Iterator[Chunk], on_chunk: Callable[[str, memoryview], None]
) -> tuple[str, ChunkList]:
    whole = new_hasher(0)
    chunks: list[tuple[str, int]] = []
    for piece in pieces:
        data = piece.data
        whole.update(data)
        oid = blake3.blake3(data).hexdigest()
        on_chunk(oid, data)
        chunks.append((oid, piece.length))
    file_oid = str(whole.hexdigest())
    return file_oid, ChunkList(file_oid, sum(n for _o, n in chunks), tuple(chunks))


# -- the index: file oid -> chunk list oid -----------------------------------
def entry_path(root: Path | str, file_oid: str) -> str:
    return f"{os.fspath(root)}/{INDEX_DIR}/{file_oid}"


def read_entry(root: Path | str, file_oid: str) -> str | None:
    """The chunk list oid recorded for ``file_oid``, or None (absent or unreadable)."""
    try:
        with open(entry_path(root, file_oid), "rb") as fh:
            text = fh.read(80).decode("ascii", "replace").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    return text if is_oid(text) else None


def has_entry(root: Path | str, file_oid: str) -> bool:
    return os.path.exists(entry_path(root, file_oid))


def write_entries(root: Path | str, entries: dict[str, str]) -> None:
    """Record ``file oid -> chunk list oid`` durably (each a temp + fsync + rename,
    then one fsync of the folder). Call only once the lists and chunks are durable."""
    if not entries:
        return
    folder = Path(root) / INDEX_DIR
    if not folder.is_dir():
        os.makedirs(folder, exist_ok=True)
        fsync_dir(folder.parent)
    for file_oid, list_oid in entries.items():
        final = Path(entry_path(root, file_oid))
        tmp = tmp_name(final)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        try:
            try:
                os.write(fd, f"{list_oid}\n".encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    fsync_dir(folder)


def iter_entries(root: Path | str) -> Iterator[tuple[str, str | None]]:
    """Every ``(file oid, chunk list oid or None if unreadable)`` in the index."""
    try:
        names = sorted(os.listdir(Path(root) / INDEX_DIR))
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in names:
        if is_oid(name):
            yield name, read_entry(root, name)


def remove_entry(root: Path | str, file_oid: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(entry_path(root, file_oid))
