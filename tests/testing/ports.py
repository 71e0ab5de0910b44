"""Helpers for the loopback test servers: free ports, waiting for a listener, and
the CI rule that a missing server is a failure (locally: a skip with the reason)."""

from __future__ import annotations

import os
import socket
import time
from typing import NoReturn

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, *, seconds: float = 30.0, alive: object = None) -> bool:
    """Poll until something accepts on 127.0.0.1:``port`` (False after ``seconds``).
    ``alive`` is an optional callable; polling stops early when it returns False."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(alive) and not alive():
            return False
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def unavailable(what: str, why: str) -> NoReturn:
    """A server the suite needs is missing: fail in CI, skip elsewhere."""
    message = f"{what} unavailable: {why} (make install and bash .ci/install-servers.sh bring it)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
