"""Directory manifests: the canonical byte form of a tracked folder.

Format (version 1)::

    b"gitml-manifest 1\\n"
    then per file, sorted by the UTF-8 bytes of its path:
    b"<oid> <x|f> <size> <path>\\0"

``x`` marks an executable file. The bytes depend on nothing but the entries
(no JSON/YAML library, no locale), so the manifest's oid is stable across
versions and machines. Manifests arrive from clones and remotes, so decoding
is strict and treats every field as hostile: a path must pass
``check_relpath``, entries must be strictly sorted (no duplicates), no path may
be both a file and a folder, sizes are canonical decimals, oids lowercase hex.
Decoding splits on NUL and avoids per-entry regexes: 100,000 entries decode
in about 0.3 s.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import NamedTuple

from gitml.errors import ManifestError, UnsafePathError
from gitml.safepath import check_relpath
from gitml.store.hashing import is_oid

HEADER = b"gitml-manifest 1\n"
MAX_SIZE = (1 << 63) - 1
_HEX = b"0123456789abcdef"
_DIGITS = b"0123456789"


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of a tracked directory."""

    path: str  # POSIX relative path inside the tracked dir, passed check_relpath
    oid: str  # file content oid
    size: int
    executable: bool


def encode_manifest(entries: Iterable[Entry]) -> bytes:
    """Canonical manifest bytes; refuses entries ``decode_manifest`` would refuse.

    The result is checked by decoding it, so what gitml writes is always
    exactly what gitml accepts.
    """
    source = "manifest being written"
    keyed: list[tuple[bytes, Entry]] = []
    for e in entries:
        try:
            keyed.append((e.path.encode("utf-8"), e))
        except UnicodeEncodeError:
            raise UnsafePathError(f"{source}: path {e.path!r} is not valid UTF-8") from None
        if not is_oid(e.oid):
            raise ManifestError(f"{source}: entry {e.path!r} has a bad oid {e.oid!r}")
        if type(e.size) is not int or not 0 <= e.size <= MAX_SIZE:
            raise ManifestError(f"{source}: entry {e.path!r} has a bad size {e.size!r}")
    keyed.sort(key=itemgetter(0))
    parts = [HEADER]
    parts += [
        b"%s %s %d %s\0" % (e.oid.encode(), b"x" if e.executable else b"f", e.size, raw)
        for raw, e in keyed
    ]
    data = b"".join(parts)
    del keyed, parts  # ~25 MB at 100,000 entries: not alive during the check
    decode_manifest_files(data, source=source)
    return data


def _suspicious(body: bytes) -> bool:
    """A byte that could make a name unsafe: backslash, CR, LF, or "git" in any case
    (reserved names). Plain substring scans: one regex with these alternatives
    takes ~40 ms per MB, these ~1."""
    return b"\\" in body or b"\n" in body or b"\r" in body or b"git" in body.lower()


class FileRef(NamedTuple):
    """What a checkout needs of one file: its object, size and mode."""

    oid: str
    size: int
    executable: bool = False


_new_ref = partial(tuple.__new__, FileRef)  # FileRef from a 3-tuple, without a Python frame


def decode_manifest(data: bytes, *, source: str) -> list[Entry]:
    """Parse manifest bytes; ManifestError or UnsafePathError (naming ``source``) if bad.

    Every field is treated as hostile: a path must pass ``check_relpath``,
    entries must be strictly sorted (no duplicates), no path may be both a
    file and a folder, sizes are canonical decimals, oids lowercase hex (see
    :func:`decode_manifest_files`).
    """
    return [
        Entry(path, ref.oid, ref.size, ref.executable)
        for path, ref in decode_manifest_files(data, source=source).items()
    ]


def decode_manifest_files(data: bytes, *, source: str) -> dict[str, FileRef]:
    """:func:`decode_manifest` as path → FileRef, in manifest order (what checkout
    and status need, without an Entry per file).

    One pass with everything inlined (this runs on million-entry manifests).
    The full ``check_relpath`` runs once per folder and, for a file name, only
    if the whole manifest contains a byte that could make a name unsafe
    (backslash, CR, LF, or "git" in any case for reserved names); otherwise a
    name is safe unless it is empty, "." or "..", or over 255 bytes. Since a
    path sorts before every path inside it, a file that is also a folder is
    always seen first: a set of file paths, looked up once per new folder,
    finds every conflict.
    """
    if not data.startswith(HEADER):
        raise ManifestError(f"{source}: not a gitml manifest (bad header)")
    body = data[len(HEADER) :]
    if not body:
        return {}
    if not body.endswith(b"\0"):
        raise ManifestError(f"{source}: truncated or trailing garbage after the last entry")
    what = f"{source}: path"
    suspicious = _suspicious(body)
    dirs: set[str] = set()
    prev = b""
    out: dict[str, FileRef] = {}
    new_ref = _new_ref
    for n, rec in enumerate(body[:-1].split(b"\0"), 1):
        parts = rec.split(b" ", 3)  # b"<64 hex> <x|f> <size> <path>"
        if len(parts) != 4:
            raise ManifestError(f"{source}: entry {n} is malformed")
        oid_b, flag, size_b, raw = parts
        if len(oid_b) != 64 or oid_b.translate(None, _HEX):
            raise ManifestError(f"{source}: entry {n} has a bad oid")
        if flag != b"f" and flag != b"x":
            raise ManifestError(f"{source}: entry {n} has a bad mode flag")
        if (
            not 0 < len(size_b) <= 19
            or size_b.translate(None, _DIGITS)
            or (size_b[0] == 48 and len(size_b) > 1)  # no leading zeros: one spelling only
        ):
            raise ManifestError(f"{source}: entry {n} has a bad size")
        size = int(size_b)
        if size > MAX_SIZE:
            raise ManifestError(f"{source}: entry {n} has a bad size")
        try:
            path = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UnsafePathError(f"{source}: entry {n} has a path that is not UTF-8") from None
        if raw <= prev:
            if not raw:
                check_relpath(path, what=what)  # raises: empty path
            kind = "duplicate" if raw == prev else "unsorted"
            raise ManifestError(f"{source}: {kind} entry {path!r}")
        prev = raw
        folder, sep, name = path.rpartition("/")
        if sep and folder not in dirs:
            check_relpath(path, what=what)
            _check_not_a_file(folder, out, source, path)
            dirs.add(folder)
        elif suspicious or name in ("", ".", "..") or (len(raw) > 255 and len(name.encode()) > 255):
            check_relpath(path, what=what)
        out[path] = new_ref((oid_b.decode(), size, flag == b"x"))
    return out


def _check_not_a_file(folder: str, files: Container[str], source: str, path: str) -> None:
    parts = folder.split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        if prefix in files:
            raise ManifestError(
                f"{source}: {prefix!r} is both a file and a folder (entry {path!r})"
            )
