"""Reading DVC's own files: ``*.dvc``, ``dvc.yaml`` and ``dvc.lock``.

These files arrive with a clone and are untrusted. They are parsed with a safe
YAML 1.2 loader (``yaml12``), every field is type-checked, and every path is
resolved against its file's folder (and ``wdir``), normalised, and must stay
inside the repository and pass :func:`gitml.safepath.check_relpath`; anything
else raises before a single byte is written. Valid DVC features that have no
gitml equivalent (URL/absolute "external" outputs, ``cache: false``,
cloud-versioned ``files:``) become :class:`Skipped` entries with a reason.

Formats (DVC 3.x; 2.x is the same without ``hash: md5``, which is how a
2.x "md5-dos2unix" record is recognised)::

    # data.dvc                       # dvc.lock (schema 2.0)
    outs:                            schema: '2.0'
    - md5: 3f..c1.dir                stages:
      size: 460000000                  train:
      nfiles: 100000                     cmd: python train.py
      hash: md5                          deps: [{path: x, md5: .., size: ..}]
      path: data                         outs: [{path: model.pkl, md5: .., hash: md5}]
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gitml.bounded import quote
from gitml.errors import ConfigError, GitmlError, InteropError, UnsafePathError
from gitml.interop.yaml12 import load_yaml
from gitml.safepath import check_relpath

if TYPE_CHECKING:
    from gitml.interop.toplevel import TopLevel

MD5_RE = re.compile(r"^[0-9a-f]{32}(?:\.dir)?$")
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^remote:|^[A-Za-z]:[\\/]")


@dataclass(frozen=True, slots=True)
class DvcOrigin:
    """Where a ``dvc import`` took its data: another repository at a locked commit."""

    url: str
    path: str  # in that repository
    rev: str | None  # as asked (None: its default branch)
    rev_lock: str  # 40 hex


@dataclass(frozen=True, slots=True)
class DvcOutput:
    """One cached DVC output, ready to import."""

    path: str  # repo-relative POSIX path, validated
    md5: str  # 32 hex, plus ".dir" for a directory
    legacy: bool  # no `hash: md5`: DVC 2.x md5-dos2unix
    size: int | None
    nfiles: int | None
    source: str  # the DVC file recording it (repo-relative)
    dvc_root: str = ""  # folder holding the project's .dvc/ ("" = repository root)
    stage: str | None = None
    origin: DvcOrigin | None = None  # set for a `dvc import` output

    @property
    def is_dir(self) -> bool:
        return self.md5.endswith(".dir")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A DVC output (or stage) that is not converted, and why."""

    path: str
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class DvcStage:
    """A ``dvc.yaml`` stage: its names (paths as written) and its raw definition."""

    name: str
    source: str  # the dvc.yaml
    cmd: list[str]
    wdir: str  # repo-relative, normalised ("" = top); validated when converted
    deps: list[str]
    outs: list[str]
    params: list[str]
    metrics: list[str]
    plots: list[str]
    body: dict[str, Any] = field(default_factory=dict)  # the definition as written
    template: bool = False  # foreach/matrix/vars or ${...}: no gitml equivalent
    lock: dict[str, Any] | None = None  # its dvc.lock entry (what DVC last ran)


@dataclass
class Parsed:
    outputs: list[DvcOutput] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    stages: list[DvcStage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    top: TopLevel | None = None  # a dvc.yaml's artifacts, metrics, plots, params


def load_doc(source: str, data: bytes) -> dict[str, Any]:
    """The YAML mapping in a DVC file (empty file → {})."""
    try:
        doc = load_yaml(data, source=source)
    except ConfigError as exc:  # bounded: names the file and the limit, never the document
        raise InteropError(exc.message, "fix or remove the file; nothing was imported") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InteropError(f"{source}: expected a mapping at the top level")
    return doc


def resolve(base: str, raw: object, *, source: str, what: str) -> str | None:
    """``raw`` (relative to folder ``base``) as a safe repo-relative path.

    None for an external location (URL, ``remote://``, absolute path). A path
    that leaves the repository or names .git/.gitml raises UnsafePathError.
    """
    if not isinstance(raw, str) or not raw:
        raise InteropError(f"{source}: {what} must be a non-empty string, got {quote(raw)}")
    if _URL_RE.match(raw) or raw.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(base, raw) if base else raw)
    if joined == ".." or joined.startswith("../"):
        raise UnsafePathError(
            f"{source}: {what} {quote(raw)} points outside the repository",
            "the DVC file may have been crafted; nothing was imported",
        )
    if joined == ".":
        raise UnsafePathError(f"{source}: {what} {quote(raw)} names the repository itself")
    return check_relpath(joined, what=f"{source}: {what}")


def _opt_int(entry: dict[str, Any], key: str, source: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if type(value) is not int or value < 0:
        raise InteropError(f"{source}: {key} must be a non-negative integer, got {quote(value)}")
    return value


def parse_out(
    entry: object,
    base: str,
    *,
    source: str,
    dvc_root: str,
    stage: str | None = None,
    cached: bool = True,
) -> DvcOutput | Skipped:
    """One ``outs:`` item of a .dvc or dvc.lock file."""
    if not isinstance(entry, dict):
        raise InteropError(f"{source}: each output must be a mapping, got {quote(entry)}")
    raw = entry.get("path")
    path = resolve(base, raw, source=source, what="output path")
    if path is None:
        return Skipped(str(raw), source, "external output (outside the repository)")
    if entry.get("cache", True) is False or not cached:
        return Skipped(
            path, source, "cache: false (DVC does not cache it): it stays a plain file, no pointer"
        )
    if "files" in entry:
        return Skipped(path, source, "cloud-versioned output (files:) is not supported")
    hash_name = entry.get("hash")
    if hash_name is not None and hash_name != "md5":
        return Skipped(path, source, f"hash {quote(hash_name)} is not supported (only md5)")
    md5 = entry.get("md5")
    if md5 in (None, ""):
        return Skipped(path, source, "no md5 recorded (not committed in DVC)")
    if not isinstance(md5, str) or not MD5_RE.match(md5):
        raise InteropError(f"{source}: {path}: md5 {quote(md5)} is not an MD5 (32 lowercase hex)")
    return DvcOutput(
        path=path,
        md5=md5,
        legacy=hash_name is None,
        size=_opt_int(entry, "size", source),
        nfiles=_opt_int(entry, "nfiles", source),
        source=source,
        dvc_root=dvc_root,
        stage=stage,
    )


def _list(doc: dict[str, Any], key: str, source: str) -> list[Any]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InteropError(f"{source}: {key} must be a list")
    return value


def _wdir(doc: dict[str, Any], base: str, source: str) -> str:
    raw = doc.get("wdir", ".")
    if raw in (".", "", None):
        return base
    if not isinstance(raw, str):
        raise InteropError(f"{source}: wdir must be a string")
    joined = posixpath.normpath(posixpath.join(base, raw))
    if joined == ".":
        return ""
    resolved = resolve("", joined, source=source, what="wdir")
    if resolved is None:
        raise InteropError(f"{source}: wdir {quote(raw)} must be a relative path")
    return resolved


def parse_dvc_file(source: str, data: bytes, dvc_root: str) -> Parsed:
    """A ``*.dvc`` file (``dvc add`` / ``dvc import``)."""
    doc = load_doc(source, data)
    base = _wdir(doc, posixpath.dirname(source), source)
    out = Parsed()
    for entry in _list(doc, "outs", source):
        item = parse_out(entry, base, source=source, dvc_root=dvc_root)
        (out.outputs if isinstance(item, DvcOutput) else out.skipped).append(item)  # type: ignore[arg-type]
    deps = _list(doc, "deps", source)
    if deps:
        first = deps[0] if isinstance(deps[0], dict) else {}
        origin = _origin(first)
        if origin is not None and len(out.outputs) == 1:
            out.outputs = [replace(out.outputs[0], origin=origin)]
        elif isinstance(first.get("repo"), dict):
            out.notes.append(
                f"{source}: a dvc import whose origin gitml cannot read "
                f"({quote(first['repo'].get('url'))}); its data is imported, not the link"
            )
        else:
            out.notes.append(
                f"{source}: a dvc import-url of {quote(first.get('path'))}: its data is imported; "
                "gitml does not follow URLs, so the URL is kept only in this note"
            )
    return out


def _origin(dep: dict[str, Any]) -> DvcOrigin | None:
    """A ``dvc import`` dependency: ``{path, repo: {url, rev?, rev_lock}}``."""
    from gitml.git.clone import check_url

    repo, path = dep.get("repo"), dep.get("path")
    if not isinstance(repo, dict) or not isinstance(path, str):
        return None
    url, rev, lock = repo.get("url"), repo.get("rev"), repo.get("rev_lock")
    if not isinstance(url, str) or not isinstance(lock, str) or not _SHA_RE.match(lock):
        return None
    if rev is not None and not isinstance(rev, str):
        return None
    try:
        check_url(url)
        path = check_relpath(posixpath.normpath(path), what="imported path")
    except GitmlError:
        return None
    return DvcOrigin(url, path, rev, lock)
