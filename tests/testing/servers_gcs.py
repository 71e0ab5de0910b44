"""Google Cloud Storage on 127.0.0.1: ``gcp-storage-emulator`` (PyPI) in a thread of
the test process, in memory. gcsfs talks to it anonymously through its
``endpoint_url`` (gitml's ``endpoint_url`` remote option)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from tests.testing.ports import free_port, unavailable, wait_listening


class GcsServer:
    def __init__(self) -> None:
        try:
            from gcp_storage_emulator.server import create_server
        except ImportError as exc:
            unavailable("GCS emulator", f"gcp-storage-emulator is not installed ({exc})")
        import gcsfs  # noqa: F401 - fail here, not in gitml, when the extra is missing

        logging.getLogger("gcp_storage_emulator").setLevel(logging.ERROR)
        self.port = free_port()
        self._server = create_server("127.0.0.1", self.port, in_memory=True)
        self._server.start()
        if not wait_listening(self.port, seconds=10):
            unavailable("GCS emulator", "did not start listening")
        self.host = "127.0.0.1"
        self.endpoint_url = f"http://127.0.0.1:{self.port}"

    def fs(self) -> Any:
        from gcsfs.core import GCSFileSystem

        return GCSFileSystem(endpoint_url=self.endpoint_url, token="anon", skip_instance_cache=True)

    def create_bucket(self) -> str:
        name = f"gitml-test-{uuid.uuid4().hex[:12]}"
        self.fs().mkdir(name)
        return name

    def stop(self) -> None:
        self._server.stop()
