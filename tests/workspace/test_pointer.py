from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitml.errors import GitmlError, PointerError
from gitml.workspace.pointer import Pointer, format_pointer, parse_pointer

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
