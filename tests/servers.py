"""Test servers shared by every test folder: a local S3 endpoint and a fault proxy.

``S3Server`` runs moto's ``ThreadedMotoServer`` on 127.0.0.1 (a free port, start-up
line silenced) and hands out fresh buckets with dummy credentials. ``FaultProxy`` is
a small HTTP/1.1 proxy on 127.0.0.1 in front of it that can be told to answer
500/503, drop a connection after N bytes, stall, or flip a byte of a response body,
for the next K matching requests; it also counts requests per method.

Fixtures (import them in any conftest.py: ``from tests.servers import s3_server, ...``):
``s3_server`` (session), ``s3_bucket`` (a fresh bucket per test), ``fault_proxy``
(per test, in front of ``s3_server``), ``s3_env`` (dummy credential env, also
monkeypatched into ``os.environ`` for the test).
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.testing.faults import ALL_KINDS, Fault, FaultSchedule

DUMMY_KEY = "AKIAGITMLTESTKEY0001"
DUMMY_SECRET = "gitml-test-secret-Zq8vNw3x"  # distinctive so tests can grep for leaks
REGION = "us-east-1"


def dummy_env() -> dict[str, str]:
    """Environment for a client of the test server (no real credentials are read)."""
    return {
        "AWS_ACCESS_KEY_ID": DUMMY_KEY,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class S3Server:
    """moto's S3 server in a thread of this process."""

    def __init__(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.host = host
        self.port = port
        self.endpoint_url = f"http://{host}:{port}"
        self.env = dummy_env()

    def client(self, endpoint_url: str | None = None) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=endpoint_url or self.endpoint_url,
            aws_access_key_id=DUMMY_KEY,
            aws_secret_access_key=DUMMY_SECRET,
            region_name=REGION,
        )

    def create_bucket(self, name: str | None = None) -> str:
        bucket = name or f"gitml-test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def seed(self, bucket: str, objects: dict[str, bytes]) -> None:
        """Put objects straight into moto's in-memory backend (fast; no HTTP)."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
        for key, value in objects.items():
            backend.put_object(bucket, key, value)

    def stop(self) -> None:
        self._server.stop()


# ---------------------------------------------------------------- fault proxy


NO_FLIP = tuple(kind for kind in ALL_KINDS if kind != "flip")
_ERROR_CODES = {500: "InternalError", 502: "BadGateway", 503: "SlowDown", 504: "GatewayTimeout"}


def _read_head(rfile: Any) -> tuple[bytes, list[tuple[str, str]]] | None:
    line = rfile.readline(65537)
    if not line:
        return None
    headers: list[tuple[str, str]] = []
    while True:
        h = rfile.readline(65537)
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    return line, headers


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def _read_body(rfile: Any, headers: list[tuple[str, str]], *, until_close: bool) -> bytes:
    te = (_header(headers, "transfer-encoding") or "").lower()
    if "chunked" in te:  # keep the raw chunked framing
        out = bytearray()
        while True:
            size_line = rfile.readline(65537)
            out += size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers
                    t = rfile.readline(65537)
                    out += t
                    if t in (b"\r\n", b"\n", b""):
                        return bytes(out)
            out += rfile.read(size + 2)
    length = _header(headers, "content-length")
    if length is not None:
        return bytes(rfile.read(int(length)))
    return bytes(rfile.read()) if until_close else b""


def _head_bytes(first: bytes, headers: list[tuple[str, str]]) -> bytes:
    lines = [first.rstrip(b"\r\n")] + [f"{k}: {v}".encode("latin-1") for k, v in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


class FaultProxy(FaultSchedule):
    """A threaded HTTP/1.1 proxy on 127.0.0.1 in front of ``upstream`` (host, port)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        super().__init__()
        self.upstream = upstream
        self._stop = threading.Event()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.connection, self.rfile)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    # -- serving
    def _serve(self, client: socket.socket, rfile: Any) -> None:
        upstream: socket.socket | None = None
        try:
            while not self._stop.is_set():
                head = _read_head(rfile)
                if head is None:
                    return
                first, headers = head
                method = first.split(b" ", 1)[0].decode("ascii", "replace")
                if (_header(headers, "expect") or "").lower() == "100-continue":
                    client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                    headers = [(k, v) for k, v in headers if k.lower() != "expect"]
                body = _read_body(rfile, headers, until_close=False)
                fault = self.take(method, kinds=ALL_KINDS if method == "GET" else NO_FLIP)
                if fault and fault.kind == "status":
                    self._send_error(client, fault, method)
                    continue
                if fault and fault.kind == "drop" and fault.stage == "request":
                    return
                if upstream is None:
                    upstream = socket.create_connection(self.upstream, timeout=30)
                    up_rfile = upstream.makefile("rb")
                upstream.sendall(_head_bytes(first, headers) + body)
                rhead = _read_head(up_rfile)
                if rhead is None:
                    return
                status_line, rheaders = rhead
                status = int(status_line.split(b" ", 2)[1])
                close = (_header(rheaders, "connection") or "").lower() == "close"
                no_body = method == "HEAD" or status in (204, 304) or status < 200
                rbody = b"" if no_body else _read_body(up_rfile, rheaders, until_close=True)
                if no_body is False and _header(rheaders, "content-length") is None:
                    close = True
                if fault and fault.kind == "flip" and rbody and status in (200, 206):
                    pos = len(rbody) // 2
                    rbody = rbody[:pos] + bytes([rbody[pos] ^ 0x01]) + rbody[pos + 1 :]
                raw = _head_bytes(status_line, rheaders) + rbody
                if fault and fault.kind == "stall":
                    deadline = time.monotonic() + fault.seconds
                    while time.monotonic() < deadline and not self._stop.is_set():
                        time.sleep(0.02)
                if fault and fault.kind == "drop":
                    client.sendall(raw[: fault.after_bytes])
                    return
                client.sendall(raw)
                if close:
                    return
        except (OSError, ValueError):
            return
        finally:
            if upstream is not None:
                with contextlib.suppress(OSError):
                    upstream.close()
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _send_error(client: socket.socket, fault: Fault, method: str) -> None:
        from xml.sax.saxutils import escape

        status = fault.status
        code = fault.code or _ERROR_CODES.get(status, "InternalError")
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{escape(fault.message)}</Message><RequestId>0</RequestId></Error>"
        ).encode()
        head = (
            f"HTTP/1.1 {status} {code}\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {0 if method == 'HEAD' else len(body)}\r\n\r\n"
        ).encode()
        client.sendall(head + (b"" if method == "HEAD" else body))


# ---------------------------------------------------------------- fixtures


@dataclass
class Bucket:
    server: S3Server
    name: str
    endpoint_url: str
    env: dict[str, str] = field(default_factory=dict)

    def url(self, prefix: str = "remote") -> str:
        return f"s3://{self.name}/{prefix}"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = dummy_env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    return env


@pytest.fixture
def s3_bucket(s3_server: S3Server, s3_env: dict[str, str]) -> Bucket:
    return Bucket(s3_server, s3_server.create_bucket(), s3_server.endpoint_url, s3_env)


@pytest.fixture
def fault_proxy(s3_server: S3Server) -> Iterator[FaultProxy]:
    proxy = FaultProxy((s3_server.host, s3_server.port))
    try:
        yield proxy
    finally:
        proxy.stop()
