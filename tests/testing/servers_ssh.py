"""A real SSH/SFTP server on 127.0.0.1: asyncssh's server in a thread of the test
process (its own event loop), public-key authentication only, SFTP chrooted into a
session folder. Keys (host and client, ed25519) are generated per session.

Faults are injected inside the SFTP server with the same calls as the HTTP
``FaultProxy`` (both are a ``tests.testing.faults.FaultSchedule``: ``fail_next``,
``drop_next``, ``stall_next``, ``flip_next``, ``hits``, ``reset``): ``method="GET"``
matches reads, ``"PUT"`` opens for writing and writes, ``"HEAD"`` stats. A "status"
fault answers SSH_FX_FAILURE; a "drop" aborts the whole SSH connection (after
``after_bytes`` bytes of a read: a short body)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, cast

from tests.testing.faults import Fault, FaultSchedule
from tests.testing.ports import unavailable


class SshServer(FaultSchedule):
    user = "gitml"

    def __init__(self) -> None:
        super().__init__()
        try:
            import asyncssh
            import sshfs  # noqa: F401 - the extra gitml needs
        except ImportError as exc:
            unavailable("SSH server", f"asyncssh/sshfs not installed ({exc})")
        self.dir = Path(tempfile.mkdtemp(prefix="gitml-sshd-"))
        self.root = self.dir / "sftp-root"  # what clients see as /
        self.root.mkdir()
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key_path = self.dir / "id_ed25519"
        client_key.write_private_key(str(self.client_key_path))
        os.chmod(self.client_key_path, 0o600)
        self._host_key = host_key
        self._authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._acceptor = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(30)
        self.host = "127.0.0.1"
        self.port = int(self._acceptor.get_port())
        self.host_key_line = (
            f"[127.0.0.1]:{self.port} {host_key.export_public_key().decode().strip()}"
        )

    async def _listen(self) -> Any:
        import asyncssh

        server = self
        sftp_cls = _fault_sftp_class()

        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[self._host_key],
            authorized_client_keys=self._authorized,
            sftp_factory=lambda chan: sftp_cls(chan, server),
            allow_scp=False,
            password_auth=False,
            kbdint_auth=False,
        )

    # -- the client side of a test
    def ssh_config(self, home: Path, alias: str = "gitml-test") -> str:
        """Write ``~/.ssh/{config,known_hosts,id_ed25519}`` under ``home`` with a Host
        alias for this server; return the alias."""
        ssh = home / ".ssh"
        ssh.mkdir(mode=0o700, exist_ok=True)
        key = ssh / "gitml_test_key"
        key.write_bytes(self.client_key_path.read_bytes())
        key.chmod(0o600)
        (ssh / "known_hosts").write_text(self.host_key_line + "\n")
        (ssh / "config").write_text(
            f"Host {alias}\n  HostName 127.0.0.1\n  Port {self.port}\n  User {self.user}\n"
            f"  IdentityFile {key}\n"
        )
        return alias

    def stop(self) -> None:
        import shutil

        async def close() -> None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            # end the sessions of clients still connected (their tasks would be
            # destroyed pending, with a warning, when the loop stops)
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def _fault_sftp_class() -> type:
    import asyncssh

    class FaultSFTPServer(asyncssh.SFTPServer):  # type: ignore[misc]
        def __init__(self, chan: Any, server: SshServer) -> None:
            super().__init__(chan, chroot=os.fsencode(server.root))
            self._server = server

        async def _before(self, method: str, *, flip_ok: bool = False) -> Fault | None:
            kinds = ("status", "drop", "stall") + (("flip",) if flip_ok else ())
            fault = self._server.take(method, kinds=kinds)
            if fault is None:
                return None
            if fault.kind == "status":
                raise asyncssh.SFTPFailure("injected failure")
            if fault.kind == "stall":
                await asyncio.sleep(fault.seconds)
            if fault.kind == "drop" and not (method == "GET" and fault.after_bytes):
                self.channel.get_connection().abort()
                raise asyncssh.SFTPConnectionLost("injected drop")
            return fault

        async def open(self, path: bytes, pflags: int, attrs: Any) -> Any:
            writing = bool(pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_CREAT))
            await self._before("PUT" if writing else "OPEN")
            return super().open(path, pflags, attrs)

        async def write(self, file_obj: Any, offset: int, data: bytes) -> Any:
            await self._before("PUT")
            return super().write(file_obj, offset, data)

        async def read(self, file_obj: Any, offset: int, size: int) -> bytes:
            fault = await self._before("GET", flip_ok=True)
            data = bytes(cast(bytes, super().read(file_obj, offset, size)))
            if fault is not None and fault.kind == "flip" and data:
                pos = len(data) // 2
                data = data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]
            if fault is not None and fault.kind == "drop":
                self.channel.get_connection().abort()
                return data[: fault.after_bytes]
            return data

        async def stat(self, path: bytes) -> Any:
            await self._before("HEAD")
            return super().stat(path)

    return FaultSFTPServer
