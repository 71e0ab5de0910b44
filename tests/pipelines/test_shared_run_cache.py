"""The run cache travels with the data: push --run-cache in one clone, pull
--run-cache in another, and a stage someone already ran is restored, not rerun."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import git, run_gitml
from tests.pipelines.conftest import count, write_project
from tests.servers import Bucket, s3_bucket, s3_env, s3_server
from tests.testing.team import origin_and_first_clone

__all__ = ["s3_bucket", "s3_env", "s3_server"]


def two_runs_pushed(
    tmp_path: Path, remote: list[str] | None = None, env: dict[str, str] | None = None
) -> tuple[Path, Path]:
    """Clone A ran train with acc 0.9 and 0.95 (committed), and pushed all of it
    (to a folder remote, or ``remote``: the arguments of ``gitml remote add``)."""
    # hooks: the commit gets a note, as in real use
    bare, a = origin_and_first_clone(tmp_path, data_remote=None)
    write_project(a)
    where = remote or [str(tmp_path / "store")]
    run_gitml(a, "remote", "add", "origin", *where, check=True, env=env)
    run_gitml(a, "repro", check=True, env=env)
    (a / "params.yaml").write_text("prepare:\n  scale: 2\ntrain:\n  acc: 0.95\n")
    run_gitml(a, "repro", check=True, env=env)
    git(a, "add", "-A")
    git(a, "commit", "-qm", "acc 0.95")
    pushed = subprocess.run(
        ["git", "push", "-q", "origin", "main"], cwd=a, env={**os.environ, **(env or {})}
    )
    assert pushed.returncode == 0
    proc = run_gitml(a, "push", "--run-cache", check=True, env=env)
    assert "run cache: pushed 3 entries (" in proc.stdout
    again = run_gitml(a, "push", "--run-cache", check=True, env=env)
    assert "run cache: pushed 0 entries (0 objects), 3 already there" in again.stdout
    return a, bare


def clone(tmp_path: Path, bare: Path, name: str) -> Path:
    path = tmp_path / name
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(path))
    return path


def test_second_clone_restores_instead_of_running(tmp_path: Path) -> None:
    a, bare = two_runs_pushed(tmp_path)
    b = clone(tmp_path, bare, "b")
    proc = run_gitml(b, "pull", "--run-cache", check=True)
    assert "run cache: fetched 3 entries (" in proc.stdout
    assert len(list((b / ".gitml/runs").glob("*.json"))) == 3
    # B goes back to the params A ran first: nothing runs, it is restored.
    before = count(b, "train"), count(b, "prepare")  # A committed its counters
    (b / "params.yaml").write_text("prepare:\n  scale: 2\ntrain:\n  acc: 0.9\n")
    proc = run_gitml(b, "repro", check=True)
    assert "stage train: restored from the run cache (param train changed)" in proc.stdout
    assert (count(b, "train"), count(b, "prepare")) == before
    assert json.loads((b / "metrics/m.json").read_text()) == {"accuracy": 0.9}
    assert (b / "models/m.txt").read_text() == (a / "models/m.txt").read_text()


def test_a_tampered_entry_is_refused(tmp_path: Path) -> None:
    _a, bare = two_runs_pushed(tmp_path)
    records = sorted((tmp_path / "store/runs").glob("*/*"))
    assert len(records) == 3
    victim = next(r for r in records if b'"0.9' in r.read_bytes() or b"0.9}" in r.read_bytes())
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes().replace(b"0.9", b"0.1"))
    c = clone(tmp_path, bare, "c")
    proc = run_gitml(c, "pull", "--run-cache")
    assert proc.returncode == 4, proc.stderr
    key = victim.parent.name
    notice, error = proc.stderr.splitlines()[:2]  # a fresh clone: the no-hooks notice first
    assert notice.startswith("warning: this repository has no gitml hooks")
    assert error.startswith(
        f"error: run-cache entry {key[:12]} from origin was refused: "
        "its bytes do not match its name (changed on the remote)"
    )
    assert not (c / f".gitml/runs/{key}.json").exists()
    assert len(list((c / ".gitml/runs").glob("*.json"))) == 2  # the others are fine


def test_an_entry_moved_under_another_key_is_refused(tmp_path: Path) -> None:
    _a, bare = two_runs_pushed(tmp_path)
    records = sorted((tmp_path / "store/runs").glob("*/*"))
    source, other = records[0], records[1]
    forged = other.parent / source.name
    forged.write_bytes(source.read_bytes())  # right bytes for its name, wrong key
    other.chmod(0o644)
    other.unlink()
    c = clone(tmp_path, bare, "c")
    proc = run_gitml(c, "pull", "--run-cache")
    assert proc.returncode == 4
    assert "was refused: its inputs do not hash to its key" in proc.stderr
    assert not (c / f".gitml/runs/{other.parent.name}.json").exists()


def test_shared_run_cache_over_s3(tmp_path: Path, s3_bucket: Bucket) -> None:
    env = s3_bucket.env
    url = [s3_bucket.url("team"), "--endpoint-url", s3_bucket.endpoint_url]
    _a, bare = two_runs_pushed(tmp_path, url, env)
    b = clone(tmp_path, bare, "b")
    proc = run_gitml(b, "pull", "--run-cache", check=True, env=env)
    assert "run cache: fetched 3 entries (" in proc.stdout
    (b / "params.yaml").write_text("prepare:\n  scale: 2\ntrain:\n  acc: 0.9\n")
    proc = run_gitml(b, "repro", check=True, env=env)
    assert "stage train: restored from the run cache (param train changed)" in proc.stdout
    assert json.loads((b / "metrics/m.json").read_text()) == {"accuracy": 0.9}
