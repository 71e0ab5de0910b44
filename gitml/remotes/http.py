"""Read-only HTTP(S) remotes: a web server or CDN serving a remote's folder tree.

A team publishes a remote (a folder, or a bucket) over plain HTTP(S) so that
readers need no cloud credentials; ``gitml fetch``/``pull``/``status --remote``/
``fsck --remote`` work, ``push`` and remote ``gc`` are refused before anything is
sent. Needed from the server: GET and HEAD of a file, single byte ranges (206) for
packed objects, and directory index pages (HTML links, as ``python -m http.server``,
nginx ``autoindex`` or Apache ``mod_autoindex`` serve them) for listings.
Timeouts: aiohttp's connect and socket-read timeouts (set where the filesystem is
made, ``connect._http``) bound every request, streamed or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NoReturn

from gitml.errors import RemoteError
from gitml.remotes.backends import FsspecBackend, KeyTime, Reader, Writer
from gitml.remotes.retry import TransientError


def read_only_error(display: str) -> RemoteError:
    return RemoteError(
        f"remote {display} is read-only: http(s) remotes serve fetch and pull only",
        "push to the store behind it (a folder, s3://, gs://, az:// or ssh:// remote) "
        "with gitml push -r NAME",
    )


class ShortRangeError(TransientError):
    """The server answered a ranged read with the wrong number of bytes."""


class _StreamReader:
    """One streamed GET; its size from Content-Length (the downloader checks it)."""

    def __init__(self, fs: Any, url: str) -> None:
        self._fh = fs.open(url, "rb", block_size=0)  # fsspec's HTTPStreamFile
        length = self._fh.r.headers.get("Content-Length")
        self.size: int | None = int(length) if length and length.isdigit() else None

    def read(self, n: int = -1) -> bytes:
        return bytes(self._fh.read(n))

    def close(self) -> None:
        self._fh.close()


class HttpBackend(FsspecBackend):
    read_only = True

    def __init__(self, fs: Any, root: str, display: str) -> None:
        super().__init__(fs, root, display, atomic_put=True)

    def _refuse(self, *_: Any) -> NoReturn:
        raise read_only_error(self.display)

    def put_bytes(self, key: str, data: bytes) -> None:
        self._refuse()

    def open_writer(self, key: str) -> Writer:
        self._refuse()

    def delete(self, keys: list[str]) -> None:
        if keys:
            self._refuse()

    def list_keys(self, prefix: str) -> Iterator[str]:
        top = self.path(prefix).rstrip("/") + "/"
        try:
            names = self.retrier(lambda: self.fs.find(top))
        except FileNotFoundError:
            return
        cut = len(self.root) + 1
        for name in names:
            key = name[cut:] if name.startswith(self.root + "/") else None
            if key and not key.endswith("/") and not key.rsplit("/", 1)[-1].startswith("."):
                yield key

    def list_times(self, prefix: str) -> Iterator[KeyTime]:
        # index pages carry no sizes: one HEAD per key (packs/ holds few files)
        for key in list(self.list_keys(prefix)):
            size = self.retrier(lambda k=key: self.size(k))  # type: ignore[misc]
            if size is not None:
                yield key, size, None

    def size(self, key: str) -> int | None:
        try:
            info = self.fs.info(self.path(key))
        except FileNotFoundError:
            return None
        size = info.get("size")
        return int(size) if size is not None else None

    def open_reader(self, key: str) -> Reader:
        return _StreamReader(self.fs, self.path(key))

    def get_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        data = bytes(self.fs.cat_file(self.path(key), start=start, end=start + length))
        if len(data) != length:
            raise ShortRangeError(
                f"{self.display}: asked for {length} bytes at {start}, got {len(data)} "
                "(does the server support Range requests?)"
            )
        return data

    def cleanup(self, prefix: str, older_than: float) -> int:
        return 0
