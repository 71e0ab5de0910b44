"""Azure Blob Storage on 127.0.0.1: Azurite (npm package ``azurite``, installed by
``.ci/run`` into ``.ci/npm``), run with the machine's Node.js as a child process on
a free port, in memory. Clients use the emulator's well-known development account
(its key is published by Microsoft for exactly this; it protects nothing)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from tests.testing.ports import free_port, unavailable, wait_listening

ROOT = Path(__file__).resolve().parents[2]
AZURITE = ROOT / ".ci" / "npm" / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


class AzuriteServer:
    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            unavailable("Azurite", "node is not on PATH")
        if not AZURITE.exists():
            unavailable("Azurite", f"{AZURITE} is missing (npm install azurite)")
        import adlfs  # noqa: F401 - the extra gitml needs

        self.port = free_port()
        self._dir = tempfile.mkdtemp(prefix="gitml-azurite-")
        self._log = open(os.path.join(self._dir, "azurite.log"), "wb")  # noqa: SIM115
        self._proc = subprocess.Popen(
            [
                node,
                str(AZURITE),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(self.port),
                "--inMemoryPersistence",
                "--skipApiVersionCheck",
                "--loose",
                "--silent",
            ],
            cwd=self._dir,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        if not wait_listening(self.port, seconds=60, alive=lambda: self._proc.poll() is None):
            self.stop()
            unavailable("Azurite", f"did not start (log in {self._dir})")
        self.host = "127.0.0.1"
        self.blob_endpoint = f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def connection_string(self, endpoint: str | None = None) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={endpoint or self.blob_endpoint};"
        )

    def fs(self) -> Any:
        import adlfs

        return adlfs.AzureBlobFileSystem(
            connection_string=self.connection_string(), skip_instance_cache=True
        )

    def create_container(self) -> str:
        name = f"gitml-test-{uuid.uuid4().hex[:12]}"
        self.fs().mkdir(name)
        return name

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(1)  # it waits for idle keep-alive clients otherwise
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)
