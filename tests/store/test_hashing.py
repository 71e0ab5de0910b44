from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from gitml.errors import InputError
from gitml.store.hashing import CHUNK, MMAP_THRESHOLD, OID_RE, hash_bytes, hash_file, is_oid

# Official BLAKE3 test vectors: input is bytes(i % 251 for i in range(n)).
VECTORS = {
    0: "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
    1: "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213",
    1023: "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11",
    1024: "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7",
    102400: "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085",
}


def _input(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


@pytest.mark.parametrize("n", sorted(VECTORS))
def test_known_vectors(n: int, tmp_path: Path) -> None:
    assert hash_bytes(_input(n)) == VECTORS[n]
    path = tmp_path / "f"
    path.write_bytes(_input(n))
    assert hash_file(path) == (VECTORS[n], n)


def test_abc() -> None:
    assert hash_bytes(b"abc") == "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"


@pytest.mark.parametrize("size", [CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5, MMAP_THRESHOLD + 7])
def test_streamed_and_mmap_agree_with_bytes(size: int, tmp_path: Path) -> None:
    data = os.urandom(size)
    path = tmp_path / "big"
    path.write_bytes(data)
    assert hash_file(path) == (hash_bytes(data), size)


def test_is_oid() -> None:
    oid = hash_bytes(b"x")
    assert is_oid(oid) and OID_RE.match(oid)
    assert not is_oid(oid.upper())
    assert not is_oid(oid[:-1])
    assert not is_oid(oid + "0")
    assert not is_oid("../" + oid[3:])
    assert not is_oid(" " * 64)


def test_fifo_and_symlink_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    (tmp_path / "target").write_bytes(b"secret")
    link.symlink_to(tmp_path / "target")
    signal.alarm(10)  # a blocking open would hang the test: fail loudly instead
    try:
        with pytest.raises(InputError, match="not a regular file"):
            hash_file(fifo)
        with pytest.raises(InputError, match="symlink"):
            hash_file(link)
    finally:
        signal.alarm(0)
