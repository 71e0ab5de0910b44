"""Library-level checks run on every networked backend (``make_faulty``, no fault
injected): packed objects come back through ranged reads, and read-only remotes
refuse writes before sending anything."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitml.errors import RemoteError, UsageError
from gitml.remotes import parse_url
from gitml.store.objects import ObjectStore
from tests.remotes.remote_helpers import MakeRemote, assert_cache_clean, fill


def test_packed_objects_round_trip(
    make_faulty: MakeRemote, store: ObjectStore, other_store: ObjectStore, tmp_path: Path
) -> None:
    handle = make_faulty()
    oids = fill(store, 80, size=300)  # above pack_min_objects: sent as a pack
    assert handle.writer is not None and handle.writer.upload(store, oids).ok
    assert handle.remote.list_oids() == set(oids)
    assert handle.remote.load_packs().where.keys() == set(oids)
    result = handle.remote.download(other_store, oids)
    assert result.ok, result.failed
    for oid in oids:  # ranged reads (sshfs's cat_file ignores ranges: gitml does them)
        assert other_store.read_bytes(oid) == store.read_bytes(oid)
    assert_cache_clean(other_store)


def test_chunked_file_round_trip(make_faulty: MakeRemote, tmp_path: Path) -> None:
    """A file the cache keeps as chunks: its chunks, list and entry go up, and come
    back through each backend's listing, existence checks and ranged reads."""
    import random

    from gitml.remotes.chunked import entry_key

    handle = make_faulty()
    store = ObjectStore(tmp_path / "chunked-cache", chunk_min_file=1 << 20)
    data = random.Random(3).randbytes(3 << 20)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    with store.batch() as batch:
        oid, _size = batch.add_file(src)
    assert handle.writer is not None
    up = handle.writer.upload(store, [oid])
    assert up.ok and up.transferred == [oid], up.failed
    assert handle.remote.present([oid]) == {oid}
    assert handle.remote.backend.size(entry_key(oid)) == 65
    fresh = ObjectStore(tmp_path / "fresh")
    down = handle.remote.download(fresh, [oid])
    assert down.ok and down.transferred == [oid], down.failed
    assert fresh.read_bytes(oid) == data
    assert_cache_clean(fresh)


def test_http_remote_refuses_writes(
    make_faulty: MakeRemote, store: ObjectStore, request: pytest.FixtureRequest
) -> None:
    handle = make_faulty()
    if handle.kind != "http":
        pytest.skip("only http remotes are read-only")
    assert handle.proxy is not None
    oids = fill(store, 2)
    handle.proxy.reset()
    calls: list[Callable[[], object]] = [
        lambda: handle.remote.upload(store, oids),
        lambda: handle.remote.delete(oids),
    ]
    for call in calls:
        with pytest.raises(RemoteError) as info:
            call()
        assert "read-only" in info.value.message and info.value.exit_code == 4
    assert sum(handle.proxy.counts.values()) == 0  # refused before any request


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://cdn.example.com/team/data", "https://cdn.example.com/team/data"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("HTTPS://host:8443/a/b/", "https://host:8443/a/b"),
    ],
)
def test_http_urls(url: str, shown: str) -> None:
    parsed = parse_url(url)
    assert parsed.read_only and parsed.display() == shown


@pytest.mark.parametrize(
    "url", ["https://u:secret@host/x", "https://host/x?sig=abc", "http://-host/x", "https://h/../x"]
)
def test_bad_http_urls_are_refused(url: str) -> None:
    with pytest.raises(UsageError):
        parse_url(url)
