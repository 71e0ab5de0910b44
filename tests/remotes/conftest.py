"""Fixtures for remote tests (helpers live in remote_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitml.store.objects import ObjectStore
from tests.remotes.remote_helpers import MakeRemote, _make
from tests.servers import fault_proxy, s3_bucket, s3_env, s3_server
from tests.testing.backends import azurite_server, gcs_server, ssh_server

__all__ = [
    "azurite_server",
    "fault_proxy",
    "gcs_server",
    "s3_bucket",
    "s3_env",
    "s3_server",
    "ssh_server",
]


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(tmp_path / "cache")


@pytest.fixture
def other_store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(tmp_path / "cache2")


@pytest.fixture(params=["local", "fsspec", "s3"])
def make_remote(request: pytest.FixtureRequest, tmp_path: Path) -> MakeRemote:
    """Build a remote of each kind (the test runs once per kind): a folder, the generic
    fsspec path over a folder (temp + rename like SFTP), and moto S3."""
    return _make(str(request.param), request, tmp_path)


@pytest.fixture(params=["local", "s3"])
def make_url_remote(request: pytest.FixtureRequest, tmp_path: Path) -> MakeRemote:
    """Remotes that a child process can rebuild from their URL."""
    return _make(str(request.param), request, tmp_path, proxied=False)


@pytest.fixture
def make_fsspec(request: pytest.FixtureRequest, tmp_path: Path) -> MakeRemote:
    return _make("fsspec", request, tmp_path)


@pytest.fixture
def make_s3(request: pytest.FixtureRequest, tmp_path: Path) -> MakeRemote:
    """An S3 remote behind the fault proxy (``handle.proxy``)."""
    return _make("s3", request, tmp_path, proxied=True)


@pytest.fixture(params=["s3", "gs", "az", "ssh", "http"])
def make_faulty(request: pytest.FixtureRequest, tmp_path: Path) -> MakeRemote:
    """Each networked backend behind its fault injector (``handle.proxy``): the HTTP
    fault proxy in front of S3, GCS, Azure and the web server; for SFTP, the server
    itself. ``handle.writer`` is where uploads go (for http: the folder it serves)."""
    return _make(str(request.param), request, tmp_path, proxied=True)
