"""Manifest encoding: canonical, strict, and total on hostile input (hypothesis)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitml.errors import GitmlError, ManifestError, UnsafePathError
from gitml.store.hashing import hash_bytes
from gitml.store.manifest import HEADER, Entry, decode_manifest, encode_manifest

# More examples with GITML_HYPOTHESIS_EXAMPLES=1000 (kept small: the suite must stay fast).
EXAMPLES = int(os.environ.get("GITML_HYPOTHESIS_EXAMPLES", "60"))
OID = hash_bytes(b"x")
OID2 = hash_bytes(b"y")


def rec(path: str, *, oid: str = OID, flag: str = "f", size: str = "1") -> bytes:
    return f"{oid} {flag} {size} {path}".encode() + b"\0"


def test_format_is_exact() -> None:
    data = encode_manifest([Entry("b", OID2, 20, True), Entry("a/c d", OID, 0, False)])
    assert data == HEADER + f"{OID} f 0 a/c d\0{OID2} x 20 b\0".encode()
    assert decode_manifest(data, source="t") == [
        Entry("a/c d", OID, 0, False),
        Entry("b", OID2, 20, True),
    ]
    assert encode_manifest([]) == HEADER
    assert decode_manifest(HEADER, source="t") == []


def test_sorted_by_utf8_bytes() -> None:
    # '/' is an ordinary byte (0x2f): "a-b" and "a.txt" sort before "a/b".
    paths = ["\uff5e", "\U00010000", "a/b", "a.txt", "a-b", "B"]
    data = encode_manifest(Entry(p, OID, 1, False) for p in paths)
    decoded = [e.path for e in decode_manifest(data, source="t")]
    assert decoded == ["B", "a-b", "a.txt", "a/b", "\uff5e", "\U00010000"]
    assert decoded == sorted(paths, key=lambda p: p.encode())


BAD_BODIES: dict[str, bytes] = {
    "duplicate": rec("a") + rec("a"),
    "unsorted": rec("b") + rec("a"),
    "file-and-dir": rec("a") + rec("a/b"),
    "file-and-dir-deep": rec("a/b") + rec("a/b.txt") + rec("a/b/c"),
    "upper oid": rec("a", oid=OID.upper()),
    "short oid": rec("a", oid=OID[:-1]),
    "flag": rec("a", flag="s"),
    "negative size": rec("a", size="-1"),
    "leading zero": rec("a", size="01"),
    "plus size": rec("a", size="+1"),
    "hex size": rec("a", size="0x1"),
    "underscore size": rec("a", size="1_0"),
    "huge size": rec("a", size="9" * 30),
    "no size": f"{OID} f  a".encode() + b"\0",
    "no terminator": rec("a")[:-1],
    "trailing garbage": rec("a") + b"junk",
    "empty record": rec("a") + b"\0",
}
UNSAFE_PATHS = [
    "",
    "../x",
    "a/../../x",
    "/etc/passwd",
    "a\\b",
    "a//b",
    "./a",
    "a/",
    ".git/config",
    "x/.GIT/hooks/pre-commit",
    "git~1/x",
    ".gitml/config.toml",
    "a\nb",
    "a\rb",
    "x" * 256,
]


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_strict_decode(name: str) -> None:
    with pytest.raises(ManifestError, match=r"^src: "):
        decode_manifest(HEADER + BAD_BODIES[name], source="src")


@pytest.mark.parametrize("path", UNSAFE_PATHS)
def test_unsafe_paths_refused(path: str) -> None:
    for body in (rec(path), rec("a/b") + rec("a/" + path)):
        with pytest.raises((UnsafePathError, ManifestError), match="src"):
            decode_manifest(HEADER + body, source="src")
    with pytest.raises(GitmlError):
        encode_manifest([Entry(path, OID, 1, False)])


def test_bad_header_and_non_utf8() -> None:
    with pytest.raises(ManifestError, match="header"):
        decode_manifest(b"gitml-manifest 2\n", source="src")
    with pytest.raises(ManifestError):
        decode_manifest(b"", source="src")
    with pytest.raises(UnsafePathError, match="UTF-8"):
        decode_manifest(HEADER + rec("a")[:-2] + b"\xff\0", source="src")


def test_encode_refuses_what_decode_refuses() -> None:
    with pytest.raises(ManifestError, match="duplicate"):
        encode_manifest([Entry("a", OID, 1, False), Entry("a", OID2, 1, False)])
    with pytest.raises(ManifestError, match="both a file and a folder"):
        encode_manifest([Entry("a/b", OID, 1, False), Entry("a", OID2, 1, False)])
    with pytest.raises(ManifestError, match="oid"):
        encode_manifest([Entry("a", "0" * 63, 1, False)])
    with pytest.raises(ManifestError, match="size"):
        encode_manifest([Entry("a", OID, -1, False)])


# -- properties -------------------------------------------------------------
_part = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/\\\0\r\n"),
    min_size=1,
    max_size=12,
).filter(lambda p: p not in (".", "..") and not p.rstrip(". ").lower().startswith(".git"))
_path = st.lists(_part, min_size=1, max_size=4).map("/".join)
_entry = st.builds(
    Entry,
    path=_path,
    oid=st.binary(min_size=1, max_size=8).map(hash_bytes),
    size=st.integers(min_value=0, max_value=2**63 - 1),
    executable=st.booleans(),
)


@given(st.lists(_entry, max_size=30))
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_round_trip(entries: list[Entry]) -> None:
    try:
        data = encode_manifest(entries)
    except GitmlError:
        return  # duplicates / file-and-folder / reserved names: refused on both sides
    decoded = decode_manifest(data, source="t")
    assert decoded == sorted(entries, key=lambda e: e.path.encode())
    assert encode_manifest(reversed(decoded)) == data  # canonical


@given(st.binary(max_size=300))
@settings(max_examples=EXAMPLES * 2, deadline=None)
def test_any_bytes_never_crash(data: bytes) -> None:
    for blob in (data, HEADER + data):
        try:
            out = decode_manifest(blob, source="fuzz")
        except GitmlError as exc:
            assert "fuzz" in str(exc)
        else:
            assert all(isinstance(e, Entry) for e in out)


@given(st.lists(_entry, min_size=1, max_size=8), st.data())
@settings(max_examples=EXAMPLES, deadline=None)
def test_mutated_manifests_never_crash(entries: list[Entry], data: st.DataObject) -> None:
    try:
        blob = bytearray(encode_manifest(entries))
    except GitmlError:
        return
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    try:
        decode_manifest(bytes(blob), source="fuzz")
    except GitmlError as exc:
        assert "fuzz" in str(exc)


def _big_manifest(n: int) -> bytes:
    # Built directly (not through encode_manifest) so the test times decode only.
    oid = OID.encode()
    return HEADER + b"".join(
        b"%s f %d images/class%03d/img%07d.jpg\0" % (oid, 1000 + i, i // 10_000, i)
        for i in range(n)
    )


def test_decode_50k_entries() -> None:
    data = _big_manifest(50_000)
    out = decode_manifest(data, source="t")
    assert len(out) == 50_000
    assert out == sorted(out, key=lambda e: e.path.encode("utf-8"))


@pytest.mark.slow
def test_decode_one_million() -> None:
    data = _big_manifest(1_000_000)
    out = decode_manifest(data, source="t")
    assert len(out) == 1_000_000
