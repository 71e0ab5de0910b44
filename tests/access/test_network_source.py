"""A source reached over the network (git's own daemon on 127.0.0.1): a partial
clone with no blobs, the source's data remote from its config, and a relative
folder remote that only means something next to the source."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import gitml
from gitml.errors import ObjectMissingError
from gitml.progress import Event
from tests.conftest import git
from tests.testing.ports import free_port, unavailable, wait_listening
from tests.testing.registry_repo import CSV_V1, CSV_V2, Repos


@pytest.fixture
def daemon(repos: Repos) -> Iterator[str]:
    git(repos.registry, "config", "uploadpack.allowFilter", "true")
    port = free_port()
    proc = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={repos.registry.parent}",
         "--listen=127.0.0.1", f"--port={port}", str(repos.registry.parent)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        if not wait_listening(port, seconds=15, alive=lambda: proc.poll() is None):
            unavailable("git daemon", "it did not start")
        yield f"git://127.0.0.1:{port}/registry"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _absolute_remote(repos: Repos) -> None:
    (repos.registry / ".gitml" / "config.toml").write_text(
        f'[core]\nremote = "store"\n\n[remote.store]\nurl = "{repos.store}"\n'
    )
    git(repos.registry, "commit", "-q", "-am", "absolute remote")


def test_reading_over_the_network_clones_no_data(repos: Repos, daemon: str) -> None:
    _absolute_remote(repos)
    assert gitml.read("data/customers.csv", rev="churn@v1", repo=daemon,
                      cwd=repos.consumer) == CSV_V1  # fmt: skip
    assert gitml.read("data/customers.csv", repo=daemon, cwd=repos.consumer) == CSV_V2
    clones = [p for p in (Path.home() / ".cache" / "gitml" / "repos").glob("registry-*")
              if p.is_dir()]  # fmt: skip
    assert len(clones) == 1
    config = git(clones[0], "config", "--get", "remote.origin.partialclonefilter")
    assert config.strip() == "blob:none"
    listing = gitml.ls(daemon, cwd=repos.consumer)
    assert {e.path: e.size for e in listing.entries if e.kind == "git"}["gitml.yaml"] is None


def test_a_relative_folder_remote_of_a_network_source_is_not_used(
    repos: Repos, daemon: str
) -> None:
    warnings: list[str] = []

    def callback(event: Event) -> None:
        if event.kind == "warning":
            warnings.append(event.message)

    with pytest.raises(ObjectMissingError) as info:
        gitml.read("data/customers.csv", repo=daemon, cwd=repos.consumer, callback=callback)
    assert info.value.message == (
        f"data/customers.csv is not in the cache, and {daemon} has no data remote to fetch it from"
    )
    assert warnings == [
        f"{daemon}: data remote 'store' is a relative folder (../store), which only exists "
        "next to that repository; not used"
    ]
