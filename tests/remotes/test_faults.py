"""Faults between gitml and each networked backend (``make_faulty``: the HTTP fault
proxy of tests/servers.py in front of S3, GCS, Azure and a web server; faults inside
the SFTP server for ssh): retried with backoff, bounded by timeouts, clean failures,
and nothing corrupt in the cache or on the remote. One suite, every backend."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from gitml.errors import RemoteError
from gitml.store.objects import ObjectStore
from tests.remotes.remote_helpers import (
    FAST,
    FAST_RETRY,
    Handle,
    MakeRemote,
    assert_cache_clean,
    fill,
)

ONE_TRY = dataclasses.replace(FAST, retry=dataclasses.replace(FAST_RETRY, attempts=2))


def _writes(handle: Handle) -> None:
    if handle.kind == "http":
        pytest.skip("http remotes are read-only: no upload to break")


def _statuses(handle: Handle) -> None:
    if handle.kind == "ssh":
        pytest.skip("SFTP has no retryable status codes (dropped connections are tested)")


def _uploaded(make: MakeRemote, store: ObjectStore, n: int = 4) -> tuple[Handle, list[str]]:
    handle = make()
    oids = fill(store, n, size=2000)
    assert handle.writer is not None and handle.writer.upload(store, oids).ok
    assert handle.proxy is not None
    handle.remote.load_packs()  # so faults hit object reads, not the packs/ listing
    handle.proxy.reset()
    return handle, oids


def _finish(handle: Handle, tmp_path: Path, *stores: ObjectStore) -> None:
    assert handle.proxy is not None
    handle.proxy.reset()
    for store in stores:
        assert_cache_clean(store)
    handle.all_good(tmp_path)


def test_503_then_success(make_faulty: MakeRemote, store: ObjectStore, tmp_path: Path) -> None:
    handle = make_faulty()
    _writes(handle)
    _statuses(handle)
    assert handle.proxy is not None
    oids = fill(store, 4)
    handle.proxy.fail_next(3, status=503, method="PUT")
    result = handle.remote.upload(store, oids, jobs=2)
    assert result.ok, result.failed
    assert handle.proxy.hits["status"] == 3 and result.retries >= 3
    assert handle.remote.list_oids() == set(oids)
    _finish(handle, tmp_path, store)


def test_500_on_download_then_success(
    make_faulty: MakeRemote, store: ObjectStore, other_store: ObjectStore, tmp_path: Path
) -> None:
    handle, oids = _uploaded(make_faulty, store)
    _statuses(handle)
    assert handle.proxy is not None
    handle.proxy.fail_next(2, status=500, method="GET")
    result = handle.remote.download(other_store, oids, remote_oids=set(oids))
    assert result.ok, result.failed
    assert handle.proxy.hits["status"] == 2
    _finish(handle, tmp_path, other_store)


def test_dropped_connections_are_retried(
    make_faulty: MakeRemote, store: ObjectStore, other_store: ObjectStore, tmp_path: Path
) -> None:
    handle = make_faulty()
    proxy = handle.proxy
    assert proxy is not None
    oids = fill(store, 4, size=2000)
    drops = 2
    if handle.kind != "http":
        proxy.drop_next(2, stage="request", method="PUT")  # before the server saw it
        proxy.drop_next(1, after_bytes=0, method="PUT")  # stored, but the answer is lost
        drops += 3
    assert handle.writer is not None and handle.writer.upload(store, oids, jobs=2).ok
    handle.remote.load_packs()
    proxy.drop_next(2, after_bytes=200, method="GET")  # a short body mid-download
    result = handle.remote.download(other_store, oids, remote_oids=set(oids))
    assert result.ok, result.failed
    assert proxy.hits["drop"] == drops
    _finish(handle, tmp_path, other_store)


def test_stall_times_out_then_retries(
    make_faulty: MakeRemote, store: ObjectStore, other_store: ObjectStore, tmp_path: Path
) -> None:
    handle, oids = _uploaded(make_faulty, store, n=2)
    assert handle.proxy is not None
    quick = make_faulty(dataclasses.replace(FAST, read_timeout=0.5))
    quick.proxy = handle.proxy
    quick.remote.load_packs()
    # Two stalls: one GET may be a read the client does not wait for (GCS
    # clients fire some off); at least one lands on a read the download needs.
    handle.proxy.stall_next(2, seconds=6, method="GET")
    start = time.monotonic()
    result = quick.remote.download(other_store, oids, remote_oids=set(oids))
    assert result.ok, result.failed
    assert time.monotonic() - start < 5  # the 6 s stall was cut by the 0.5 s timeout
    assert result.retries >= 1
    _finish(handle, tmp_path, other_store)


def test_stall_every_time_fails_cleanly(
    make_faulty: MakeRemote, store: ObjectStore, other_store: ObjectStore, tmp_path: Path
) -> None:
    handle, oids = _uploaded(make_faulty, store, n=1)
    assert handle.proxy is not None
    quick = make_faulty(dataclasses.replace(ONE_TRY, read_timeout=0.3))
    quick.remote.load_packs()
    handle.proxy.stall_next(100, seconds=1.0, method="GET")  # every read, every try
    result = quick.remote.download(other_store, oids, remote_oids=set(oids))
    assert list(result.failed) == oids
    reason = result.failed[oids[0]]
    assert "Timeout" in reason and "\n" not in reason
    assert not other_store.has(oids[0])
    _finish(handle, tmp_path, other_store)


def test_flipped_byte_is_rejected_then_retried(
    make_faulty: MakeRemote, store: ObjectStore, other_store: ObjectStore, tmp_path: Path
) -> None:
    handle, oids = _uploaded(make_faulty, store)
    assert handle.proxy is not None
    handle.proxy.flip_next(2)
    result = handle.remote.download(other_store, oids, remote_oids=set(oids))
    assert result.ok, result.failed
    assert handle.proxy.hits["flip"] == 2
    for oid in oids:
        assert other_store.read_bytes(oid) == store.read_bytes(oid)
    _finish(handle, tmp_path, other_store)


def test_flipped_byte_every_time_never_enters_cache(
    make_faulty: MakeRemote, store: ObjectStore, other_store: ObjectStore, tmp_path: Path
) -> None:
    handle, oids = _uploaded(make_faulty, store, n=2)
    assert handle.proxy is not None
    handle.proxy.flip_next(100)
    result = handle.remote.download(other_store, oids, remote_oids=set(oids))
    assert set(result.failed) == set(oids)
    assert all("do not match" in reason for reason in result.failed.values())
    assert not any(other_store.has(o) for o in oids)
    _finish(handle, tmp_path, other_store)


def test_persistent_503_fails_cleanly(
    make_faulty: MakeRemote, store: ObjectStore, tmp_path: Path
) -> None:
    handle = make_faulty(ONE_TRY)
    _writes(handle)
    _statuses(handle)
    assert handle.proxy is not None
    oids = fill(store, 3)
    handle.proxy.fail_next(100, status=503, method="PUT")
    result = handle.remote.upload(store, oids, remote_oids=set())
    assert set(result.failed) == set(oids) and not result.transferred
    for reason in result.failed.values():
        assert "\n" not in reason and ("SlowDown" in reason or "503" in reason), reason
    handle.proxy.reset()
    assert handle.remote.list_oids() == set()  # nothing half-written
    assert handle.remote.upload(store, oids).ok  # and a rerun completes
    _finish(handle, tmp_path, store)


def test_listing_failure_is_one_redacted_line(make_faulty: MakeRemote) -> None:
    handle = make_faulty(ONE_TRY)
    _statuses(handle)
    assert handle.proxy is not None
    handle.proxy.fail_next(100, status=500, method="GET")
    with pytest.raises(RemoteError) as info:
        handle.remote.list_oids()
    err = info.value
    assert "\n" not in err.message and handle.url in err.message
    assert err.hint and "run again" in err.hint
    assert err.exit_code == 4
