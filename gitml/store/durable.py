"""Crash-safe writes of small files.

Order for every durable file: write a temp file in the same folder, fsync it,
rename it over the final name, fsync the folder. A reader therefore sees the
old file or the new one, never a mix, and never a truncated file after a crash.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from gitml.faults import fault_point


def tmp_name(path: Path) -> Path:
    """A unique temp name beside ``path`` (same folder, so rename is atomic).

    Long names get a short stem: the temp name must fit in 255 bytes too.
    """
    stem = path.name if len(path.name.encode("utf-8")) <= 200 else "gitml"
    return path.with_name(f".{stem}.{secrets.token_hex(6)}.tmp")


def fsync_dir(path: Path) -> None:
    """fsync a directory so a rename inside it is durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_atomic(path: Path, data: bytes, *, mode: int = 0o644, sync: bool = True) -> None:
    """Atomically replace ``path`` with ``data`` (temp + fsync + rename + fsync dir)."""
    tmp = tmp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        fault_point("durable.before-rename")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync:
        fsync_dir(path.parent)
