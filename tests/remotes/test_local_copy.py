"""Folder remotes: big objects are pushed as kernel copies verified as they land, made
durable with fsync (never a machine-wide ``os.sync``), and wrong bytes never get a
name, on the way up or down."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from gitml.remotes import local
from gitml.store import bulk
from gitml.store.objects import ObjectStore
from tests.remotes.remote_helpers import (
    FAST,
    Handle,
    _make,
    add,
    assert_cache_clean,
    fill,
    flip_file,
)

BIG = dataclasses.replace(FAST, small_object=64 * 1024, chunk_size=32 * 1024)


def _no_global_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("os.sync() flushes every dirty page of the machine")

    monkeypatch.setattr(os, "sync", refuse)


def _leftovers(root: Path) -> list[Path]:
    return list(root.rglob(".*.tmp"))


def _remote(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Handle, Path]:
    handle = _make("local", request, tmp_path)(BIG)
    assert handle.root is not None
    return handle, handle.root


def test_big_objects_go_by_kernel_copy_and_fsync(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    store: ObjectStore,
    other_store: ObjectStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handle, root = _remote(tmp_path, request)
    big = [add(store, os.urandom(300 * 1024 + i)) for i in range(3)]
    small = fill(store, 3)
    calls: list[int] = []
    real = bulk.copy_pipelined

    def counting(*args: object, **kw: object) -> int:
        calls.append(1)
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(local, "copy_pipelined", counting)
    _no_global_sync(monkeypatch)
    result = handle.remote.upload(store, [*big, *small])
    assert result.ok and len(calls) == 3
    assert not _leftovers(root)
    for oid in big:
        assert (root / handle.remote.key(oid)).read_bytes() == store.object_path(oid).read_bytes()

    down = handle.remote.download(other_store, [*big, *small])
    assert down.ok and sorted(down.transferred) == sorted([*big, *small])
    assert_cache_clean(other_store)


def test_wrong_bytes_get_no_name_either_way(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    store: ObjectStore,
    other_store: ObjectStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handle, root = _remote(tmp_path, request)
    good = add(store, os.urandom(400 * 1024))
    bad = add(store, os.urandom(400 * 1024))
    flip_file(store.object_path(bad))
    _no_global_sync(monkeypatch)
    up = handle.remote.upload(store, [good, bad])
    assert list(up.failed) == [bad] and "corrupt in the local cache" in up.failed[bad]
    assert handle.remote.list_oids() == {good}
    assert not _leftovers(root)

    handle.corrupt(good)
    down = handle.remote.download(other_store, [good])
    assert list(down.failed) == [good] and "do not match" in down.failed[good]
    assert not other_store.has(good)
    assert_cache_clean(other_store)
