"""Two clones of every writable backend taking turns: A pushes v1, B pulls, changes
a file in a tracked folder and a model, pushes v2; A pulls and has B's bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import git, run_gitml
from tests.servers import s3_bucket, s3_env, s3_server
from tests.team.test_backends import FILES, clone, first_clone
from tests.testing.backends import (
    WRITABLE,
    Location,
    azurite_server,
    gcs_server,
    location,
    ssh_server,
)

__all__ = ["azurite_server", "gcs_server", "s3_bucket", "s3_env", "s3_server", "ssh_server"]


@pytest.fixture(params=WRITABLE)
def writable(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    return location(str(request.param), request, tmp_path)


def test_two_clones_take_turns(writable: Location, tmp_path: Path) -> None:
    env = writable.env
    bare, a = first_clone(tmp_path, writable)
    git(a, "push", "-q", "origin", "main")  # the pre-push hook uploads the data
    assert "pushed 0 objects" in run_gitml(a, "push", check=True, env=env).stdout  # notes
    b = clone(tmp_path, bare, "b")
    writable.add_secrets(b)
    run_gitml(b, "pull", check=True, env=env)
    (b / "data" / "sub" / "labels.txt").write_bytes(b"bird\n" * 70)
    (b / "model.bin").write_bytes(b"model v2 " * 300)
    run_gitml(b, "add", "data", "model.bin", check=True, env=env)
    git(b, "commit", "-qam", "v2")
    assert "not yet pushed:  3" in run_gitml(b, "status", "--remote", env=env).stdout
    git(b, "push", "-q", "origin", "main")
    run_gitml(b, "push", check=True, env=env)

    git(a, "pull", "-q", "origin", "main")
    run_gitml(a, "pull", check=True, env=env)
    assert (a / "data" / "sub" / "labels.txt").read_bytes() == b"bird\n" * 70
    assert (a / "model.bin").read_bytes() == b"model v2 " * 300
    assert (a / "data" / "train.csv").read_bytes() == FILES["data/train.csv"]
    assert "not yet pushed:  0" in run_gitml(a, "status", "--remote", check=True, env=env).stdout
