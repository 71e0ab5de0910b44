"""Where DVC keeps objects, and reading its ``.dir`` listings (no dvc import).

Layout of a DVC cache (``.dvc/cache`` unless ``cache.dir`` says otherwise)::

    files/md5/<md5[:2]>/<md5[2:]>        DVC 3.x objects (plain MD5)
    <md5[:2]>/<md5[2:]>                  DVC 2.x objects (md5-dos2unix)
    ....dir                              a directory: JSON list of
                                         {"md5": .., "relpath": ..} sorted by relpath

A ``.dir`` object arrives with the cache or a remote and is untrusted: its own
MD5 is checked, every relpath must pass ``check_relpath``, and duplicates or a
path that is both a file and a folder are refused (DVC itself writes a crafted
``../../x`` relpath outside the repository).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from gitml.bounded import load_json, quote
from gitml.errors import ConfigError, InteropError, UnsafePathError
from gitml.interop.dvcfiles import DvcOutput
from gitml.interop.md5 import dvc_md5_bytes
from gitml.safepath import check_relpath

MAX_DIR_OBJECT = 1 << 30
_MD5_FILE = re.compile(r"^[0-9a-f]{32}$")
_SECTION = re.compile(r"^\s*\[\s*['\"]?([^'\"\]]+)['\"]?\s*\]\s*$")
_KEY = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class DirEntry:
    relpath: str  # inside the output folder, validated
    md5: str
    size: int | None
    isexec: bool


def _config_cache_dir(path: Path) -> str | None:
    """``[cache] dir = ...`` from one DVC (configobj) config file."""
    try:
        text = path.read_text("utf-8")
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
        return None
    section = ""
    value: str | None = None
    for line in text.splitlines():
        if line.lstrip().startswith(("#", ";")):
            continue
        match = _SECTION.match(line)
        if match:
            section = match.group(1).strip()
            continue
        match = _KEY.match(line)
        if match and section == "cache" and match.group(1) == "dir":
            raw = match.group(2)
            if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
                raw = raw[1:-1]
            value = raw
    return value


def cache_dir(root: Path, dvc_root: str) -> Path:
    """The local DVC cache of the project whose ``.dvc/`` is in ``dvc_root``.

    Config precedence as DVC's: global < repo (``.dvc/config``) < local
    (``.dvc/config.local``); a relative ``dir`` is relative to the folder of
    the config file that sets it.
    """
    dvc_dir = (root / dvc_root / ".dvc") if dvc_root else root / ".dvc"
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    found: Path = dvc_dir / "cache"
    for config in (Path(xdg) / "dvc" / "config", dvc_dir / "config", dvc_dir / "config.local"):
        value = _config_cache_dir(config)
        if value:
            path = Path(os.path.expanduser(value))
            found = path if path.is_absolute() else config.parent / path
    return found


def object_paths(cache: Path, md5: str, *, legacy: bool) -> list[Path]:
    """Where the object named ``md5`` may be (2.x layout first for 2.x records)."""
    v3 = cache / "files" / "md5" / md5[:2] / md5[2:]
    return [cache / md5[:2] / md5[2:], v3] if legacy else [v3]


def _entry(item: object, n: int, source: str) -> DirEntry:
    if not isinstance(item, dict):
        raise InteropError(f"{source}: entry {n} is not a mapping")
    relpath = item.get("relpath")
    if not isinstance(relpath, str):
        raise InteropError(f"{source}: entry {n} has no relpath")
    check_relpath(relpath, what=f"{source}: relpath")
    md5 = item.get("md5")
    if not isinstance(md5, str) or not _MD5_FILE.match(md5):
        raise InteropError(f"{source}: {relpath}: md5 {quote(md5)} is not an MD5")
    size = item.get("size")
    if size is not None and (type(size) is not int or size < 0):
        raise InteropError(f"{source}: {relpath}: bad size {quote(size)}")
    return DirEntry(relpath, md5, size, item.get("isexec") is True)


def parse_dir_object(data: bytes, source: str) -> list[DirEntry]:
    """Validate and decode a ``.dir`` listing."""
    try:
        raw = load_json(data, source=source, max_bytes=MAX_DIR_OBJECT)
    except ConfigError as exc:  # bad JSON, too deep: says which, never shows the listing
        raise InteropError(f"not a DVC directory listing: {exc.message}") from None
    if not isinstance(raw, list):
        raise InteropError(f"{source}: not a DVC directory listing (not a list)")
    entries = [_entry(item, n, source) for n, item in enumerate(raw, 1)]
    files: set[str] = set()
    folders: set[str] = set()
    for e in entries:
        if e.relpath in files:
            raise InteropError(f"{source}: {quote(e.relpath)} is listed twice")
        files.add(e.relpath)
        parts = e.relpath.split("/")
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
    clash = files & folders
    if clash:
        raise UnsafePathError(f"{source}: {quote(sorted(clash)[0])} is both a file and a folder")
    return entries


def read_dir_object(cache: Path, out: DvcOutput) -> tuple[list[DirEntry] | None, str]:
    """The listing of a directory output from the DVC cache.

    Returns (entries, "") or (None, reason) when it is absent or damaged there.
    """
    for path in object_paths(cache, out.md5, legacy=out.legacy):
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_DIR_OBJECT + 1)
        except (FileNotFoundError, NotADirectoryError):
            continue
        source = f"DVC listing {out.md5} of {out.path}"
        digest = dvc_md5_bytes(data, legacy=out.legacy)
        if len(data) > MAX_DIR_OBJECT or not digest.matches(out.md5):
            return None, f"{source} in {path} is corrupt (its MD5 does not match)"
        return parse_dir_object(data, source), ""
    return None, "not in the DVC cache"
