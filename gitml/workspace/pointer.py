"""Pointer files: ``<path>.gitml``, the small file git tracks for a data path.

The format is a strict, versioned subset of YAML that gitml parses itself (no
YAML library, so no surprises from a loader and no dependency on its version):
one ``key: value`` per line, keys in any order, each exactly once. ``path`` is
a JSON string (a valid YAML double-quoted scalar), so any name round-trips.

    gitml: 1
    kind: dir
    path: "data"
    hash: blake3
    oid: 7f3c...   (64 hex)
    size: 460000000
    nfiles: 100000  (dirs only)

An *import pointer* (``gitml import``) is a normal pointer plus four lines
saying where its object came from, so ``gitml update`` can move it and
``pull`` can fall back to the source's own remote:

    source_url: "git@host:team/registry.git"   (JSON string)
    source_path: "data/customers.csv"          (JSON string, path in the source)
    source_rev: "v2"                           (JSON string; absent: default branch)
    source_commit: 0123...                     (40 hex: the locked commit)

They are flat keys, not a nested block, so the one strict line parser reads
them; an older gitml refuses them loudly rather than dropping them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from gitml.errors import PointerConflictError, PointerError, UnsafePathError
from gitml.safepath import check_relpath
from gitml.store.hashing import is_oid

POINTER_SUFFIX = ".gitml"
POINTER_VERSION = 1
MAX_POINTER_BYTES = 4096
_KEYS = (
    "gitml",
    "kind",
    "path",
    "hash",
    "oid",
    "size",
    "nfiles",
    "source_url",
    "source_path",
    "source_rev",
    "source_commit",
)
_SOURCE_KEYS = ("source_url", "source_path", "source_rev", "source_commit")
MAX_SOURCE_TEXT = 1024  # characters of a URL, path or rev in an import pointer
_CONFLICT_MARKERS = ("<<<<<<<", "=======", ">>>>>>>", "|||||||")

Kind = Literal["file", "dir"]


@dataclass(frozen=True, slots=True)
class ImportSource:
    """Where an imported object came from: another repository at a locked commit."""

    url: str  # as the user gave it: a git URL or a local path
    path: str  # the tracked path inside the source repository
    rev: str | None  # the revision asked for; None follows the default branch
    commit: str  # 40 hex: the commit ``rev`` resolved to when last imported/updated


@dataclass(frozen=True, slots=True)
class Pointer:
    """What a pointer file says: the tracked path and the object it names."""

    path: str  # basename of the tracked path, beside the pointer
    kind: Kind
    oid: str
    size: int
    nfiles: int = 1
    source: ImportSource | None = None


def pointer_name(tracked: str) -> str:
    """``data/x.csv`` → ``data/x.csv.gitml``."""
    return tracked + POINTER_SUFFIX


def tracked_name(pointer_path: str) -> str:
    """``data/x.csv.gitml`` → ``data/x.csv``."""
    if not pointer_path.endswith(POINTER_SUFFIX) or pointer_path == POINTER_SUFFIX:
        raise PointerError(f"{pointer_path!r} is not a pointer file name")
    return pointer_path[: -len(POINTER_SUFFIX)]


def format_pointer(pointer: Pointer) -> bytes:
    lines = [
        f"gitml: {POINTER_VERSION}",
        f"kind: {pointer.kind}",
        f"path: {json.dumps(pointer.path, ensure_ascii=False)}",
        "hash: blake3",
        f"oid: {pointer.oid}",
        f"size: {pointer.size}",
    ]
    if pointer.kind == "dir":
        lines.append(f"nfiles: {pointer.nfiles}")
    if pointer.source is not None:
        src = pointer.source
        lines.append(f"source_url: {json.dumps(src.url, ensure_ascii=False)}")
        lines.append(f"source_path: {json.dumps(src.path, ensure_ascii=False)}")
        if src.rev is not None:
            lines.append(f"source_rev: {json.dumps(src.rev, ensure_ascii=False)}")
        lines.append(f"source_commit: {src.commit}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _int_field(value: str, key: str, source: str) -> int:
    if not value.isascii() or not value.isdigit() or (len(value) > 1 and value[0] == "0"):
        raise PointerError(f"{source}: {key} must be a non-negative integer, got {value!r}")
    if len(value) > 20:
        raise PointerError(f"{source}: {key} is too large")
    return int(value)


def conflict_error(name: str) -> PointerConflictError:
    """A git merge left both sides of ``name`` in it: say how to pick one."""
    tracked = name[: -len(POINTER_SUFFIX)] if name.endswith(POINTER_SUFFIX) else name
    return PointerConflictError(
        f"{name} has unresolved merge conflict markers (<<<<<<<): both sides of a merge",
        f"keep one side: git checkout --ours -- {name} (or --theirs), git add {name}, "
        f"then gitml checkout {tracked}",
    )


def parse_pointer(data: bytes, *, source: str) -> Pointer:
    """Parse pointer bytes strictly; any defect is a PointerError naming ``source``."""
    if len(data) > MAX_POINTER_BYTES:
        raise PointerError(f"{source}: not a gitml pointer (larger than {MAX_POINTER_BYTES} bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PointerError(f"{source}: not a gitml pointer (not UTF-8)") from None
    lines = text.split("\n")
    if any(line.startswith(_CONFLICT_MARKERS) for line in lines):
        raise conflict_error(source)
    fields: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(": ")
        if not sep or key not in _KEYS:
            raise PointerError(f"{source}:{number}: unexpected line {line[:60]!r}")
        if key in fields:
            raise PointerError(f"{source}:{number}: {key} appears twice")
        fields[key] = value.strip()
    if "gitml" not in fields:
        raise PointerError(f"{source}: not a gitml pointer (no 'gitml:' version line)")
    if fields["gitml"] != str(POINTER_VERSION):
        raise PointerError(
            f"{source}: pointer version {fields['gitml']!r} is not supported",
            "upgrade gitml",
        )
    for key in ("kind", "path", "hash", "oid", "size"):
        if key not in fields:
            raise PointerError(f"{source}: missing field {key!r}")
    kind = fields["kind"]
    if kind not in ("file", "dir"):
        raise PointerError(f"{source}: kind must be 'file' or 'dir', got {kind!r}")
    if fields["hash"] != "blake3":
        raise PointerError(f"{source}: unsupported hash {fields['hash']!r}")
    if not is_oid(fields["oid"]):
        raise PointerError(f"{source}: oid must be 64 lowercase hex characters")
    raw_path = fields["path"]
    try:
        path = json.loads(raw_path) if raw_path.startswith('"') else None
    except ValueError:
        path = None
    if not isinstance(path, str):
        raise PointerError(f"{source}: path must be a double-quoted string")
    try:
        check_relpath(path, what=f"{source}: path")
    except UnsafePathError as exc:
        raise PointerError(exc.message) from None
    if "/" in path:
        raise PointerError(f"{source}: path must name a sibling of the pointer, got {path!r}")
    size = _int_field(fields["size"], "size", source)
    if kind == "dir":
        if "nfiles" not in fields:
            raise PointerError(f"{source}: missing field 'nfiles'")
        nfiles = _int_field(fields["nfiles"], "nfiles", source)
    else:
        if "nfiles" in fields:
            raise PointerError(f"{source}: nfiles is only for kind: dir")
        nfiles = 1
    return Pointer(
        path=path,
        kind=kind,  # type: ignore[arg-type]
        oid=fields["oid"],
        size=size,
        nfiles=nfiles,
        source=_import_source(fields, source),
    )


def _json_text(fields: dict[str, str], key: str, source: str) -> str:
    raw = fields[key]
    try:
        value = json.loads(raw) if raw.startswith('"') else None
    except ValueError:
        value = None
    if not isinstance(value, str) or not value or len(value) > MAX_SOURCE_TEXT:
        raise PointerError(f"{source}: {key} must be a non-empty double-quoted string")
    if any(ord(ch) < 0x20 for ch in value):
        raise PointerError(f"{source}: {key} has control characters")
    return value


def _import_source(fields: dict[str, str], source: str) -> ImportSource | None:
    present = [key for key in _SOURCE_KEYS if key in fields]
    if not present:
        return None
    for key in ("source_url", "source_path", "source_commit"):
        if key not in fields:
            raise PointerError(f"{source}: import pointer lacks {key!r}")
    commit = fields["source_commit"]
    if len(commit) != 40 or any(ch not in "0123456789abcdef" for ch in commit):
        raise PointerError(f"{source}: source_commit must be 40 lowercase hex characters")
    src_path = _json_text(fields, "source_path", source)
    try:
        check_relpath(src_path, what=f"{source}: source_path")
    except UnsafePathError as exc:
        raise PointerError(exc.message) from None
    rev = _json_text(fields, "source_rev", source) if "source_rev" in fields else None
    return ImportSource(
        url=_json_text(fields, "source_url", source), path=src_path, rev=rev, commit=commit
    )
