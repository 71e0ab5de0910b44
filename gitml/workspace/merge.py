"""Merging pointers: git's merge driver for ``*.gitml``, and resolving what it
could not merge.

A tracked folder's pointer names a manifest, so two branches that both changed
the folder always conflict line by line in the pointer. The driver
(``gitml merge-driver %O %A %B %P``, configured by ``gitml init``) merges the
three manifests instead, file by file: a file changed on one side only takes
that side's version; a file changed differently on both sides is a conflict.

A clean merge stores the merged manifest in the cache (the store's batch:
durable before the pointer names it) and writes the merged pointer for git.
A conflict writes, between git's conflict markers, two complete pointers: the
merge with our version of each conflicting file, and the merge with theirs
(both manifests stored). ``gitml checkout PATH --conflict ours|theirs`` then
checks out one of them and writes both versions of each conflicting file
beside it as ``NAME.ours`` and ``NAME.theirs``. The same resolution works on
a pointer git conflicted by itself (no driver configured): its markers are
split the same way.

A manifest that is not in the cache is fetched through ``fetch`` (the data
remote); if it still is not there, nothing is written and the merge stays
conflicted with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gitml.context import RepoContext
from gitml.errors import GitmlError, ManifestError, PointerError, UsageError
from gitml.store.hashing import hash_bytes
from gitml.store.manifest import Entry, FileRef, decode_manifest_files, encode_manifest
from gitml.workspace.checkout import CheckoutResult, Target, checkout
from gitml.workspace.pointer import (
    MAX_POINTER_BYTES,
    Pointer,
    format_pointer,
    parse_pointer,
    pointer_name,
    tracked_name,
)

Fetch = Callable[[list[str]], None]  # download these oids into the cache if it can

OURS_MARK = b"<<<<<<< "
BASE_MARK = b"||||||| "
SPLIT_MARK = b"======="
THEIRS_MARK = b">>>>>>> "


@dataclass
class MergeOutcome:
    """What the driver did with one pointer."""

    pointer: str  # the pointer's path in the repository
    text: bytes  # what git gets as the result (a pointer, or two between markers)
    conflicts: list[str] = field(default_factory=list)  # paths changed on both sides
    from_ours: int = 0  # files whose change came from our side
    from_theirs: int = 0

    @property
    def clean(self) -> bool:
        return not self.conflicts


def _parse(data: bytes, source: str) -> Pointer | None:
    """A pointer, or None for git's empty stand-in (no common ancestor)."""
    if not data.strip():
        return None
    return parse_pointer(data, source=source)


def _manifest(ctx: RepoContext, pointer: Pointer | None, label: str) -> dict[str, FileRef]:
    if pointer is None:
        return {}
    if not ctx.store.has(pointer.oid):
        raise ManifestError(
            f"the manifest of {label} ({pointer.oid[:12]}) is not in the cache or on the "
            "data remote",
            "gitml fetch (or gitml remote add NAME URL), then merge again",
        )
    return decode_manifest_files(ctx.store.read_bytes(pointer.oid), source=label)


def _ensure_manifests(ctx: RepoContext, pointers: list[Pointer | None], fetch: Fetch) -> None:
    wanted = sorted(
        {p.oid for p in pointers if p is not None and p.kind == "dir"} - _present(ctx, pointers)
    )
    if wanted:
        fetch(wanted)


def _present(ctx: RepoContext, pointers: list[Pointer | None]) -> set[str]:
    return {p.oid for p in pointers if p is not None and ctx.store.has(p.oid)}


def three_way(
    base: dict[str, FileRef], ours: dict[str, FileRef], theirs: dict[str, FileRef]
) -> tuple[dict[str, FileRef], dict[str, FileRef], list[str], int, int]:
    """File-level merge: (merged with our conflicting versions, merged with
    theirs, conflicting paths, changes taken from ours, from theirs)."""
    with_ours: dict[str, FileRef] = {}
    with_theirs: dict[str, FileRef] = {}
    conflicts: list[str] = []
    n_ours = n_theirs = 0
    for path in sorted(base.keys() | ours.keys() | theirs.keys()):
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        if o == t:
            pick_o = pick_t = o
        elif o == b:
            pick_o = pick_t = t
            n_theirs += 1
        elif t == b:
            pick_o = pick_t = o
            n_ours += 1
        else:
            conflicts.append(path)
            pick_o, pick_t = o, t
        if pick_o is not None:
            with_ours[path] = pick_o
        if pick_t is not None:
            with_theirs[path] = pick_t
    return with_ours, with_theirs, conflicts, n_ours, n_theirs


def _store_manifest(ctx: RepoContext, name: str, files: dict[str, FileRef]) -> Pointer:
    data = encode_manifest(Entry(p, r.oid, r.size, r.executable) for p, r in files.items())
    oid = hash_bytes(data)
    if not ctx.store.has(oid):
        with ctx.store.batch() as batch:  # durable before any pointer names it
            batch.add_bytes(data, expected_oid=oid)
    return Pointer(name, "dir", oid, sum(r.size for r in files.values()), len(files))


def conflict_text(ours: bytes, theirs: bytes, note: str = "") -> bytes:
    """Two pointers between git's markers (what a conflicted pointer holds)."""
    head = OURS_MARK + b"ours" + (f" ({note})".encode() if note else b"") + b"\n"
    return head + ours + SPLIT_MARK + b"\n" + theirs + THEIRS_MARK + b"theirs\n"


def merge_pointers(
    ctx: RepoContext, base: bytes, ours: bytes, theirs: bytes, path: str, fetch: Fetch
) -> MergeOutcome:
    """The driver's work for pointer ``path``: never raises for a conflict."""
    tracked = tracked_name(path)
    p_base = _parse(base, f"{path} (common ancestor)")
    p_ours = _parse(ours, f"{path} (ours)")
    p_theirs = _parse(theirs, f"{path} (theirs)")
    if p_ours is None or p_theirs is None:
        raise PointerError(f"{path}: one side of the merge is not a pointer")
    if p_ours == p_theirs:  # the same data on both sides
        return MergeOutcome(path, format_pointer(p_ours))
    kinds = {p.kind for p in (p_base, p_ours, p_theirs) if p is not None}
    if kinds != {"dir"} or p_ours.path != p_theirs.path:
        # A single file (or a file on one side, a folder on the other): both
        # versions are whole; only a person can choose.
        return MergeOutcome(path, conflict_text(ours, theirs), [tracked])
    _ensure_manifests(ctx, [p_base, p_ours, p_theirs], fetch)
    m_base = _manifest(ctx, p_base, f"{path} (common ancestor)")
    m_ours = _manifest(ctx, p_ours, f"{path} (ours)")
    m_theirs = _manifest(ctx, p_theirs, f"{path} (theirs)")
    with_ours, with_theirs, conflicts, n_ours, n_theirs = three_way(m_base, m_ours, m_theirs)
    try:
        merged_ours = _store_manifest(ctx, p_ours.path, with_ours)
        merged_theirs = (
            merged_ours if not conflicts else _store_manifest(ctx, p_ours.path, with_theirs)
        )
    except GitmlError as exc:  # e.g. a file on one side, a folder on the other
        raise ManifestError(f"{path}: the merged folder is not valid: {exc.message}") from None
    full = [f"{tracked}/{rel}" for rel in conflicts]
    if conflicts:
        text = conflict_text(
            format_pointer(merged_ours),
            format_pointer(merged_theirs),
            f"{len(conflicts)} files changed on both sides",
        )
        return MergeOutcome(path, text, full, n_ours, n_theirs)
    return MergeOutcome(path, format_pointer(merged_ours), [], n_ours, n_theirs)


# -- resolving ----------------------------------------------------------------------------


def split_conflict(data: bytes) -> tuple[bytes, bytes] | None:
    """Our and their text of a file with git's conflict markers (lines outside
    the markers go to both; a diff3 base section is dropped); None without markers."""
    ours: list[bytes] = []
    theirs: list[bytes] = []
    state = "both"
    seen = False
    for line in data.splitlines(keepends=True):
        if line.startswith(OURS_MARK) and state == "both":
            state, seen = "ours", True
        elif line.startswith(BASE_MARK) and state == "ours":
            state = "base"
        elif line.rstrip(b"\r\n") == SPLIT_MARK and state in ("ours", "base"):
            state = "theirs"
        elif line.startswith(THEIRS_MARK) and state == "theirs":
            state = "both"
        elif state == "both":
            ours.append(line)
            theirs.append(line)
        elif state == "ours":
            ours.append(line)
        elif state == "theirs":
            theirs.append(line)
    if not seen or state != "both":
        return None
    return b"".join(ours), b"".join(theirs)


@dataclass
class ResolveResult:
    """What ``gitml checkout PATH --conflict SIDE`` did."""

    tracked: str
    side: str
    conflicts: list[str]  # files that differ between the two sides
    extras: list[str]  # NAME.ours / NAME.theirs written
    checkout: CheckoutResult


def read_conflicted(ctx: RepoContext, tracked: str) -> tuple[Pointer, Pointer] | None:
    """Both sides of a conflicted pointer in the workspace; None if it is not conflicted."""
    name = pointer_name(tracked)
    try:
        with open(ctx.root / name, "rb") as fh:
            data = fh.read(4 * MAX_POINTER_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{tracked} is not tracked by gitml (no {name})") from None
    sides = split_conflict(data)
    if sides is None:
        return None
    return parse_pointer(sides[0], source=f"{name} (ours)"), parse_pointer(
        sides[1], source=f"{name} (theirs)"
    )


def _files(ctx: RepoContext, pointer: Pointer, label: str) -> dict[str, FileRef]:
    if pointer.kind == "file":
        return {"": FileRef(pointer.oid, pointer.size)}
    return _manifest(ctx, pointer, label)


def resolve(
    ctx: RepoContext, tracked: str, side: str, fetch: Fetch, *, force: bool = False
) -> ResolveResult:
    """Check out ``side`` of a conflicted pointer, write ``NAME.ours`` and
    ``NAME.theirs`` for each file that differs between the sides, and leave
    the pointer naming ``side``: edit the files, delete the extras, ``gitml add``.
    The pointer is written last, so a failure leaves it conflicted."""
    from gitml.store.durable import write_file_atomic

    if side not in ("ours", "theirs"):
        raise UsageError(f"--conflict takes ours or theirs, not {side!r}")
    pair = read_conflicted(ctx, tracked)
    if pair is None:
        raise UsageError(
            f"{pointer_name(tracked)} has no merge conflict",
            f"gitml checkout {tracked} (without --conflict)",
        )
    ours, theirs = pair
    _ensure_manifests(ctx, [ours, theirs], fetch)
    f_ours = _files(ctx, ours, f"{tracked} (ours)")
    f_theirs = _files(ctx, theirs, f"{tracked} (theirs)")
    differ = sorted(
        rel for rel in f_ours.keys() | f_theirs.keys() if f_ours.get(rel) != f_theirs.get(rel)
    )
    extras: list[Target] = []
    for rel in differ:
        base = f"{tracked}/{rel}" if rel else tracked
        for label, files in (("ours", f_ours), ("theirs", f_theirs)):
            ref = files.get(rel)
            if ref is not None:
                name = f"{base}.{label}"
                extra = Pointer(name.rpartition("/")[2], "file", ref.oid, ref.size)
                extras.append(Target(name, extra, f"merge ({label})"))
    chosen = ours if side == "ours" else theirs
    fetch(sorted(ctx.store.missing([t.pointer.oid for t in extras] + _all_oids(ctx, chosen))))
    result = checkout(ctx, [Target(tracked, chosen, f"merge ({side})"), *extras], force=force)
    write_file_atomic(ctx.root / pointer_name(tracked), format_pointer(chosen))
    return ResolveResult(
        tracked,
        side,
        [f"{tracked}/{rel}" if rel else tracked for rel in differ],
        [t.tracked for t in extras],
        result,
    )


def _all_oids(ctx: RepoContext, pointer: Pointer) -> list[str]:
    if pointer.kind == "file":
        return [pointer.oid]
    return [r.oid for r in _manifest(ctx, pointer, "merge").values()]
