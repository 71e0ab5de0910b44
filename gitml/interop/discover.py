"""Finding every DVC file in the work tree, and choosing what to import.

One top-down walk of the work tree. In each folder the ``*.dvc`` files and
``dvc.yaml``/``dvc.lock`` are parsed first, so the outputs they name are
pruned from the walk (a 100,000-file dataset is never listed). Also pruned:
``.git``, ``.dvc``, ``.gitml``, paths gitml already tracks, virtualenvs
(``pyvenv.cfg``) and ``node_modules``. A folder holding ``.dvc/`` is a DVC
project root; each DVC file belongs to the nearest one above it
(``dvc init --subdir`` and several projects in one repository work).
"""

from __future__ import annotations

import os
import posixpath
import stat
from dataclasses import dataclass, field
from pathlib import Path

from gitml.errors import InteropError, UsageError
from gitml.interop.dvcfiles import DvcOutput, DvcStage, Parsed, Skipped, parse_dvc_file
from gitml.interop.dvcstages import parse_pipeline
from gitml.interop.toplevel import TopLevel

MAX_DVC_FILE = 64 << 20
_NEVER = frozenset({".git", ".dvc", ".gitml", "node_modules", "__pycache__"})


@dataclass
class DvcProject:
    outputs: list[DvcOutput] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    stages: list[DvcStage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dvc_files: dict[str, int] = field(default_factory=dict)  # *.dvc → number of outputs in it
    pipeline_files: list[str] = field(default_factory=list)  # dvc.yaml / dvc.lock
    roots: list[str] = field(default_factory=list)  # folders holding .dvc/
    top: TopLevel = field(default_factory=TopLevel)  # artifacts, metrics, plots, params

    def merge(self, parsed: Parsed) -> None:
        self.outputs += parsed.outputs
        self.skipped += parsed.skipped
        self.stages += parsed.stages
        self.notes += parsed.notes
        if parsed.top is not None:
            self.top.merge(parsed.top)


def _read(root: Path, rel: str) -> bytes | None:
    try:
        fd = os.open(root / rel, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InteropError(f"cannot read {rel}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InteropError(f"{rel} is not a regular file")
        data = fh.read(MAX_DVC_FILE + 1)
    if len(data) > MAX_DVC_FILE:
        raise InteropError(f"{rel} is larger than {MAX_DVC_FILE >> 20} MiB; not a DVC file")
    return data


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def discover(root: Path, *, tracked: set[str]) -> DvcProject:
    """Parse every DVC file below ``root`` (``tracked``: paths gitml tracks, pruned)."""
    project = DvcProject()
    prune = set(tracked)
    roots: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        folder = Path(dirpath).relative_to(root).as_posix()
        folder = "" if folder == "." else folder
        if ".dvc" in dirnames and os.path.isdir(os.path.join(dirpath, ".dvc")):
            roots.add(folder)
        owner = _owner(folder, roots)
        for name in sorted(filenames):
            rel = _join(folder, name)
            if name.endswith(".dvc") and name != ".dvc":
                data = _read(root, rel)
                if data is None:
                    continue
                parsed = parse_dvc_file(rel, data, owner)
                project.dvc_files[rel] = len(parsed.outputs) + len(parsed.skipped)
                project.merge(parsed)
                prune.update(o.path for o in parsed.outputs)
        if "dvc.yaml" in filenames or "dvc.lock" in filenames:
            ysrc, lsrc = _join(folder, "dvc.yaml"), _join(folder, "dvc.lock")
            parsed = parse_pipeline(ysrc, _read(root, ysrc), lsrc, _read(root, lsrc), owner)
            project.pipeline_files += [p for p in (ysrc, lsrc) if os.path.lexists(root / p)]
            project.merge(parsed)
            prune.update(o.path for o in parsed.outputs)
        if "pyvenv.cfg" in filenames:
            dirnames[:] = []
            continue
        dirnames[:] = sorted(
            d for d in dirnames if d not in _NEVER and _join(folder, d) not in prune
        )
    project.roots = sorted(roots)
    _check_overlaps(project.outputs)
    return project


def _owner(folder: str, roots: set[str]) -> str:
    """The nearest DVC project root at or above ``folder`` ("" when none or the top)."""
    current = folder
    while current:
        if current in roots:
            return current
        current = posixpath.dirname(current)
    return ""


def _check_overlaps(outputs: list[DvcOutput]) -> None:
    """Two DVC files claiming one path, or one output inside another: refuse."""
    by_path: dict[str, DvcOutput] = {}
    for out in outputs:
        other = by_path.get(out.path)
        if other is not None and (other.md5, other.legacy) != (out.md5, out.legacy):
            raise InteropError(
                f"{out.path} is recorded differently by {other.source} and {out.source}",
                "fix the DVC project (dvc status), then import again",
            )
        by_path.setdefault(out.path, out)
    for path in by_path:
        parent = posixpath.dirname(path)
        while parent:
            if parent in by_path:
                raise InteropError(
                    f"DVC output {path} ({by_path[path].source}) is inside output {parent} "
                    f"({by_path[parent].source})",
                    "fix the DVC project first",
                )
            parent = posixpath.dirname(parent)


def _hit(target: str, path: str, source: str) -> bool:
    if path == target or path.startswith(target + "/") or source == target:
        return True
    pipeline = ("dvc.yaml", "dvc.lock")
    return (
        posixpath.basename(target) in pipeline
        and posixpath.basename(source) in pipeline
        and posixpath.dirname(target) == posixpath.dirname(source)
    )


def select(project: DvcProject, targets: list[str]) -> DvcProject:
    """Only what ``targets`` name: an output, a folder above outputs, or a DVC file."""
    if not targets:
        return project

    def wanted(path: str, source: str) -> bool:
        return any(_hit(t, path, source) for t in targets)

    everything = [(o.path, o.source) for o in project.outputs]
    everything += [(s.path, s.source) for s in project.skipped]
    everything += [("", s.source) for s in project.stages]
    for t in targets:
        if not any(_hit(t, path, source) for path, source in everything):
            raise UsageError(f"{t} is not a DVC-tracked output or DVC file", "gitml import-dvc")
    return DvcProject(
        outputs=[o for o in project.outputs if wanted(o.path, o.source)],
        skipped=[s for s in project.skipped if wanted(s.path, s.source)],
        stages=[s for s in project.stages if wanted("", s.source)],
        notes=project.notes,
        dvc_files=project.dvc_files,
        pipeline_files=project.pipeline_files,
        roots=project.roots,
        top=project.top,
    )
