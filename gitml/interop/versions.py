"""Registered versions made with DVC: their models as gitml objects and pointers.

A GTO tag names a commit whose model DVC recorded (``dvc.lock`` or a ``.dvc``
file), not gitml. History cannot be rewritten, so for each such commit gitml
stores the model (from the DVC cache, verified against DVC's MD5) and makes a
side commit: that commit's tree plus the pointers, with the commit as its
parent, at ``refs/gitml/dvc/<commit>``. :func:`gitml.workspace.revisions.pointers_at`
reads a commit's pointers from there when it has none of its own, so
``gitml checkout churn@v1``, ``models show``, ``diff`` and ``gc`` (every ref is
a root: the objects are kept) treat the version like one made with gitml; the
ref is pushed and fetched like the registry's other refs.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING

from gitml.context import RepoContext
from gitml.errors import GitmlError
from gitml.interop.dvccache import cache_dir, object_paths
from gitml.interop.dvcfiles import DvcOutput, parse_dvc_file
from gitml.interop.dvcstages import parse_pipeline
from gitml.interop.results import Carried, ImportResult, NotConverted
from gitml.workspace.pointer import Pointer, format_pointer, pointer_name
from gitml.workspace.revisions import CONVERTED_PREFIX, pointers_at

if TYPE_CHECKING:
    from gitml.interop.ingest import Ingestor
    from gitml.interop.md5map import Md5Map

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def dvc_outputs_at(ctx: RepoContext, commit: str) -> dict[str, DvcOutput]:
    """Every output DVC recorded at ``commit`` (its .dvc files and dvc.lock files)."""
    names = [n for n in ctx.git.ls_tree(commit) if n.endswith((".dvc", "dvc.lock"))]
    blobs = ctx.git.read_files_at(commit, names)
    out: dict[str, DvcOutput] = {}
    for name in names:
        data = blobs.get(name)
        if data is None or posixpath.basename(name) == ".dvc":
            continue
        if name.endswith("dvc.lock"):
            yaml_name = posixpath.join(posixpath.dirname(name), "dvc.yaml")
            parsed = parse_pipeline(yaml_name, None, name, data, "")
        else:
            parsed = parse_dvc_file(name, data, "")
        out.update({o.path: o for o in parsed.outputs})
    return out


def carry_versions(
    ctx: RepoContext,
    known: Md5Map,
    result: ImportResult,
    *,
    dry_run: bool,
    from_remote: str | None = None,
) -> None:
    from gitml.interop.ingest import Ingestor
    from gitml.registry.service import declarations, read_state

    decls = declarations(ctx)
    todo: dict[str, dict[str, tuple[str, DvcOutput]]] = {}  # commit -> path -> (label, out)
    for name, artifact in sorted(read_state(ctx).artifacts.items()):
        decl = decls.get(name)
        if decl is None:
            continue
        for version in sorted(artifact.versions.values(), key=lambda v: v.version):
            label = f"{name}@{version.version}"
            if version.record is not None or pointers_at(ctx, version.commit, [decl.path]):
                continue
            try:
                outputs = dvc_outputs_at(ctx, version.commit)
            except GitmlError as exc:
                result.not_converted.append(NotConverted(label, version.commit[:12], exc.message))
                continue
            out = outputs.get(decl.path)
            if out is None:
                why = f"no DVC record of {decl.path} at that commit"
                result.not_converted.append(NotConverted(label, version.commit[:12], why))
            elif out.is_dir:
                why = "a folder model: only file models of DVC-made versions are converted"
                result.not_converted.append(NotConverted(label, version.commit[:12], why))
            else:
                todo.setdefault(version.commit, {})[decl.path] = (label, out)
    if not todo:
        return
    if from_remote and not dry_run:
        _fetch(ctx, known, todo, from_remote)
    with ctx.store.batch() as batch:
        ingestor = Ingestor(ctx, batch, known, "copy")
        pointers = _store_all(ctx, ingestor, todo, result, dry_run=dry_run)
    ingestor.flush_known()
    if not dry_run:
        for commit, found in pointers.items():
            _side_commit(ctx, commit, found)


def _fetch(
    ctx: RepoContext, known: Md5Map, todo: dict[str, dict[str, tuple[str, DvcOutput]]], remote: str
) -> None:
    """The models of older versions that no cache has, from the DVC remote, by DVC."""
    from gitml.interop.dvcremote import fetch

    def local(out: DvcOutput) -> bool:
        paths = object_paths(cache_dir(ctx.root, out.dvc_root), out.md5, legacy=out.legacy)
        return known.get(out.legacy, out.md5) is not None or any(p.is_file() for p in paths)

    outs = [out for items in todo.values() for _label, out in items.values()]
    wanted = sorted({(out.md5, out.legacy) for out in outs if not local(out)})
    if wanted:
        fetch(ctx.root, remote, wanted, ctx.reporter)


def _store_all(
    ctx: RepoContext,
    ingestor: Ingestor,
    todo: dict[str, dict[str, tuple[str, DvcOutput]]],
    result: ImportResult,
    *,
    dry_run: bool,
) -> dict[str, dict[str, Pointer]]:
    out: dict[str, dict[str, Pointer]] = {}
    for commit, items in todo.items():
        for path, (label, dvc) in sorted(items.items()):
            paths = object_paths(cache_dir(ctx.root, dvc.dvc_root), dvc.md5, legacy=dvc.legacy)
            stored = ingestor.lookup(dvc.md5, dvc.legacy)
            if stored is None and not dry_run:
                found = ingestor.from_cache(dvc.md5, dvc.legacy, paths)
                stored = None if found is None else (found.oid, found.size)
            if stored is None and not (dry_run and any(p.is_file() for p in paths)):
                why = "its model is not in the DVC cache (dvc fetch it first)"
                result.not_converted.append(NotConverted(label, commit[:12], why))
                continue
            if stored is not None:
                name = posixpath.basename(path)
                out.setdefault(commit, {})[path] = Pointer(name, "file", stored[0], stored[1])
            result.carried.append(
                Carried("registered version", label,
                        f"{path} at {commit[:12]} ({CONVERTED_PREFIX}{commit[:12]}…)")
            )  # fmt: skip
    return out


def _side_commit(ctx: RepoContext, commit: str, pointers: dict[str, Pointer]) -> None:
    from gitml.git.commits import set_ref

    ref = f"{CONVERTED_PREFIX}{commit}"
    files = {}
    for path, pointer in pointers.items():
        _s, out, _e = ctx.git.run("hash-object", "-w", "--stdin", input=format_pointer(pointer))
        files[pointer_name(path)] = out.decode("ascii").strip()
    previous = ctx.git.try_rev_parse(ref)
    base = previous or commit
    tree = _tree_with(ctx, ctx.git.rev_parse(f"{base}^{{tree}}", kind="object"), files)
    message = f"gitml import-dvc: pointers of the DVC outputs of {commit}\n"
    with _as_of(ctx, commit):
        _s, out, _e = ctx.git.run("commit-tree", tree, "-p", commit, "-F", "-",
                                  input=message.encode("utf-8"))  # fmt: skip
    set_ref(ctx.git, ref, out.decode("ascii").strip(), message="gitml import-dvc")


@contextlib.contextmanager
def _as_of(ctx: RepoContext, commit: str) -> Iterator[None]:
    """Side commits made by gitml, dated as the commit they describe: the same
    conversion in two clones gives the same commit, so pushing it never clashes."""
    _s, out, _e = ctx.git.run("show", "-s", "--format=%ct", commit)
    when = f"{out.decode('ascii').strip()} +0000"
    values = {"GIT_AUTHOR_NAME": "gitml", "GIT_AUTHOR_EMAIL": "gitml@localhost",
              "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_NAME": "gitml",
              "GIT_COMMITTER_EMAIL": "gitml@localhost", "GIT_COMMITTER_DATE": when}  # fmt: skip
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _tree_with(ctx: RepoContext, tree: str, files: dict[str, str]) -> str:
    """``tree`` with ``files`` (path -> blob) added or replaced; a new tree's id."""
    _s, out, _e = ctx.git.run("ls-tree", "-z", tree)
    entries: dict[str, tuple[str, str, str]] = {}  # name -> (mode, type, sha)
    for record in out.split(b"\0"):
        if record:
            meta, _, raw = record.partition(b"\t")
            mode, kind, sha = meta.decode("ascii").split(" ")
            entries[raw.decode("utf-8", "surrogateescape")] = (mode, kind, sha)
    below: dict[str, dict[str, str]] = {}
    for path, blob in files.items():
        head, sep, rest = path.partition("/")
        if sep:
            below.setdefault(head, {})[rest] = blob
        else:
            entries[head] = ("100644", "blob", blob)
    for name, sub in below.items():
        current = entries.get(name)
        subtree = current[2] if current is not None and current[1] == "tree" else EMPTY_TREE
        entries[name] = ("040000", "tree", _tree_with(ctx, subtree, sub))
    listing = b"".join(
        f"{mode} {kind} {sha}\t".encode("ascii") + name.encode("utf-8", "surrogateescape") + b"\0"
        for name, (mode, kind, sha) in sorted(entries.items())
    )
    _s, out, _e = ctx.git.run("mktree", "-z", input=listing)
    return out.decode("ascii").strip()
