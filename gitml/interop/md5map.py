"""What a DVC MD5 is as a gitml object: ``.gitml/interop/dvc-md5.sqlite``.

A row is written only after the object it names is durable in the cache and
its bytes were checked against the MD5, so a rerun (or a resumed, killed
import) reads no data it has imported before. The map is local state, like
the stat index: deleting it costs one re-read, never data. Keys carry the
hash flavour, because a 2.x md5-dos2unix value and a 3.x md5 value can be
equal for different bytes (``a\\r\\n`` vs ``a\\n``).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from gitml.errors import GitmlError

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS md5 (kind TEXT NOT NULL, md5 TEXT NOT NULL, oid TEXT NOT NULL,"
    " size INTEGER NOT NULL, PRIMARY KEY (kind, md5)) WITHOUT ROWID"
)


def kind_of(legacy: bool) -> str:
    return "md5-dos2unix" if legacy else "md5"


class Md5Map:
    """(flavour, md5) → (oid, size) of objects already imported."""

    def __init__(self, path: Path | None) -> None:
        """``path`` None: an empty map in memory (a dry run writes nothing)."""
        try:
            if path is not None:
                os.makedirs(path.parent, exist_ok=True)
            name = ":memory:" if path is None else os.fspath(path)
            self._db = sqlite3.connect(name, timeout=30.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise GitmlError(
                f"cannot open {path}: {exc}", f"delete {path}; the next import re-reads the data"
            ) from None

    def get(self, legacy: bool, md5: str) -> tuple[str, int] | None:
        row = self._db.execute(
            "SELECT oid, size FROM md5 WHERE kind = ? AND md5 = ?", (kind_of(legacy), md5)
        ).fetchone()
        return None if row is None else (str(row[0]), int(row[1]))

    def put_many(self, rows: Iterable[tuple[bool, str, str, int]]) -> None:
        """Record (legacy, md5, oid, size) rows in one transaction."""
        data = [(kind_of(legacy), md5, oid, size) for legacy, md5, oid, size in rows]
        if not data:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany("INSERT OR REPLACE INTO md5 VALUES (?, ?, ?, ?)", data)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()
