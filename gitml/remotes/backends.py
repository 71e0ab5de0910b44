"""Storage backends: the few byte-level operations a remote needs.

Keys are relative to the remote root (``objects/ab/cdef...``). Every write is
all-or-nothing under the final key:

* folder remote (``local.py``): write a temp file beside the final name (big
  objects: a kernel copy, fsync'd by the worker that wrote it); :meth:`Backend.flush`
  then makes the other temp files durable (an fsync each for a few, one ``syncfs`` of
  the remote's filesystem for more), renames every finished temp file to its final
  name and fsyncs the folders (or syncs the filesystem) again. An object therefore
  never has its final name before its bytes are on disk (a power cut cannot leave a
  short object that later pushes would skip), and ``flush`` returning means the
  renames are durable too. One sync per batch of many small objects instead of an
  fsync per file (~3x faster on 100,000 small files).
* S3, GCS, Azure (:class:`FsspecBackend` with ``atomic_put``): a PUT is atomic, so
  objects go straight to their final key; big objects use a multipart upload that is
  aborted, never completed, when the bytes turn out wrong.
* SFTP (:class:`FsspecBackend` without ``atomic_put``): temp name + rename.

Leftover temp files (a killed process) are named ``.<name>.<hex>.tmp``; listings
ignore them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import inspect
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from gitml.remotes.retry import DeadlineExceeded, Retrier, RetryPolicy


class Reader(Protocol):
    size: int | None

    def read(self, n: int = -1) -> bytes: ...

    def close(self) -> None: ...


class Writer(Protocol):
    def write(self, data: bytes) -> None: ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...


# (key, size, modification time in epoch seconds or None when unknown)
KeyTime = tuple[str, int, float | None]


def info_time(info: dict[str, Any]) -> float | None:
    """The modification time in an fsspec ``info`` dict; its key and type differ
    by filesystem (local: mtime float; S3: LastModified datetime; GCS: updated
    string; Azure: last_modified datetime). None if there is none."""
    for name in ("mtime", "LastModified", "last_modified", "updated", "modified", "created"):
        value = info.get(name)
        if value is None:
            continue
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, datetime.datetime):
            return value.timestamp()
        if isinstance(value, str):
            try:
                return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None


def temp_key(key: str) -> str:
    head, _, name = key.rpartition("/")
    tmp = f".{name}.{secrets.token_hex(6)}.tmp"
    return f"{head}/{tmp}" if head else tmp


class Backend(ABC):
    """Byte-level access to one remote root."""

    display: str
    retrier: Retrier = Retrier(RetryPolicy(attempts=1))  # the Remote installs its own
    deadline: float | None = None  # seconds one request may take in all (the Remote sets it)
    # called once a request has waited a while: (seconds so far, deadline); the Remote
    # turns it into a warning so a slow endpoint is visible long before the deadline
    on_slow: Callable[[float, float], None] | None = None

    @abstractmethod
    def list_keys(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix`` (recursive; pagination is the backend's job)."""

    def list_times(self, prefix: str) -> Iterator[KeyTime]:
        """Every key under ``prefix`` with its size and modification time (epoch
        seconds; None where the backend does not say). For gc's grace period."""
        for key in self.list_keys(prefix):
            yield key, self.size(key) or 0, None

    @abstractmethod
    def size(self, key: str) -> int | None:
        """The size of ``key``, or None if it does not exist."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def open_writer(self, key: str) -> Writer: ...

    @abstractmethod
    def open_reader(self, key: str) -> Reader: ...

    @abstractmethod
    def delete(self, keys: list[str]) -> None: ...

    @abstractmethod
    def get_range(self, key: str, start: int, length: int) -> bytes:
        """``length`` bytes of ``key`` from ``start`` (one ranged request)."""

    def get_bytes(self, key: str) -> bytes:
        reader = self.open_reader(key)
        try:
            return reader.read()
        finally:
            reader.close()

    def put_file(self, key: str, src_fd: int, size: int, oid: str) -> bool | None:
        """Store ``size`` bytes of the open local file ``src_fd`` under ``key`` the
        backend's own fast way, checking that the bytes *written* hash to ``oid``:
        True once stored (durable at the next :meth:`flush`), False when they do
        not match (nothing stored), None when the backend has no such way (the
        caller streams the bytes through :meth:`open_writer`)."""
        return None

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Make every write so far durable under its final key."""

    def cleanup(self, prefix: str, older_than: float) -> int:
        """Remove leftovers of killed writes (temp files, incomplete multipart uploads)
        started more than ``older_than`` seconds ago; return how many."""
        return 0

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


# ---------------------------------------------------------------- fsspec


class FsspecWriter:
    def __init__(self, fs: Any, path: str, final: str | None, block_size: int) -> None:
        self._fs = fs
        self._path = path
        self._final = final  # rename target when writing to a temp name
        self._fh = fs.open(path, "wb", block_size=block_size)

    def write(self, data: bytes) -> None:
        self._fh.write(data)

    def commit(self) -> None:
        self._fh.close()
        if self._final is not None:
            self._fs.mv(self._path, self._final)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._fh.discard()  # S3/GCS/Azure: aborts the (multipart) upload
        try:
            self._fh.closed = True  # buffered files: neither close() nor __del__ commits now
        except AttributeError:  # a plain file object (temp name): closing it is harmless
            with contextlib.suppress(Exception):
                self._fh.close()
        if self._final is not None:
            with contextlib.suppress(Exception):
                self._fs.rm_file(self._path)


class _FsspecReader:
    def __init__(self, fs: Any, path: str) -> None:
        self._fh = fs.open(path, "rb", cache_type="none")
        self.size: int | None = self._fh.size

    def read(self, n: int = -1) -> bytes:
        return bytes(self._fh.read(n))

    def close(self) -> None:
        self._fh.close()


class _S3Reader:
    """One GET streamed to the end (s3fs's file object would HEAD first); the GET
    and each read of the body are bounded by the backend's deadline."""

    def __init__(self, backend: FsspecBackend, bucket: str, key: str) -> None:
        self._backend = backend
        resp = backend.run("call_s3", "get_object", Bucket=bucket, Key=key)
        self._body = resp["Body"]
        self.size: int | None = resp.get("ContentLength")

    def read(self, n: int = -1) -> bytes:
        return bytes(self._backend.bounded(self._body.read, None if n < 0 else n))

    def close(self) -> None:
        self._body.close()


class _S3Writer:
    """A multipart upload, one bounded request per part (``block_size`` bytes, the
    last may be shorter); completed only by :meth:`commit`, aborted otherwise, so the
    key never holds a partial object. Nothing written at all: one PUT."""

    def __init__(self, backend: FsspecBackend, bucket: str, key: str, block_size: int) -> None:
        self._backend = backend
        self._where = {"Bucket": bucket, "Key": key}
        self._block = block_size
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def _call(self, op: str, **kwargs: Any) -> Any:
        return self._backend.run("call_s3", op, **self._where, **kwargs)

    def _send(self, data: bytes) -> None:
        if self._upload_id is None:
            self._upload_id = self._call("create_multipart_upload")["UploadId"]
        number = len(self._parts) + 1
        resp = self._call("upload_part", UploadId=self._upload_id, PartNumber=number, Body=data)
        self._parts.append({"ETag": resp["ETag"], "PartNumber": number})

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= self._block:
            part = bytes(self._buffer[: self._block])
            del self._buffer[: self._block]
            self._send(part)

    def commit(self) -> None:
        if self._upload_id is None:
            self._call("put_object", Body=bytes(self._buffer))
            return
        if self._buffer:
            self._send(bytes(self._buffer))
            self._buffer.clear()
        self._call(
            "complete_multipart_upload",
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )

    def abort(self) -> None:
        if self._upload_id is not None:
            with contextlib.suppress(Exception):
                self._call("abort_multipart_upload", UploadId=self._upload_id)


class FsspecBackend(Backend):
    """Any fsspec filesystem; ``root`` is the path in that filesystem's own spelling.

    ``deadline`` (seconds, set by the Remote from ``remote.<name>.timeout``) bounds
    each request as a whole, not only each socket read: every call into an async
    filesystem runs its coroutine with that timeout (fsspec cancels it when it
    expires) and raises :class:`DeadlineExceeded`. So a trickling endpoint that
    sends a byte every few seconds cannot hold a command forever. Streamed reads
    and writes are bounded per chunk/part, so big objects are not limited."""

    def __init__(
        self, fs: Any, root: str, display: str, *, atomic_put: bool, block_size: int = 8 << 20
    ) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.display = display
        self.atomic_put = atomic_put
        self.is_s3 = "s3" in _protocols(fs)
        self.block_size = max(block_size, 5 << 20) if self.is_s3 else block_size  # S3 part min
        self._made: set[str] = set()
        self._lock = threading.Lock()

    def path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def bounded(self, coro_fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run the coroutine function on the filesystem's loop within the deadline
        (cancelled when it passes); :attr:`on_slow` hears of it at a quarter of it."""
        deadline = self.deadline
        if not deadline:
            from fsspec.asyn import sync

            return sync(self.fs.loop, coro_fn, *args, **kwargs)
        start = time.monotonic()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.wait_for(coro_fn(*args, **kwargs), deadline), self.fs.loop
        )
        try:
            try:
                return future.result(timeout=min(30.0, max(1.0, deadline / 4)))
            except TimeoutError:
                if future.done():  # the request itself timed out
                    raise
            if self.on_slow is not None:
                self.on_slow(time.monotonic() - start, deadline)
            return future.result()
        except TimeoutError as exc:
            if time.monotonic() - start >= deadline * 0.9:  # ours, not a socket timeout
                raise DeadlineExceeded(deadline) from exc
            raise
        except BaseException:  # Ctrl-C while waiting: stop the request too
            future.cancel()
            raise

    def run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``fs.<name>(...)``, within the deadline when the filesystem is async (its
        coroutine ``_<name>``); a plain call otherwise."""
        coro_fn = getattr(self.fs, f"_{name}", None)
        if (
            self.deadline
            and getattr(self.fs, "async_impl", False)
            and inspect.iscoroutinefunction(coro_fn)
        ):
            return self.bounded(coro_fn, *args, **kwargs)
        return getattr(self.fs, name)(*args, **kwargs)

    def _parent(self, key: str) -> None:
        if self.atomic_put:
            return
        parent = self.path(key).rsplit("/", 1)[0]
        with self._lock:
            if parent in self._made:
                return
        self.run("makedirs", parent, exist_ok=True)
        with self._lock:
            self._made.add(parent)

    def list_keys(self, prefix: str) -> Iterator[str]:
        if self.is_s3:
            yield from self._s3_keys(prefix)
            return
        top = self.path(prefix).rstrip("/")
        cut = len(self.root) + 1
        try:
            names = self.retrier(lambda: self.run("find", top))
        except FileNotFoundError:
            return
        for name in names:
            name = name.lstrip("/") if not self.root.startswith("/") else name
            key = name[cut:] if name.startswith(self.root + "/") else name
            if not key.rsplit("/", 1)[-1].startswith("."):
                yield key

    def _s3_keys(self, prefix: str) -> Iterator[str]:
        for key, _item in self._s3_items(prefix):
            yield key

    def _s3_items(self, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """ListObjectsV2 page by page (1,000 keys each), each page retried on its own."""
        bucket, _, root_key = self.root.partition("/")
        base = f"{root_key}/" if root_key else ""
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": f"{base}{prefix.strip('/')}/"}
        while True:
            page = self.retrier(
                functools.partial(self.run, "call_s3", "list_objects_v2", **request)
            )
            for item in page.get("Contents", ()):
                key = item["Key"][len(base) :]
                if not key.rsplit("/", 1)[-1].startswith("."):
                    yield key, item
            if not page.get("IsTruncated"):
                return
            request["ContinuationToken"] = page["NextContinuationToken"]

    def list_times(self, prefix: str) -> Iterator[KeyTime]:
        if self.is_s3:  # the listing itself carries Size and LastModified
            for key, item in self._s3_items(prefix):
                yield key, int(item.get("Size", 0)), info_time(item)
            return
        top = self.path(prefix).rstrip("/")
        cut = len(self.root) + 1
        try:
            infos = self.retrier(lambda: self.run("find", top, detail=True))
        except FileNotFoundError:
            return
        for name, info in infos.items():
            name = name.lstrip("/") if not self.root.startswith("/") else name
            key = name[cut:] if name.startswith(self.root + "/") else name
            if not key.rsplit("/", 1)[-1].startswith("."):
                yield key, int(info.get("size") or 0), info_time(info)

    def size(self, key: str) -> int | None:
        if self.is_s3:
            bucket, _, obj = self.path(key).partition("/")
            try:
                head = self.run("call_s3", "head_object", Bucket=bucket, Key=obj)
            except FileNotFoundError:
                return None
            return int(head["ContentLength"])
        try:
            return int(self.run("info", self.path(key))["size"])
        except FileNotFoundError:
            return None

    def put_bytes(self, key: str, data: bytes) -> None:
        self._parent(key)
        if self.atomic_put:
            self.run("pipe_file", self.path(key), data)
            return
        tmp = self.path(temp_key(key))
        self.run("pipe_file", tmp, data)
        self.fs.mv(tmp, self.path(key))

    def open_writer(self, key: str) -> Writer:
        self._parent(key)
        if self.is_s3:
            bucket, _, obj = self.path(key).partition("/")
            return _S3Writer(self, bucket, obj, self.block_size)
        if self.atomic_put:
            return FsspecWriter(self.fs, self.path(key), None, self.block_size)
        return FsspecWriter(self.fs, self.path(temp_key(key)), self.path(key), self.block_size)

    def open_reader(self, key: str) -> Reader:
        if self.is_s3:
            bucket, _, obj = self.path(key).partition("/")
            return _S3Reader(self, bucket, obj)
        return _FsspecReader(self.fs, self.path(key))

    def get_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        if not self.is_s3:
            return bytes(self.run("cat_file", self.path(key), start=start, end=start + length))
        bucket, _, obj = self.path(key).partition("/")
        rng = f"bytes={start}-{start + length - 1}"
        resp = self.run("call_s3", "get_object", Bucket=bucket, Key=obj, Range=rng)
        body = resp["Body"]
        try:
            return bytes(self.bounded(body.read))
        finally:
            body.close()

    def cleanup(self, prefix: str, older_than: float) -> int:
        if not self.is_s3:
            return 0  # SFTP temp names: left to the server's owner (no cheap mtime listing)
        bucket, _, root_key = self.root.partition("/")
        request: dict[str, Any] = {
            "Bucket": bucket,
            "Prefix": f"{root_key}/{prefix}/" if root_key else f"{prefix}/",
        }
        cutoff = time.time() - older_than
        removed = 0
        while True:
            page = self.retrier(
                functools.partial(self.run, "call_s3", "list_multipart_uploads", **request)
            )
            for upload in page.get("Uploads", ()):
                if upload["Initiated"].timestamp() < cutoff:
                    self.retrier(
                        functools.partial(
                            self.run,
                            "call_s3",
                            "abort_multipart_upload",
                            Bucket=bucket,
                            Key=upload["Key"],
                            UploadId=upload["UploadId"],
                        )
                    )
                    removed += 1
            if not page.get("IsTruncated"):
                return removed
            request["KeyMarker"] = page.get("NextKeyMarker")
            request["UploadIdMarker"] = page.get("NextUploadIdMarker")

    def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        paths = [self.path(k) for k in keys]
        if self.is_s3:
            self.run("rm", paths)  # DeleteObjects, 1,000 keys per request
            return
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                self.run("rm_file", path)


def _protocols(fs: Any) -> tuple[str, ...]:
    proto = getattr(fs, "protocol", ())
    return (proto,) if isinstance(proto, str) else tuple(proto)
