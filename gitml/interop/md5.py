"""DVC's MD5 of a file, including the DVC 2.x "md5-dos2unix" flavour.

DVC 3 records ``hash: md5`` next to each output: the plain MD5 of the bytes.
An output without that field was written by DVC 2.x, whose MD5 of a *text*
file is taken after turning CRLF into LF (the cached object keeps the original
bytes). Text is DVC's heuristic: no NUL byte and at most 30 % of characters
outside printable ASCII and ``\\n\\r\\t\\f\\b`` in a 512-byte block.

The heuristic was applied in two ways over the years: DVC 2.x decided once per
file from its first block, and DVC 3 (re-hashing 2.x data) decides per 1 MiB
chunk. CRLF pairs are converted within each 1 MiB chunk only (a pair split by
a chunk boundary stays). Both ways agree for files under 1 MiB; for bigger
files we compute both, plus the plain MD5, in the same single pass and accept
a legacy record that matches any of them.
"""

from __future__ import annotations

import hashlib

CHUNK = 1 << 20  # DVC hashes in 1 MiB reads; callers must feed exactly this size
TEXT_BLOCK = 512
_TEXT_CHARS = bytes(range(32, 127)) + b"\n\r\t\f\b"


def is_text_block(block: bytes) -> bool:
    """DVC's text heuristic for one block (empty counts as text)."""
    if not block:
        return True
    if b"\x00" in block:
        return False
    return len(block.translate(None, _TEXT_CHARS)) / len(block) <= 0.30


def _new() -> hashlib._Hash:
    return hashlib.md5(usedforsecurity=False)


class DvcMd5:
    """Feed a file in :data:`CHUNK`-sized pieces (the last may be shorter).

    ``legacy`` = the output has no ``hash: md5`` field (DVC 2.x md5-dos2unix).
    """

    __slots__ = ("_file_text", "_legacy", "_per_chunk", "_per_file", "_plain")

    def __init__(self, *, legacy: bool) -> None:
        self._legacy = legacy
        self._plain = _new()
        self._per_chunk = _new() if legacy else None
        self._per_file = _new() if legacy else None
        self._file_text: bool | None = None

    def update(self, chunk: bytes) -> None:
        self._plain.update(chunk)
        if self._per_chunk is None or self._per_file is None:
            return
        chunk_text = is_text_block(chunk[:TEXT_BLOCK])
        if self._file_text is None:
            self._file_text = chunk_text
        converted = chunk.replace(b"\r\n", b"\n") if b"\r\n" in chunk else chunk
        self._per_chunk.update(converted if chunk_text else chunk)
        self._per_file.update(converted if self._file_text else chunk)

    def flavours(self) -> tuple[str, ...]:
        """The MD5 as DVC writes it: (plain,) or, for 2.x records, (as DVC 2 computed
        it: text decided once per file, as DVC 3 re-computes it: per 1 MiB chunk)."""
        if self._per_chunk is None or self._per_file is None:
            return (self._plain.hexdigest(),)
        return (self._per_file.hexdigest(), self._per_chunk.hexdigest())

    def digests(self) -> set[str]:
        """Every MD5 DVC could have recorded for the bytes fed so far."""
        return {self._plain.hexdigest(), *self.flavours()}

    def matches(self, recorded: str) -> bool:
        return recorded.removesuffix(".dir") in self.digests()


def dvc_md5_bytes(data: bytes, *, legacy: bool) -> DvcMd5:
    """:class:`DvcMd5` of an in-memory file."""
    md5 = DvcMd5(legacy=legacy)
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        md5.update(bytes(view[start : start + CHUNK]) if len(data) > CHUNK else data)
    return md5
