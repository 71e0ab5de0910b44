from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitml.errors import GitmlError, PointerError
from gitml.workspace.pointer import ImportSource, Pointer, format_pointer, parse_pointer

OID = "ab" * 32


def test_round_trip_file_and_dir() -> None:
    for pointer in (Pointer("x y.csv", "file", OID, 12), Pointer("données", "dir", OID, 99, 3)):
        assert parse_pointer(format_pointer(pointer), source="p") == pointer


@pytest.mark.parametrize(
    "text, fragment",
    [
        (b"", "no 'gitml:' version line"),
        (
            b'gitml: 2\nkind: file\npath: "a"\nhash: blake3\noid: ' + OID.encode() + b"\nsize: 1\n",
            "version",
        ),
        (
            b'gitml: 1\nkind: file\npath: "a"\nhash: md5\noid: ' + OID.encode() + b"\nsize: 1\n",
            "unsupported hash",
        ),
        (
            b'gitml: 1\nkind: file\npath: "../a"\nhash: blake3\noid: '
            + OID.encode()
            + b"\nsize: 1\n",
            "'..'",
        ),
        (b'gitml: 1\nkind: file\npath: "a"\nhash: blake3\noid: XYZ\nsize: 1\n', "oid"),
        (
            b'gitml: 1\nkind: file\npath: "a"\nhash: blake3\noid: '
            + OID.encode()
            + b"\nsize: -1\n",
            "size",
        ),
        (
            b'gitml: 1\nkind: link\npath: "a"\nhash: blake3\noid: ' + OID.encode() + b"\nsize: 1\n",
            "kind",
        ),
        (b"gitml: 1\ngitml: 1\n", "twice"),
        (b"\xff\xfe", "UTF-8"),
        (
            b'gitml: 1\nkind: dir\npath: ".git"\nhash: blake3\noid: '
            + OID.encode()
            + b"\nsize: 1\nnfiles: 1\n",
            ".git",
        ),
    ],
)
def test_malformed_pointers_are_clean_errors(text: bytes, fragment: str) -> None:
    with pytest.raises(PointerError) as info:
        parse_pointer(text, source="data.gitml")
    assert "data.gitml" in info.value.message
    assert fragment in info.value.message


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_give_a_pointer_or_a_clean_error(data: bytes) -> None:
    try:
        parse_pointer(data, source="x.gitml")
    except GitmlError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s), st.integers(0, 2**62))
def test_any_safe_name_round_trips(name: str, size: int) -> None:
    pointer = Pointer(name, "file", OID, size)
    try:
        data = format_pointer(pointer)
    except UnicodeEncodeError:
        return
    try:
        assert parse_pointer(data, source="p") == pointer
    except PointerError:
        pass  # unsafe names (.., NUL, newline, .git) are refused, never mangled


COMMIT = "c0" * 20
BASE = b'gitml: 1\nkind: file\npath: "a.csv"\nhash: blake3\noid: ' + OID.encode() + b"\nsize: 3\n"


def test_import_pointer_round_trips_with_and_without_rev() -> None:
    for rev in ("churn@v2", None):
        source = ImportSource("git@host:team/reg.git", "data/a.csv", rev, COMMIT)
        pointer = Pointer("a.csv", "file", OID, 3, source=source)
        data = format_pointer(pointer)
        assert parse_pointer(data, source="p") == pointer
        if rev is None:
            assert b"source_rev" not in data


def test_import_pointer_lines_are_exact() -> None:
    source = ImportSource("../reg", "data/a.csv", "v1", COMMIT)
    assert format_pointer(Pointer("a.csv", "file", OID, 3, source=source)) == BASE + (
        b'source_url: "../reg"\nsource_path: "data/a.csv"\nsource_rev: "v1"\n'
        b"source_commit: " + COMMIT.encode() + b"\n"
    )


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (b'source_url: "u"\n', "import pointer lacks 'source_path'"),
        (
            b'source_url: "u"\nsource_path: "a"\nsource_commit: XYZ\n',
            "source_commit must be 40 lowercase hex characters",
        ),
        (
            b'source_url: "u"\nsource_path: "../a"\nsource_commit: ' + COMMIT.encode() + b"\n",
            "'..'",
        ),
        (
            b'source_url: u\nsource_path: "a"\nsource_commit: ' + COMMIT.encode() + b"\n",
            "source_url must be a non-empty double-quoted string",
        ),
        (
            b'source_url: "u\\n"\nsource_path: "a"\nsource_commit: ' + COMMIT.encode() + b"\n",
            "source_url has control characters",
        ),
    ],
)
def test_malformed_import_sources_are_clean_errors(extra: bytes, fragment: str) -> None:
    with pytest.raises(PointerError) as info:
        parse_pointer(BASE + extra, source="p")
    assert fragment in info.value.message
