"""The team workflow against every backend on its loopback server (one suite,
parameterised): push, status --remote, fsck --remote, then a fresh clone that
fetches and pulls; http remotes read-only. Two clones taking turns:
test_backends_turns.py (a file of its own so the two halves run in parallel)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import git, run_gitml
from tests.servers import s3_bucket, s3_env, s3_server
from tests.testing.backends import (
    BACKENDS,
    Location,
    azurite_server,
    gcs_server,
    location,
    ssh_server,
)
from tests.testing.team import origin_and_first_clone

__all__ = ["azurite_server", "gcs_server", "s3_bucket", "s3_env", "s3_server", "ssh_server"]

FILES = {
    "data/train.csv": b"id,x\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(200)),
    "data/sub/labels.txt": b"cat\ndog\n" * 50,
    "data/empty.bin": b"",
    "model.bin": bytes(range(256)) * 40,
}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    return location(str(request.param), request, tmp_path)


def first_clone(tmp_path: Path, target: Location) -> tuple[Path, Path]:
    # with hooks: they write the notes fetch expects
    bare, a = origin_and_first_clone(tmp_path, data_remote=None)
    for name, data in FILES.items():
        (a / name).parent.mkdir(parents=True, exist_ok=True)
        (a / name).write_bytes(data)
    run_gitml(a, "add", "data", "model.bin", check=True)
    target.add_to(a, run_gitml)
    git(a, "add", "-A")
    git(a, "commit", "-qm", "v1")
    return bare, a


def clone(tmp_path: Path, bare: Path, name: str) -> Path:
    b = tmp_path / name
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(b))
    return b


def test_round_trip(backend: Location, tmp_path: Path) -> None:
    env = backend.env
    bare, a = first_clone(tmp_path, backend.writer or backend)
    before = run_gitml(a, "status", "--remote", check=True, env=env).stdout
    assert "not yet pushed:  5" in before, before  # 4 files + the folder manifest
    pushed = run_gitml(a, "push", check=True, env=env)
    assert "pushed 5 objects" in pushed.stdout, pushed.stdout
    git(a, "push", "-q", "origin", "main")  # the pre-push hook finds nothing left to send
    assert "not yet pushed:  0" in run_gitml(a, "status", "--remote", check=True, env=env).stdout
    assert run_gitml(a, "fsck", "--remote", "--verify", check=True, env=env).returncode == 0

    b = clone(tmp_path, bare, "b")
    remote = ["-r", "origin"]
    if backend.kind == "http":  # the clone reads through the web server
        backend.add_to(b, run_gitml, name="web")
        remote = ["-r", "web"]
    else:
        backend.add_secrets(b)  # config.local.toml is not cloned
    fetched = run_gitml(b, "fetch", *remote, check=True, env=env)
    assert "fetched 5" in fetched.stdout, fetched.stdout
    run_gitml(b, "pull", *remote, check=True, env=env)
    for name, data in FILES.items():
        assert (b / name).read_bytes() == data, name
    status = run_gitml(b, "status", "--remote", *remote, check=True, env=env).stdout
    assert "not yet pushed:  0" in status, status
    fsck = run_gitml(b, "fsck", "--remote", *remote, "--verify", check=True, env=env)
    assert "missing" not in fsck.stdout and "corrupt" not in fsck.stdout
    if backend.kind == "http":
        refused = run_gitml(b, "push", *remote, env=env)
        assert refused.returncode == 4, refused.stdout + refused.stderr
        assert "read-only" in refused.stderr and "Traceback" not in refused.stderr
