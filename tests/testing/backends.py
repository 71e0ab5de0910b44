"""Every remote backend gitml advertises, as a place a test can push to.

``BACKENDS`` names them; :func:`location` makes a fresh, empty remote of one kind on
its loopback server (a session-scoped fixture starts each server once) and says how
gitml reaches it: the URL, the tracked options (``endpoint_url``), the local-only
secrets for ``.gitml/config.local.toml``, and ``faults``, the injector in front of
it (``FaultProxy`` for HTTP-speaking servers, the SFTP server itself for ssh).

* ``folder``: a folder on this machine;
* ``s3``: moto's S3 server (tests/servers.py);
* ``gs``: gcp-storage-emulator (servers_gcs.py), anonymous through ``endpoint_url``;
* ``az``: Azurite (servers_azure.py), a connection string in the local config;
* ``ssh``: asyncssh's SFTP server (servers_ssh.py), key auth through a
  ``~/.ssh/config`` Host alias in the test's HOME;
* ``http``: a static HTTP server (servers_http.py) over a folder remote, read-only:
  ``writer`` is that folder, where the data is pushed first.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.servers import FaultProxy
from tests.testing.servers_azure import AzuriteServer
from tests.testing.servers_gcs import GcsServer
from tests.testing.servers_http import HttpServer
from tests.testing.servers_ssh import SshServer

BACKENDS = ("folder", "s3", "gs", "az", "ssh", "http")
WRITABLE = tuple(b for b in BACKENDS if b != "http")


@dataclass
class Location:
    kind: str
    url: str
    endpoint_url: str | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    faults: Any = None  # FaultProxy | SshServer | None
    writer: Location | None = None  # http: the writable folder remote it serves

    def config(self, name: str = "origin") -> dict[str, Any]:
        """Keyword arguments of ``RemoteConfig``."""
        return {
            "name": name,
            "url": self.url,
            "endpoint_url": self.endpoint_url,
            "secrets": dict(self.secrets),
        }

    def add_to(self, repo: Path, run: Any, name: str = "origin") -> None:
        """Configure it in ``repo`` as a user would: ``gitml remote add`` for the
        tracked part, the secrets appended to ``.gitml/config.local.toml``."""
        args = ["remote", "add", name, self.url]
        if self.endpoint_url:
            args += ["--endpoint-url", self.endpoint_url]
        run(repo, *args, check=True, env=self.env)
        self.add_secrets(repo, name)

    def add_secrets(self, repo: Path, name: str = "origin") -> None:
        if not self.secrets:
            return
        local = repo / ".gitml" / "config.local.toml"
        body = "".join(f"{k} = {_toml_str(v)}\n" for k, v in self.secrets.items())
        with open(local, "a", encoding="utf-8") as fh:
            fh.write(f"\n[remote.{name}]\n{body}")


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GcsServer]:
    server = GcsServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def azurite_server() -> Iterator[AzuriteServer]:
    server = AzuriteServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ssh_server() -> Iterator[SshServer]:
    server = SshServer()
    try:
        yield server
    finally:
        server.stop()


def _proxy(request: pytest.FixtureRequest, host: str, port: int) -> FaultProxy:
    proxy = FaultProxy((host, port))
    request.addfinalizer(proxy.stop)
    return proxy


def location(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, *, proxied: bool = False
) -> Location:
    """A fresh empty remote of ``kind``; ``proxied``: behind a fault injector."""
    tag = uuid.uuid4().hex[:8]
    if kind == "folder":
        return Location(kind, str(tmp_path / f"store-{tag}"))
    if kind == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        endpoint, proxy = bucket.endpoint_url, None
        if proxied:
            proxy = _proxy(request, bucket.server.host, bucket.server.port)
            endpoint = proxy.url
        return Location(kind, bucket.url("remote"), endpoint, env=bucket.env, faults=proxy)
    if kind == "gs":
        gcs: GcsServer = request.getfixturevalue("gcs_server")
        endpoint, proxy = gcs.endpoint_url, None
        if proxied:
            proxy = _proxy(request, gcs.host, gcs.port)
            proxy.aliases["PUT"] = ("POST",)  # GCS uploads objects with POST
            endpoint = proxy.url
        return Location(kind, f"gs://{gcs.create_bucket()}/remote", endpoint, faults=proxy)
    if kind == "az":
        azurite: AzuriteServer = request.getfixturevalue("azurite_server")
        endpoint, proxy = None, None
        if proxied:
            proxy = _proxy(request, azurite.host, azurite.port)
            endpoint = f"{proxy.url}/devstoreaccount1"
        secrets = {"connection_string": azurite.connection_string(endpoint)}
        url = f"az://{azurite.create_container()}/remote"
        return Location(kind, url, secrets=secrets, faults=proxy)
    if kind == "ssh":
        sshd: SshServer = request.getfixturevalue("ssh_server")
        sshd.reset()
        request.addfinalizer(sshd.reset)
        alias = sshd.ssh_config(Path(os.environ["HOME"]))
        return Location(kind, f"ssh://{alias}/remote-{tag}", faults=sshd if proxied else None)
    if kind == "http":
        served = tmp_path / f"served-{tag}"
        writer = Location("folder", str(served / "remote"))
        server = HttpServer(served)
        request.addfinalizer(server.stop)
        proxy = _proxy(request, server.host, server.port) if proxied else None
        base = proxy.url if proxy else server.url
        return Location(kind, f"{base}/remote", faults=proxy, writer=writer)
    raise ValueError(kind)
