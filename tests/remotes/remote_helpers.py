"""Helpers for remote tests: build a folder or moto S3 remote (optionally behind the
fault proxy) and reach behind its back (raw keys, corruption, seeding)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gitml.config import RemoteConfig  # noqa: E402
from gitml.remotes import Remote, RemoteOptions, RetryPolicy, parse_url  # noqa: E402
from gitml.remotes.backends import FsspecBackend  # noqa: E402
from gitml.store.objects import ObjectStore  # noqa: E402
from tests.servers import Bucket  # noqa: E402
from tests.testing.backends import Location, location  # noqa: E402

FAST_RETRY = RetryPolicy(attempts=4, base=0.01, cap=0.05)
FAST = RemoteOptions(connect_timeout=5.0, read_timeout=15.0, retry=FAST_RETRY)


def fill(store: ObjectStore, n: int, *, size: int = 100, seed: int = 0) -> list[str]:
    """Add ``n`` distinct objects of about ``size`` bytes; return their oids."""
    oids = []
    with store.batch() as batch:
        for i in range(n):
            data = f"object {seed}-{i} ".encode() * max(1, size // 12)
            oids.append(batch.add_bytes(data))
    return oids


def add(store: ObjectStore, data: bytes) -> str:
    with store.batch() as batch:
        return batch.add_bytes(data)


def flip_file(path: Path) -> None:
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def assert_cache_clean(store: ObjectStore) -> None:
    """Every object in the cache matches its name; no temp file is left."""
    for oid in store.iter_oids():
        assert store.verify(oid), f"corrupt object {oid} in the cache"
    tmp = store.root / "tmp"
    assert not tmp.exists() or not any(tmp.iterdir()), list(tmp.iterdir())


@dataclass
class Handle:
    """A remote under test plus raw access to its storage."""

    kind: str
    remote: Remote
    url: str
    root: Path | None = None  # folder remotes
    bucket: Bucket | None = None  # S3 remotes
    prefix: str = "remote"
    proxy: Any = None  # FaultProxy, or the SFTP server's injector (same calls)
    writer: Remote | None = None  # where uploads go: the remote itself, but for http

    def __post_init__(self) -> None:
        if self.writer is None:
            self.writer = self.remote

    def _s3(self) -> Any:
        assert self.bucket is not None
        return self.bucket.server.client()

    def raw_keys(self) -> set[str]:
        if self.root is not None:
            return {
                str(p.relative_to(self.root))
                for p in self.root.rglob("*")
                if p.is_file() and not p.name.startswith(".")
            }
        assert self.bucket is not None
        pages = (
            self._s3()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket.name, Prefix=self.prefix + "/")
        )
        cut = len(self.prefix) + 1
        return {o["Key"][cut:] for page in pages for o in page.get("Contents", [])}

    def get_raw(self, key: str) -> bytes:
        if self.root is not None:
            return (self.root / key).read_bytes()
        assert self.bucket is not None
        obj = self._s3().get_object(Bucket=self.bucket.name, Key=f"{self.prefix}/{key}")
        return bytes(obj["Body"].read())

    def put_raw(self, key: str, data: bytes) -> None:
        if self.root is not None:
            path = self.root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                os.chmod(path, 0o644)
            path.write_bytes(data)
            return
        assert self.bucket is not None
        self._s3().put_object(Bucket=self.bucket.name, Key=f"{self.prefix}/{key}", Body=data)

    def corrupt(self, oid: str) -> None:
        key = Remote.key(oid)
        data = bytearray(self.get_raw(key))
        data[len(data) // 2] ^= 0x01
        self.put_raw(key, bytes(data))

    def seed_keys(self, keys: list[str]) -> None:
        """Create many (fake-content) objects quickly, bypassing the remote API."""
        if self.root is not None:
            for key in keys:
                self.put_raw(key, b"x")
            return
        assert self.bucket is not None
        self.bucket.server.seed(self.bucket.name, {f"{self.prefix}/{k}": b"x" for k in keys})

    def all_good(self, tmp: Path) -> None:
        """Everything on the remote downloads and verifies."""
        fresh = ObjectStore(tmp / f"verify-{os.urandom(4).hex()}")
        oids = self.remote.list_oids()
        result = self.remote.download(fresh, oids)
        assert result.ok, result.failed
        assert_cache_clean(fresh)


MakeRemote = Callable[..., Handle]


def _make(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, proxied: bool = True
) -> MakeRemote:
    places: list[Location] = []  # one remote per test, however often make() is called

    def make_other(options: RemoteOptions, **config: Any) -> Handle:
        if not places:
            places.append(location(kind, request, tmp_path, proxied=proxied))
        place = places[0]
        cfg = RemoteConfig(**{**place.config(), **config})
        remote = Remote.from_config(cfg, options=options)
        writer = None
        if place.writer is not None:
            writer = Remote.from_config(RemoteConfig(**place.writer.config()), options=options)
        return Handle(kind, remote, place.url, proxy=place.faults, writer=writer)

    def make(options: RemoteOptions = FAST, **config: Any) -> Handle:
        if kind in ("gs", "az", "ssh", "http"):
            return make_other(options, **config)
        if kind == "fsspec":  # the generic fsspec path, with sshfs's temp + rename writes
            import fsspec

            root = tmp_path / f"remote-{os.urandom(3).hex()}"
            root.mkdir()
            backend = FsspecBackend(
                fsspec.filesystem("file"), str(root), str(root), atomic_put=False
            )
            remote = Remote(parse_url(str(root)), backend, name="origin", options=options)
            return Handle(kind, remote, str(root), root=root)
        if kind == "local":
            root = tmp_path / f"remote-{os.urandom(3).hex()}"
            cfg = RemoteConfig(name="origin", url=str(root), **config)
            return Handle(kind, Remote.from_config(cfg, options=options), str(root), root=root)
        bucket: Bucket = request.getfixturevalue("s3_bucket")
        endpoint = bucket.endpoint_url
        proxy = None
        if proxied:
            proxy = request.getfixturevalue("fault_proxy")
            endpoint = proxy.url
        url = bucket.url("remote")
        config.setdefault("endpoint_url", endpoint)
        cfg = RemoteConfig(name="origin", url=url, **config)
        remote = Remote.from_config(cfg, options=options)
        return Handle(kind, remote, url, bucket=bucket, proxy=proxy)

    return make
