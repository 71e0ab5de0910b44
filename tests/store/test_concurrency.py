"""Two processes writing the same objects at once: both succeed, one object each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitml.store.batch import SMALL
from gitml.store.hashing import hash_bytes
from gitml.store.objects import ObjectStore

from .conftest import leftovers, popen_python

SCRIPT = """
import sys, time
from pathlib import Path
import gitml.store.writer as bm
from gitml.store.objects import ObjectStore
bm.FLUSH_COUNT = 16
src, cache, go = Path({src!r}), Path({cache!r}), Path({go!r})
while not go.exists():
    time.sleep(0.005)
store = ObjectStore(cache)
with store.batch() as batch:
    for path in sorted(src.iterdir()){order}:
        batch.add_file(path, link={link!r})
print("done")
"""


@pytest.mark.parametrize("link", ["copy", "hardlink"])
def test_two_processes_add_the_same_files(tmp_path: Path, link: str) -> None:
    files = {f"f{i:03}": os.urandom(50 + i) for i in range(200)}
    files["big"] = os.urandom(SMALL + 10)
    files["dup"] = files["f007"]
    cache = tmp_path / "cache"
    go = tmp_path / "go"
    procs = []
    for n, order in enumerate(("", "[::-1]")):
        src = tmp_path / f"src{n}"
        src.mkdir()
        for name, data in files.items():
            (src / name).write_bytes(data)
        code = SCRIPT.format(src=str(src), cache=str(cache), go=str(go), order=order, link=link)
        procs.append(popen_python(code))
    go.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == "done"
    store = ObjectStore(cache)
    assert sorted(store.iter_oids()) == sorted({hash_bytes(d) for d in files.values()})
    for oid in store.iter_oids():
        assert store.verify(oid)
    assert not (cache / "quarantine").exists()
    assert leftovers(cache) == []
    for n in range(2):
        for name, data in files.items():
            assert (tmp_path / f"src{n}" / name).read_bytes() == data
