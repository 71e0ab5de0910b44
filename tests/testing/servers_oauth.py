"""A Google OAuth token endpoint on 127.0.0.1, for service-account key files whose
``token_uri`` points here: google-auth signs a JWT with the key and trades it for an
access token, exactly as against Google, without a network. ``service_account``
writes such a key file (a fresh RSA key) and ``grants`` records the token requests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

ACCESS_TOKEN = "ya29.gitml-test-token"


class OAuthServer:
    def __init__(self) -> None:
        self.grants: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                server.grants.append(form.get("grant_type", [""])[0])
                body = json.dumps(
                    {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.token_uri = f"http://127.0.0.1:{self._server.server_address[1]}/token"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def service_account(self, path: Path) -> Path:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        info = {
            "type": "service_account",
            "project_id": "gitml-test",
            "private_key_id": "gitml-test-key",
            "private_key": pem,
            "client_email": "ci@gitml-test.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": self.token_uri,
        }
        path.write_text(json.dumps(info))
        path.chmod(0o600)
        return path

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
