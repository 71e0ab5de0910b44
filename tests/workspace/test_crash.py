"""Real SIGKILLs at named points of add and checkout, and concurrent writers."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gitml.store.hashing import hash_file
from gitml.store.objects import ObjectStore
from tests.conftest import Cli, git, run_gitml


def make_files(root: Path, n: int = 40) -> dict[str, bytes]:
    out = {}
    for i in range(n):
        data = (f"file {i}\n" * (i + 1)).encode() + bytes([i % 256]) * (i * 97)
        path = root / "data" / f"d{i % 4}" / f"f{i}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        out[str(path.relative_to(root))] = data
    (root / "big.bin").write_bytes(bytes(range(256)) * 12000)  # 3 MB: the streamed path
    return out


def assert_cache_sound(root: Path) -> None:
    store = ObjectStore(root / ".gitml" / "cache")
    store.recover()
    for oid in store.iter_oids():
        assert hash_file(store.object_path(oid))[0] == oid, f"corrupt object {oid}"


@pytest.mark.parametrize(
    "point", ["add.after-store", "add.before-pointer", "add.after-pointer", "durable.before-rename"]
)
def test_kill_during_add_then_rerun(repo: Path, cli: Cli, point: str) -> None:
    make_files(repo)
    proc = run_gitml(repo, "add", "data", "big.bin", env={"GITML_FAULT": point})
    assert proc.returncode == -signal.SIGKILL
    assert_cache_sound(repo)
    cli("add", "data", "big.bin")
    assert_cache_sound(repo)
    states = {s["path"]: s["state"] for s in json.loads(cli("status", "--json").out)}
    assert states == {"big.bin": "clean", "data": "clean"}


@pytest.mark.parametrize("nth", [1, 7, 30])
def test_kill_during_checkout_leaves_no_half_file(repo: Path, cli: Cli, nth: int) -> None:
    files = make_files(repo)
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")
    shutil.rmtree(repo / "data")
    proc = run_gitml(repo, "checkout", env={"GITML_FAULT": f"checkout.after-file:{nth}"})
    assert proc.returncode == -signal.SIGKILL
    for rel, data in files.items():
        path = repo / rel
        if path.exists():
            assert path.read_bytes() == data
    cli("checkout")
    for rel, data in files.items():
        assert (repo / rel).read_bytes() == data
    leftovers = [p for p in (repo / "data").rglob("*.tmp")]
    assert leftovers == []


def test_two_concurrent_adds_both_succeed(repo: Path) -> None:
    make_files(repo)
    (repo / "other").mkdir()
    (repo / "other" / "x.bin").write_bytes(b"x" * 5000)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gitml", "add", target],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for target in ("data", "other")
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert (repo / "data.gitml").exists() and (repo / "other.gitml").exists()
    assert_cache_sound(repo)
