"""SFTP remotes (``ssh://``) through sshfs/asyncssh.

sshfs holds one SSH connection and never reconnects, ignores ``start``/``end`` in
``cat_file`` (so a ranged pack read would get the whole file), and has no timeout
per request. :class:`SftpBackend` therefore connects lazily, drops the connection
after a lost connection or a timed-out request (the retry reconnects), reads ranges
itself, and bounds every request of bounded size by ``read_timeout``. A dead peer
during a long write is found by SSH keepalives. Writes go to a temp name and are
renamed (SFTP has no atomic put).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from gitml.errors import RemoteError
from gitml.remotes.backends import FsspecBackend, KeyTime, Reader, Writer, temp_key
from gitml.remotes.redact import redact
from gitml.remotes.retry import TransientError, error_chain

_LOST = frozenset(
    {
        "ConnectionLost",
        "SFTPConnectionLost",
        "SFTPNoConnection",
        "ChannelOpenError",
        "FSTimeoutError",
        "BrokenPipeError",
        "ConnectionResetError",
        "TimeoutError",
    }
)


class SftpConnectionLost(TransientError):
    """The SSH connection broke or a request timed out; the next try reconnects."""


def _lost(exc: BaseException) -> bool:
    return (
        any({cls.__name__ for cls in type(err).__mro__} & _LOST for err in error_chain(exc))
        or "closed" in str(exc).lower()
    )


def connect_error(display: str, exc: BaseException) -> RemoteError | None:
    """A one-line error with a hint for the ways an SSH login fails, else None."""
    names = {cls.__name__ for err in error_chain(exc) for cls in type(err).__mro__}
    reason = redact(" ".join(str(exc).split()))[:300]
    if "HostKeyNotVerifiable" in names:
        return RemoteError(
            f"cannot verify the host key of {display}: {reason}",
            "connect once with `ssh HOST` to add it to ~/.ssh/known_hosts, after "
            "checking its fingerprint",
        )
    if "PermissionDenied" in names or isinstance(exc, PermissionError):
        return RemoteError(
            f"the SSH server refused the login to {display}: {reason}",
            "check the user and key: ~/.ssh/config (User, IdentityFile), ssh-agent, "
            "or key_file in .gitml/config.local.toml",
        )
    return None


class _RangeReader:
    """Reads an object by ranged requests, each bounded by the timeout."""

    def __init__(self, backend: SftpBackend, key: str, size: int) -> None:
        self._backend = backend
        self._key = key
        self._pos = 0
        self.size: int | None = size

    def read(self, n: int = -1) -> bytes:
        size = self.size or 0
        if n < 0:
            n = size - self._pos
        n = min(n, size - self._pos)
        if n <= 0:
            return b""
        data = self._backend.get_range(self._key, self._pos, n)
        self._pos += len(data)
        return data

    def close(self) -> None:
        pass


class SftpBackend(FsspecBackend):
    def __init__(
        self,
        factory: Callable[[], Any],
        root: str,
        display: str,
        *,
        timeout: float,
        block_size: int,
    ) -> None:
        self._factory = factory
        self._fs: Any = None
        self._fs_lock = threading.Lock()
        self.timeout = timeout
        super().__init__(None, root, display, atomic_put=False, block_size=block_size)
        self.is_s3 = False

    # fs is built on first use and rebuilt after a lost connection
    @property  # type: ignore[override]
    def fs(self) -> Any:
        with self._fs_lock:
            if self._fs is None:
                try:
                    self._fs = self._factory()
                except Exception as exc:
                    err = connect_error(self.display, exc)
                    if err is not None:
                        raise err from None
                    raise
            return self._fs

    @fs.setter
    def fs(self, value: Any) -> None:
        self._fs = value

    def _drop(self, fs: Any) -> None:
        with self._fs_lock:
            if self._fs is fs:
                self._fs = None
                self._made.clear()
        with contextlib.suppress(Exception):
            fs.close_session(fs.loop, fs._pool, fs._stack)  # not every version has it

    def _run(self, fn: Callable[[Any], Any]) -> Any:
        fs = self.fs
        try:
            return fn(fs)
        except Exception as exc:
            if isinstance(exc, FileNotFoundError | PermissionError) or not _lost(exc):
                raise
            self._drop(fs)
            detail = " ".join(str(exc).split()) or "no details"
            raise SftpConnectionLost(f"{type(exc).__name__}: {detail}") from exc

    def list_keys(self, prefix: str) -> Iterator[str]:
        for key, _size, _mtime in self.list_times(prefix):
            yield key

    def list_times(self, prefix: str) -> Iterator[KeyTime]:
        top = self.path(prefix).rstrip("/")

        def find(fs: Any) -> dict[str, Any]:
            return dict(fs.find(top, detail=True))

        try:
            infos = self.retrier(lambda: self._run(find))
        except FileNotFoundError:
            return
        from gitml.remotes.backends import info_time

        cut = len(self.root) + 1
        for name, info in infos.items():
            key = name[cut:] if name.startswith(self.root + "/") else name
            if not key.rsplit("/", 1)[-1].startswith("."):
                yield key, int(info.get("size") or 0), info_time(info)

    def size(self, key: str) -> int | None:
        try:
            info = self._run(lambda fs: fs.info(self.path(key), timeout=self.timeout))
        except FileNotFoundError:
            return None
        return int(info["size"])

    def _parent(self, key: str) -> None:
        parent = self.path(key).rsplit("/", 1)[0]
        with self._lock:
            if parent in self._made:
                return
        self._run(lambda fs: fs.makedirs(parent, exist_ok=True, timeout=self.timeout))
        with self._lock:
            self._made.add(parent)

    def put_bytes(self, key: str, data: bytes) -> None:
        self._parent(key)
        tmp = self.path(temp_key(key))

        def put(fs: Any) -> None:
            fs.pipe_file(tmp, data, timeout=self.timeout)
            fs.mv(tmp, self.path(key), timeout=self.timeout)

        self._run(put)

    def open_writer(self, key: str) -> Writer:
        from gitml.remotes.backends import FsspecWriter

        self._parent(key)
        tmp, final = self.path(temp_key(key)), self.path(key)
        return self._run(lambda fs: FsspecWriter(fs, tmp, final, self.block_size))  # type: ignore[no-any-return]

    def open_reader(self, key: str) -> Reader:
        size = self.size(key)
        if size is None:
            raise FileNotFoundError(self.path(key))
        return _RangeReader(self, key, size)

    def get_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        path = self.path(key)

        async def ranged(fs: Any) -> bytes:
            import asyncssh

            out = bytearray()
            try:
                async with fs._pool.get() as channel, channel.open(path, "rb") as fh:
                    while len(out) < length:  # a server may answer a read in parts
                        chunk = await fh.read(length - len(out), start + len(out))
                        if not chunk:
                            break
                        out += chunk
            except asyncssh.SFTPNoSuchFile:
                raise FileNotFoundError(path) from None
            return bytes(out)

        def read(fs: Any) -> bytes:
            from fsspec.asyn import sync

            return bytes(sync(fs.loop, ranged, fs, timeout=self.timeout))

        return bytes(self._run(read))

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            path = self.path(key)

            def remove(fs: Any, path: str = path) -> None:
                fs.rm_file(path, timeout=self.timeout)

            with contextlib.suppress(FileNotFoundError):
                self._run(remove)

    def close(self) -> None:
        fs = self._fs
        if fs is not None:
            self._drop(fs)
