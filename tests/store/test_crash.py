"""Real SIGKILLs at named fault points (GITML_FAULT), then recover() and rerun."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from gitml.store.batch import SMALL
from gitml.store.hashing import hash_bytes
from gitml.store.journal import parse
from gitml.store.objects import ObjectStore

from .conftest import corrupt, leftovers, run_python

SCRIPT = """
import sys
from pathlib import Path
import gitml.store.writer as bm
from gitml.store.objects import ObjectStore
bm.FLUSH_COUNT = 8  # several journal groups in one batch
src, cache, link = Path({src!r}), Path({cache!r}), {link!r}
store = ObjectStore(cache)
with store.batch() as batch:
    for path in sorted(src.iterdir()):
        batch.add_file(path, link=link)
print("done")
"""


def _make_sources(folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    files: dict[str, bytes] = {}
    for i in range(30):
        files[f"s{i:02}"] = os.urandom(100 + i * 37)
    files["s30"] = files["s01"]  # a duplicate
    files["empty"] = b""
    for i in range(3):
        files[f"big{i}"] = os.urandom(SMALL + 1000 * i)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def _run(src: Path, cache: Path, link: str, fault: str | None) -> int:
    env = {"GITML_FAULT": fault} if fault else {}
    code = SCRIPT.format(src=str(src), cache=str(cache), link=link)
    proc = run_python(code, env=env)
    if fault is None:
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "done"
    return proc.returncode


def _assert_clean(store: ObjectStore) -> None:
    for oid in store.iter_oids():
        assert store.verify(oid), f"{oid} has wrong bytes under its final name"
    assert leftovers(store.root) == []


FAULTS = [
    "store.after-journal",
    "store.after-journal:3",
    "store.mid-batch:3",
    "store.mid-batch:17",
    "store.mid-batch:33",
    "store.before-sync",
]
FAST = {
    ("copy", "store.after-journal"),
    ("copy", "store.mid-batch:17"),
    ("copy", "store.before-sync"),
    ("hardlink", "store.mid-batch:33"),
}


@pytest.mark.parametrize(
    ("link", "fault"),
    [
        pytest.param(link, fault, marks=() if (link, fault) in FAST else pytest.mark.slow)
        for link in ("copy", "hardlink")
        for fault in FAULTS
    ],
)
def test_sigkill_then_recover_and_rerun(tmp_path: Path, fault: str, link: str) -> None:
    src = tmp_path / "src"
    files = _make_sources(src)
    cache = tmp_path / "cache"
    assert _run(src, cache, link, fault) == -signal.SIGKILL
    journals = os.listdir(cache / "journal")
    assert len(journals) == 1  # the dead batch left its intent behind
    # the user's files are never damaged by a crash
    for name, data in files.items():
        assert (src / name).read_bytes() == data
    store = ObjectStore(cache)
    store.recover()
    _assert_clean(store)
    _run(src, cache, link, None)
    assert set(store.iter_oids()) == {hash_bytes(d) for d in files.values()}
    _assert_clean(store)


def test_torn_object_after_crash_is_quarantined(tmp_path: Path) -> None:
    """Power loss can leave a journaled object short: recover() must catch it."""
    src = tmp_path / "src"
    files = _make_sources(src)
    cache = tmp_path / "cache"
    assert _run(src, cache, "copy", "store.mid-batch:20") == -signal.SIGKILL
    (journal,) = (cache / "journal").iterdir()
    _host, oids = parse(journal.read_bytes())
    store = ObjectStore(cache)
    written = [oid for oid in oids if store.object_path(oid).exists() and oid != hash_bytes(b"")]
    victim = store.object_path(written[0])
    os.chmod(victim, 0o644)
    with open(victim, "r+b") as fh:
        fh.truncate(3)
    assert store.recover() == [written[0]]
    assert os.listdir(cache / "quarantine")[0].startswith(written[0])
    _assert_clean(store)
    _run(src, cache, "copy", None)
    assert set(store.iter_oids()) == {hash_bytes(d) for d in files.values()}
    _assert_clean(store)


def test_batch_runs_recover_first(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _make_sources(src)
    cache = tmp_path / "cache"
    assert _run(src, cache, "copy", "store.after-journal:2") == -signal.SIGKILL
    store = ObjectStore(cache)
    with store.batch() as batch:  # implies recover(): the dead journal goes
        assert os.listdir(cache / "journal") == []
        batch.add_bytes(b"x")
    _assert_clean(store)


def test_recover_leaves_live_batches_alone(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "cache")
    other = ObjectStore(tmp_path / "cache")
    with store.batch() as batch:
        batch.add_bytes(b"pending")
        batch.add_stream([b"big" * 1000], expected_oid=hash_bytes(b"big" * 1000))
        assert other.recover() == []
        assert len(os.listdir(store.root / "journal")) == 1
        assert len(os.listdir(store.root / "tmp")) == 1
    assert store.read_bytes(hash_bytes(b"pending")) == b"pending"
    _assert_clean(store)


def _fake_journal(cache: Path, name: str, host: str, oids: list[str]) -> Path:
    (cache / "journal").mkdir(parents=True, exist_ok=True)
    path = cache / "journal" / name
    body = f"gitml-journal 1\npid 999999\nhost {host}\ntime 0\n"
    path.write_text(body + "".join(f"o {oid}\n" for oid in oids) + "o 12ab")  # torn last line
    return path


def test_recover_dead_journal_cleans_temps(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "cache")
    with store.batch() as batch:
        good = batch.add_bytes(b"good")
        bad = batch.add_bytes(b"bad")
    corrupt(store.object_path(bad))
    missing = hash_bytes(b"never written")
    journal = _fake_journal(store.root, "999999-abc", os.uname().nodename, [good, bad, missing])
    (store.root / "tmp" / "999999-abc.1").write_bytes(b"half a temp")
    (store.root / "tmp" / "other-batch.1").write_bytes(b"not ours to delete")
    assert store.recover() == [bad]
    assert not journal.exists()
    assert os.listdir(store.root / "tmp") == ["other-batch.1"]
    assert store.verify(good) and not store.has(bad)


def test_recover_leaves_other_hosts_alone(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "cache")
    with store.batch() as batch:
        bad = batch.add_bytes(b"bad")
    corrupt(store.object_path(bad))
    journal = _fake_journal(store.root, "1-x", "some-other-host", [bad])
    assert store.recover() == []
    assert journal.exists() and store.has(bad)


def test_recover_drops_dead_staging_journal(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "cache")
    staging = _fake_journal(store.root, ".1-x.new", "h", [])
    old = time.time() - 3600
    os.utime(staging, (old, old))
    fresh = _fake_journal(store.root, ".2-x.new", "h", [])
    assert store.recover() == []
    assert not staging.exists() and fresh.exists()  # a fresh one may be a live batch's


TINY_SCRIPT = """
from pathlib import Path
from gitml.store.objects import ObjectStore
store = ObjectStore(Path({cache!r}))
with store.batch() as batch:
    for i in range({count}):
        batch.add_bytes(f"tiny object {{i}}".encode() * 1000)
print("done")
"""


@pytest.mark.parametrize(
    ("count", "fault"),
    [
        (2, "store.direct-before-link"),  # journal-free batch (unnamed.py)
        (2, "store.direct-before-link:2"),
        (2, "store.direct-after-link"),
        (6, "store.mid-batch:3"),  # journaled, fsync of each object at the end
        (6, "store.before-sync"),
    ],
)
def test_sigkill_in_small_batches(tmp_path: Path, count: int, fault: str) -> None:
    cache = tmp_path / "cache"
    code = TINY_SCRIPT.format(cache=str(cache), count=count)
    assert run_python(code, env={"GITML_FAULT": fault}).returncode == -signal.SIGKILL
    store = ObjectStore(cache)
    if fault.startswith("store.direct"):
        assert leftovers(cache) == []  # nothing to recover: no journal, no temp files
        for oid in store.iter_oids():  # at most the objects linked before the kill
            assert store.verify(oid)
    else:
        assert len(os.listdir(cache / "journal")) == 1
    store.recover()
    _assert_clean(store)
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    expected = {hash_bytes(f"tiny object {i}".encode() * 1000) for i in range(count)}
    assert set(store.iter_oids()) == expected
    _assert_clean(store)
