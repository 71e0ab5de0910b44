"""The stat index: skip re-hashing files whose stat has not changed.

A SQLite database (``.gitml/index``) with two tables:

* ``stat``: path → (inode, size, mtime_ns, ctime_ns, mode, oid, recorded_ns).
  A file whose inode, size, mtime and ctime match its row is assumed to still
  hash to the row's oid; this is what makes ``status`` on 100,000 files a walk
  instead of a re-hash. ctime is git's rule too: nobody can set it, so a
  same-size in-place edit whose mtime was put back (``touch -r``, ``rsync
  --inplace -t``) still shows, and so does a ``chmod`` (the row's mode says
  what the exec bit was). The racy-git rule guards the one hole: a file
  modified within the timestamp granularity of the moment its row was
  recorded may keep the same mtime, so a row is trusted only if the file's
  mtime is more than 1 s older than the time the row was recorded.
* ``state``: tracked path → (oid, pointer): the tree gitml last added or
  materialised there (what the workspace holds "clean"; NULL when a partial
  checkout left a tree no pointer names) and the oid of the pointer it was
  synced with. They tell user edits from our own writes, and a workspace left
  behind by a pointer that moved without its data (``git checkout`` whose
  data could not be fetched) from one deliberately set to another version
  (``gitml checkout data@HEAD~1``).

WAL mode with ``synchronous=NORMAL``: readers never block the writer, a crash
loses at most the last transactions (the index is a cache plus a hint; losing
rows costs a re-hash, never data). Writes take ``BEGIN IMMEDIATE`` and a
30 s busy timeout, so two processes serialise instead of corrupting it.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gitml.errors import GitmlError, IndexReadOnlyError

RACY_NS = 1_000_000_000
UNKNOWN_MODE = -1  # rows recorded before modes were (schema 1): exec bit unknown
_IN_CHUNK = 500  # paths per "IN (...)" query, well under SQLite's variable limit
# (relpath, ino, size, mtime_ns, recorded_ns, ctime_ns): a row as SQLite returns
# it (slicing off the path would cost a tuple per row).
RowTuple = tuple[str, int, int, int, int, int]
BUSY_TIMEOUT_S = 30.0
SCHEMA_VERSION = 2
_COLUMNS = "path, ino, size, mtime_ns, ctime_ns, mode, oid, recorded_ns"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS stat (path TEXT PRIMARY KEY, ino INTEGER NOT NULL,"
    " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, oid TEXT NOT NULL,"
    " recorded_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL DEFAULT 0,"
    " mode INTEGER NOT NULL DEFAULT -1) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS state (path TEXT PRIMARY KEY, oid TEXT, pointer TEXT)"
    " WITHOUT ROWID",
)
# Schema 1 → 2: rows without ctime (0 never matches: each file is re-hashed once
# and its row refreshed) and without mode; a state's pointer was its oid.
_MIGRATE_1 = (
    "ALTER TABLE stat ADD COLUMN ctime_ns INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE stat ADD COLUMN mode INTEGER NOT NULL DEFAULT -1",
    "ALTER TABLE state ADD COLUMN pointer TEXT",
    "UPDATE state SET pointer = oid",
)


@dataclass(frozen=True, slots=True)
class StatRow:
    """The stat of a file when it was hashed to ``oid``.

    ``recorded_ns`` defaults to the moment the row object is made: build the
    row right after the ``lstat`` it copies (not later), so the racy-git rule
    compares against the time the stat was taken.
    """

    path: str
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int
    mode: int  # st_mode, or UNKNOWN_MODE
    oid: str
    recorded_ns: int = field(default_factory=time.time_ns)

    @classmethod
    def of(cls, path: str, st: os.stat_result, oid: str, recorded_ns: int | None = None) -> StatRow:
        """The row of a file whose ``lstat`` is ``st`` and whose bytes hash to ``oid``."""
        when = time.time_ns() if recorded_ns is None else recorded_ns
        return cls(
            path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode, oid, when
        )

    @property
    def executable(self) -> bool | None:
        """The exec bit when the row was recorded (None: not known)."""
        return None if self.mode == UNKNOWN_MODE else bool(self.mode & 0o111)


@dataclass(frozen=True, slots=True)
class State:
    """What gitml last put at a tracked path: the tree (None when a partial
    checkout left one no pointer names) and the pointer it was synced with."""

    oid: str | None
    pointer: str


def _where(prefix: str) -> tuple[str, tuple[str, ...]]:
    """SQL condition (and its parameters) for ``prefix`` itself and ``prefix/...``.

    SQLite compares TEXT with memcmp on UTF-8, i.e. the same byte order as the
    rest of gitml; '0' is the character right after '/'. Both halves use the
    primary key (a "MULTI-INDEX OR" plan), never a table scan.
    """
    exact = prefix.rstrip("/")
    if not exact:
        return "1", ()
    return "path = ? OR (path >= ? AND path < ?)", (exact, exact + "/", exact + "0")


class StatIndex:
    """See the module docstring. Not thread-safe; one per process is enough."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(
                os.fspath(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise GitmlError(
                    f"the stat index {self.path} was written by a newer gitml",
                    f"upgrade gitml, or delete {self.path} (files are re-hashed once)",
                )
            if version != SCHEMA_VERSION:
                with self._write():
                    for statement in _MIGRATE_1 if version == 1 else _SCHEMA:
                        self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise _error(self.path, exc) from None

    def _write(self) -> _Txn:
        return _Txn(self._db, self.path)

    def check_writable(self) -> None:
        """Raise IndexReadOnlyError now if the index cannot be written, before a
        command changes anything it would then fail to record (one tiny write)."""
        with self._write():
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def lookup_prefix(self, prefix: str) -> dict[str, StatRow]:
        """Rows for ``prefix`` itself and everything under ``prefix/`` ("" = all)."""
        where, params = _where(prefix)
        sql = f"SELECT {_COLUMNS} FROM stat WHERE {where}"
        try:
            rows = self._db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise _error(self.path, exc) from None
        return {r[0]: StatRow(*r) for r in rows}

    def rows_of(self, paths: Iterable[str]) -> dict[str, StatRow]:
        """The rows of exactly these paths (those that have one), a few hundred
        paths per query instead of one query each."""
        wanted = list(paths)
        out: dict[str, StatRow] = {}
        sql = f"SELECT {_COLUMNS} FROM stat WHERE path IN ({{}})"
        try:
            for i in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[i : i + _IN_CHUNK]
                for r in self._db.execute(sql.format(",".join("?" * len(chunk))), chunk):
                    out[r[0]] = StatRow(*r)
        except sqlite3.DatabaseError as exc:
            raise _error(self.path, exc) from None
        return out

    def rows_under(self, tracked: str) -> dict[str, RowTuple]:
        """Stat rows of ``tracked`` and everything under it, keyed by the path
        relative to ``tracked`` ("" for the tracked path itself), as the plain
        tuples SQLite returns, without the oids (see :meth:`oids_under`): the scan
        of a 100,000-file folder compares them in a tight loop, and a dataclass
        or an oid string per row cost more than the whole walk's comparison."""
        columns = "ino, size, mtime_ns, recorded_ns, ctime_ns"
        return {r[0]: r for r in self._under(tracked, columns)}

    def oids_under(self, tracked: str) -> dict[str, str]:
        """The recorded oids of ``tracked`` and everything under it, keyed as
        :meth:`rows_under` keys them."""
        return dict(self._under(tracked, "oid"))

    def _under(self, tracked: str, columns: str) -> sqlite3.Cursor:
        where, params = _where(tracked)
        start = len(tracked.rstrip("/")) + 2 if tracked.strip("/") else 1
        sql = f"SELECT substr(path, ?), {columns} FROM stat WHERE {where}"
        try:
            return self._db.execute(sql, (start, *params))
        except sqlite3.DatabaseError as exc:
            raise _error(self.path, exc) from None

    @staticmethod
    def fresh_oid(path: str, st: os.stat_result, row: StatRow | None) -> str | None:
        """The row's oid if the file is unchanged and not racily clean, else None."""
        if row is None:
            return None
        mtime = st.st_mtime_ns
        if st.st_ino != row.ino or st.st_size != row.size or mtime != row.mtime_ns:
            return None
        if st.st_ctime_ns != row.ctime_ns:
            return None  # changed with its mtime put back, or chmod-ed
        if mtime >= row.recorded_ns - RACY_NS:
            return None  # modified too close to when it was recorded: re-hash
        return row.oid

    def put_many(self, rows: Iterable[StatRow]) -> None:
        """Insert or replace rows (one transaction)."""
        rows = iter(rows)
        first = next(rows, None)
        if first is None:
            return
        # A generator, not a list: 100,000 eight-tuples would be ~25 MB at add's peak.
        data = (
            (r.path, r.ino, r.size, r.mtime_ns, r.ctime_ns, r.mode, r.oid, r.recorded_ns)
            for r in itertools.chain((first,), rows)
        )
        with self._write():
            self._db.executemany(
                f"INSERT OR REPLACE INTO stat ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", data
            )

    def drop_prefix(self, prefix: str) -> None:
        """Forget ``prefix`` and everything under it ("" = everything)."""
        where, params = _where(prefix)
        with self._write():
            self._db.execute(f"DELETE FROM stat WHERE {where}", params)

    def drop_paths(self, paths: Iterable[str]) -> None:
        """Forget exactly these paths (one transaction)."""
        data = [(p,) for p in paths]
        if not data:
            return
        with self._write():
            self._db.executemany("DELETE FROM stat WHERE path = ?", data)

    def state(self, tracked_path: str) -> State | None:
        """What gitml last added or materialised at ``tracked_path``, if anything."""
        try:
            row = self._db.execute(
                "SELECT oid, pointer FROM state WHERE path = ?", (tracked_path,)
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise _error(self.path, exc) from None
        if row is None:
            return None
        oid = None if row[0] is None else str(row[0])
        return State(oid, str(row[1] if row[1] is not None else row[0]))

    def get_state(self, tracked_path: str) -> str | None:
        """The oid of the tree gitml last added or materialised at
        ``tracked_path`` (None: none, or a partial checkout left another)."""
        state = self.state(tracked_path)
        return None if state is None else state.oid

    def set_state(self, tracked_path: str, oid: str | None, pointer: str | None = None) -> None:
        """Record that ``tracked_path`` holds the tree ``oid`` and was synced with
        the pointer naming ``pointer`` (default: ``oid``); with both None, forget it.
        ``oid`` None and a ``pointer``: synced with it, but holding a tree no
        pointer names (a checkout of some files only)."""
        with self._write():
            if oid is None and pointer is None:
                self._db.execute("DELETE FROM state WHERE path = ?", (tracked_path,))
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO state (path, oid, pointer) VALUES (?, ?, ?)",
                    (tracked_path, oid, pointer or oid),
                )

    def close(self) -> None:
        self._db.close()


class _Txn:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: take the write lock up front (waiting
    up to the busy timeout) so two writers never deadlock on a lock upgrade.
    A database error inside becomes the one-line GitmlError of :func:`_error`."""

    __slots__ = ("_db", "_path")

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._path = path

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise _error(self._path, exc) from None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
        except sqlite3.DatabaseError as err:
            if exc_type is None:
                raise _error(self._path, err) from None
        if isinstance(exc, sqlite3.DatabaseError):
            raise _error(self._path, exc) from None


def _error(path: Path, exc: sqlite3.DatabaseError) -> GitmlError:
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
        return GitmlError(
            f"the stat index {path} stayed locked by another gitml process",
            "wait for the other command to finish and run this one again",
        )
    if "readonly" in text or "read-only" in text:
        return IndexReadOnlyError(
            f"the stat index {path} is read-only ({text})",
            f"make it and its folder writable again (chmod u+w {path} {path.parent})",
        )
    return GitmlError(
        f"the stat index {path} is unreadable: {exc}",
        f"delete {path}; gitml rebuilds it (files are re-hashed once)",
    )
