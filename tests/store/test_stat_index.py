"""StatIndex on a real SQLite file: prefixes, racy-git rule, state, two writers."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import time
from pathlib import Path

from gitml.store.hashing import hash_bytes
from gitml.store.stat_index import RACY_NS, StatIndex, StatRow

from .conftest import popen_python

OID = hash_bytes(b"x")


def _row(path: str, **kw: int) -> StatRow:
    values = {"ino": 1, "size": 2, "mtime_ns": 3, "recorded_ns": 3 + 2 * RACY_NS, **kw}
    ino, size, mtime, recorded = (values[k] for k in ("ino", "size", "mtime_ns", "recorded_ns"))
    return StatRow(path, ino, size, mtime, mtime, 0o100644, OID, recorded)


def test_prefix_lookup_and_drop(tmp_path: Path) -> None:
    index = StatIndex(tmp_path / "index")
    names = ["data", "data/a", "data/sub/b", "data-x/c", "data.txt", "dat", "datab/c", "other"]
    index.put_many(_row(n) for n in names)
    assert set(index.lookup_prefix("data")) == {"data", "data/a", "data/sub/b"}
    assert set(index.lookup_prefix("data/")) == {"data", "data/a", "data/sub/b"}
    assert set(index.lookup_prefix("data/sub")) == {"data/sub/b"}
    assert set(index.lookup_prefix("")) == set(names)
    assert index.lookup_prefix("nothing") == {}
    index.drop_prefix("data")
    assert set(index.lookup_prefix("")) == {"data-x/c", "data.txt", "dat", "datab/c", "other"}
    index.put_many([_row("other", ino=9)])  # replace
    assert index.lookup_prefix("other")["other"].ino == 9
    index.close()
    reopened = StatIndex(tmp_path / "index")
    assert reopened.lookup_prefix("other")["other"] == _row("other", ino=9)
    reopened.close()


def test_unicode_paths_use_byte_order(tmp_path: Path) -> None:
    index = StatIndex(tmp_path / "index")
    index.put_many([_row("d/\U0001f600"), _row("d/\uffff"), _row("d\U0001f600/x")])
    assert set(index.lookup_prefix("d")) == {"d/\U0001f600", "d/\uffff"}
    index.close()


def test_racy_git_rule(tmp_path: Path) -> None:
    index = StatIndex(tmp_path / "index")
    path = tmp_path / "f"
    path.write_bytes(b"x")
    st = os.lstat(path)
    row = StatRow.of("f", st, OID)  # recorded now
    assert index.fresh_oid("f", st, row) is None  # mtime within 1 s of recording: racy
    old = StatRow.of("f", st, OID, st.st_mtime_ns + RACY_NS + 1)
    assert index.fresh_oid("f", st, old) == OID
    assert index.fresh_oid("f", st, None) is None
    for changed in (
        dataclasses.replace(old, ino=st.st_ino + 1),
        dataclasses.replace(old, size=5),
        dataclasses.replace(old, mtime_ns=st.st_mtime_ns - 1),
        dataclasses.replace(old, ctime_ns=st.st_ctime_ns - 1),
    ):
        assert index.fresh_oid("f", st, changed) is None
    # an old file, recorded now, is fresh
    os.utime(path, ns=(time.time_ns() - 5 * RACY_NS,) * 2)
    st2 = os.lstat(path)
    assert index.fresh_oid("f", st2, StatRow.of("f", st2, OID)) == OID
    index.close()


def test_state(tmp_path: Path) -> None:
    index = StatIndex(tmp_path / "index")
    assert index.get_state("data") is None
    index.set_state("data", OID)
    assert index.get_state("data") == OID
    index.set_state("data", None)
    assert index.get_state("data") is None
    index.close()


def test_wal_mode(tmp_path: Path) -> None:
    StatIndex(tmp_path / "index").close()
    db = sqlite3.connect(tmp_path / "index")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_lookup_100k_returns_every_row(tmp_path: Path) -> None:
    index = StatIndex(tmp_path / "index")
    index.put_many(_row(f"data/d{i % 100:02}/f{i:06}") for i in range(100_000))
    rows = index.lookup_prefix("data")
    assert len(rows) == 100_000
    index.close()


WRITER = """
from pathlib import Path
from gitml.store.stat_index import StatIndex, StatRow
index = StatIndex(Path({path!r}))
for batch in range(20):
    index.put_many(
        StatRow(f"w{n}/{{batch}}/{{i}}", i, i, i, i, 0o100644, "0" * 64) for i in range(100)
    )
    index.set_state("w{n}", str(batch))
index.close()
print("ok")
"""


def test_two_processes_write_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "index"
    StatIndex(path).close()
    procs = [popen_python(WRITER.format(path=str(path), n=n)) for n in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    index = StatIndex(path)
    assert len(index.lookup_prefix("w0")) == len(index.lookup_prefix("w1")) == 2000
    assert index.get_state("w0") == index.get_state("w1") == "19"
    index.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_unreadable_index_is_a_clean_error(tmp_path: Path) -> None:
    from gitml.errors import GitmlError

    path = tmp_path / "index"
    path.write_bytes(b"this is not a database" * 100)
    try:
        StatIndex(path)
    except GitmlError as exc:
        assert str(path) in str(exc) and exc.hint and "delete" in exc.hint
    else:
        raise AssertionError("expected a GitmlError")
