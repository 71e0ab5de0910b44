"""Packs: many small objects per remote file, verified like loose objects."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from gitml.remotes import Remote
from gitml.remotes.packs import (
    PackSet,
    decode_index,
    encode_index,
    group,
    index_key,
    pack_ids,
    pack_key,
    spans,
)
from gitml.store.objects import ObjectStore
from tests.remotes.remote_helpers import FAST, MakeRemote, add, assert_cache_clean, fill, flip_file

PACKED = dataclasses.replace(
    FAST, pack_min_objects=8, pack_max_objects=10, pack_object_max=64 * 1024
)
A, B, C = "a" * 64, "b" * 64, "c" * 64


def test_index_round_trip_and_strictness() -> None:
    data = encode_index([(A, 3), (B, 0), (C, 5)])
    assert decode_index(data) == {A: (0, 3), B: (3, 0), C: (3, 5)}
    assert decode_index(encode_index([])) == {}
    bad = [
        b"",
        b"nonsense\n",
        data[:-1],
        data.replace(b" 3 5", b" 4 5"),  # a gap
        data + f"{A} 8 1\n".encode(),  # a repeat
        data.replace(A.encode(), b"A" * 64),
        data + b"../x 8 1\n",
        encode_index([(A, 65 * 1024 * 1024)]),  # no reading gigabytes on a remote's word
    ]
    for item in bad:
        with pytest.raises(ValueError):
            decode_index(item)


def test_grouping_spans_and_pack_set() -> None:
    sizes = {f"{i:064x}": 10 for i in range(25)}
    groups = group(list(sizes), sizes, max_bytes=1000, max_objects=10)
    assert [len(g) for g in groups] == [10, 10, 5]
    assert [len(g) for g in group(list(sizes), sizes, max_bytes=35, max_objects=99)][:2] == [3, 3]
    entries = [("p", "o1", 0, 10), ("p", "o2", 10, 10), ("p", "o3", 5000, 10), ("q", "o4", 0, 5)]
    out = spans(entries, max_gap=100, max_len=1000)
    assert [(s.pack_id, s.start, s.length, len(s.entries)) for s in out] == [
        ("p", 0, 20, 2),
        ("p", 5000, 10, 1),
        ("q", 0, 5, 1),
    ]
    assert len(spans(entries[:2], max_gap=100, max_len=15)) == 2
    assert pack_ids([index_key(A), pack_key(B), "packs/x.idx", "packs/.t.tmp"]) == {A}
    packs = PackSet()
    packs.add("p1", {A: (0, 1), B: (1, 1)})
    packs.add("p2", {B: (0, 1)})
    packs.drop("p1")
    assert packs.where == {B: ("p2", 0, 1)}


def _packed(handle_remote: Remote, store: ObjectStore, n: int) -> list[str]:
    oids = fill(store, n, size=700)
    result = handle_remote.upload(store, oids, jobs=3)
    assert result.ok, result.failed
    assert sorted(result.transferred) == sorted(oids)
    return oids


def test_pack_round_trip(
    make_remote: MakeRemote, store: ObjectStore, other_store: ObjectStore, tmp_path: Path
) -> None:
    handle = make_remote(PACKED)
    big = add(store, os.urandom(100 * 1024))  # above pack_object_max: sent loose
    oids = _packed(handle.remote, store, 25)
    assert handle.remote.upload(store, [big]).ok
    keys = handle.raw_keys()
    assert len([k for k in keys if k.endswith(".idx")]) == 3  # 10 + 10 + 5
    assert len([k for k in keys if k.startswith("objects/")]) == 1
    assert handle.remote.list_oids() == {*oids, big}
    sizes = handle.remote.stat_many([*oids[:3], big])
    assert sizes == {o: store.object_path(o).stat().st_size for o in [*oids[:3], big]}

    again = handle.remote.upload(store, [*oids, big])
    assert again.transferred == [] and len(again.skipped) == 26

    fresh = Remote(handle.remote.url, handle.remote.backend, options=PACKED)  # cold state
    down = fresh.download(other_store, [*oids, big], jobs=3)
    assert down.ok, down.failed
    for oid in [*oids, big]:
        assert other_store.read_bytes(oid) == store.read_bytes(oid)
    assert_cache_clean(other_store)
    handle.all_good(tmp_path)


def test_corrupt_object_inside_a_pack_never_enters_cache(
    make_remote: MakeRemote, store: ObjectStore, other_store: ObjectStore
) -> None:
    handle = make_remote(PACKED)
    oids = _packed(handle.remote, store, 12)
    packs = handle.remote.load_packs()
    victim = oids[4]
    pack_id, offset, size = packs.where[victim]
    raw = bytearray(handle.get_raw(pack_key(pack_id)))
    raw[offset + size // 2] ^= 0x01
    handle.put_raw(pack_key(pack_id), bytes(raw))

    result = handle.remote.download(other_store, oids)
    assert list(result.failed) == [victim]
    assert "do not match" in result.failed[victim]
    assert not other_store.has(victim)
    assert sorted(result.transferred) == sorted(set(oids) - {victim})
    assert_cache_clean(other_store)


def test_corrupt_local_object_is_left_out_of_the_pack(
    make_remote: MakeRemote, store: ObjectStore
) -> None:
    handle = make_remote(PACKED)
    oids = fill(store, 9, size=300)
    flip_file(store.object_path(oids[3]))
    result = handle.remote.upload(store, oids)
    assert list(result.failed) == [oids[3]] and "corrupt" in result.failed[oids[3]]
    assert not store.has(oids[3])
    assert handle.remote.list_oids() == set(oids) - {oids[3]}


def test_delete_rewrites_packs(
    make_remote: MakeRemote, store: ObjectStore, other_store: ObjectStore, tmp_path: Path
) -> None:
    handle = make_remote(PACKED)
    oids = _packed(handle.remote, store, 15)  # packs of 10 and 5
    doomed = {oids[0], oids[1], *oids[10:]}  # two from the first pack, all of the second
    handle.remote.delete(sorted(doomed))
    assert handle.remote.list_oids() == set(oids) - doomed
    assert len([k for k in handle.raw_keys() if k.endswith(".idx")]) == 1
    fresh = Remote(handle.remote.url, handle.remote.backend, options=PACKED)
    assert fresh.list_oids() == set(oids) - doomed
    result = fresh.download(other_store, sorted(set(oids) - doomed))
    assert result.ok, result.failed
    handle.all_good(tmp_path)


def test_flipped_range_is_retried(
    make_s3: MakeRemote, store: ObjectStore, other_store: ObjectStore
) -> None:
    handle = make_s3(PACKED)
    assert handle.proxy is not None
    oids = _packed(handle.remote, store, 9)
    handle.proxy.reset()
    handle.proxy.flip_next(1)
    handle.proxy.drop_next(1, after_bytes=100, method="GET")
    result = handle.remote.download(other_store, oids, remote_oids=set(oids))
    assert result.ok, result.failed
    assert handle.proxy.hits["flip"] == 1 and handle.proxy.hits["drop"] == 1
    assert_cache_clean(other_store)
