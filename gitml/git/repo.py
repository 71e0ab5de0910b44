"""A git work tree, as gitml needs it.

Every listing uses ``-z`` (names with spaces, tabs, newlines, unicode or a
leading ``-`` come back verbatim, no C-quoting), every path argument goes
after ``--`` and is a *literal* path (``--literal-pathspecs``: ``*.csv`` is a
file name, not a glob), and every read of object contents goes through one
persistent ``git cat-file --batch`` process: reading N blobs costs one process,
never N. Non-UTF-8 names are decoded with ``os.fsdecode`` so they round-trip.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from gitml.errors import GitError, NotARepoError
from gitml.git import log as _log
from gitml.git.environment import clean_env, find_git
from gitml.git.pathspec import literal, tree_filter
from gitml.git.refname import check_rev
from gitml.git.runner import GitRunner, first_error_line

ObjectKind = Literal["commit", "tree", "blob", "tag", "object"]

# Above this many paths, list everything once and filter in Python instead of
# passing pathspecs (keeps argv short and is one process either way).
_MAX_PATHSPECS = 512
_MAX_ARGV_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One ``git ls-tree`` / ``git ls-files -s`` row."""

    mode: str
    kind: str  # blob | tree | commit (submodule)
    sha: str
    path: str

    @property
    def is_file(self) -> bool:
        """A regular file (not a symlink, not a submodule)."""
        return self.kind == "blob" and self.mode.startswith("100")


def _check_paths(paths: Iterable[str]) -> list[str]:
    out = list(paths)
    for p in out:
        if not p or "\0" in p:
            raise GitError(f"invalid path {p!r}")
    return out


def _chunks(items: Sequence[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    size = 0
    for item in items:
        n = len(os.fsencode(item)) + 1
        if chunk and size + n > _MAX_ARGV_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += n
    if chunk:
        yield chunk


def _exact_specs(paths: list[str]) -> list[str]:
    """Literal pathspecs for exact paths; none (= list everything) when there are many."""
    return [f":(literal){p}" for p in paths] if len(paths) <= _MAX_PATHSPECS else []


def _chunks_or_all(specs: list[str]) -> Iterator[list[str]]:
    """Argument chunks for ``specs``; one empty chunk (= everything) when there are none."""
    if not specs:
        yield []
        return
    yield from _chunks(specs)


def _split_z(data: bytes) -> list[bytes]:
    parts = data.split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    return parts


def _parse_entry(record: bytes, *, staged: bool) -> TreeEntry:
    meta, tab, raw_path = record.partition(b"\t")
    fields = meta.decode("ascii", "replace").split(" ")
    if not tab or len(fields) != 3:
        raise GitError(f"unexpected git output: {record[:80]!r}")
    path = os.fsdecode(raw_path)
    if staged:  # <mode> <sha> <stage>
        mode, sha, stage = fields
        kind = {"160000": "commit", "040000": "tree"}.get(mode, "blob")
        return TreeEntry(mode, kind if stage == "0" else f"stage{stage}", sha, path)
    mode, kind, sha = fields
    return TreeEntry(mode, kind, sha, path)


def _inherited_index(git_dir: Path) -> Path | None:
    """The index a hook was told to use (``git commit -a``/``<paths>`` use a temporary one).

    Kept only when it lies inside this repository's git dir, so a variable
    inherited from another repository's hook is ignored.
    """
    value = os.environ.get("GIT_INDEX_FILE")
    if not value:
        return None
    path = Path(value) if os.path.isabs(value) else Path.cwd() / value
    try:
        path.resolve().relative_to(git_dir.resolve())
    except (OSError, ValueError):
        return None
    return path


class GitRepo:
    """One git work tree. Use :meth:`discover`; close (or ``with``) to stop cat-file."""

    root: Path
    git_dir: Path
    common_dir: Path

    def __init__(self, root: Path, git_dir: Path, common_dir: Path, *, executable: Path) -> None:
        self.root = root
        self.git_dir = git_dir
        self.common_dir = common_dir
        self.index_file = _inherited_index(git_dir) or git_dir / "index"
        env = {"GIT_DIR": str(git_dir), "GIT_WORK_TREE": str(root)}
        # Override (GitPython cannot remove variables) whatever locating
        # variable we inherited, with the value that means "this repository".
        neutral = {
            "GIT_COMMON_DIR": str(common_dir),
            "GIT_INDEX_FILE": str(self.index_file),
            "GIT_OBJECT_DIRECTORY": str(common_dir / "objects"),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": "",
            "GIT_PREFIX": "",
        }
        env.update({k: v for k, v in neutral.items() if k in os.environ})
        if self.index_file != git_dir / "index":
            env["GIT_INDEX_FILE"] = str(self.index_file)
        self._runner = GitRunner(root, executable, env)

    # -- discovery --------------------------------------------------------
    @classmethod
    def discover(cls, start: Path | str = ".") -> GitRepo:
        """The work tree containing ``start`` (linked worktrees included)."""
        here = Path(start).absolute()
        if not here.exists():
            raise NotARepoError(f"{here} does not exist")
        if not here.is_dir():
            here = here.parent
        # Never run a git that lives inside a repository around `start`.
        exe = find_git(exclude=[p for p in (here, *here.parents) if (p / ".git").exists()])
        env = clean_env()
        env.update(LC_ALL="C", LANGUAGE="C")
        try:
            proc = subprocess.run(
                [
                    str(exe),
                    "rev-parse",
                    "--show-toplevel",
                    "--absolute-git-dir",
                    "--git-common-dir",
                ],
                cwd=here,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
        except OSError as exc:
            raise GitError(f"cannot run git ({exe}): {exc.strerror}") from None
        err = proc.stderr.decode("utf-8", "replace")
        if proc.returncode != 0:
            if "not a git repository" in err:
                raise NotARepoError("not inside a git repository", "run `git init` first")
            if "must be run in a work tree" in err:
                raise NotARepoError(
                    "not inside a git work tree", "run gitml in a checkout, not a bare repository"
                )
            raise GitError(f"git rev-parse failed: {first_error_line(err)}")
        lines = os.fsdecode(proc.stdout).split("\n")
        if len(lines) != 4 or lines[3] != "":
            raise NotARepoError(f"cannot use the repository at {here}: unusual path")
        root, git_dir = Path(lines[0]), Path(lines[1])
        common = Path(lines[2]) if os.path.isabs(lines[2]) else here / lines[2]
        return cls(root, git_dir, Path(os.path.normpath(common)), executable=find_git([root]))

    # -- lifecycle --------------------------------------------------------
    def close(self) -> None:
        """Stop the persistent cat-file process."""
        self._runner.close()

    def __enter__(self) -> GitRepo:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GitRepo({str(self.root)!r})"

    def clean_env(self) -> dict[str, str]:
        """``os.environ`` without GIT_DIR, GIT_INDEX_FILE... for processes started elsewhere."""
        return clean_env()

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        ok: Iterable[int] = (0,),
        timeout: float | None = None,
    ) -> tuple[int, bytes, str]:
        """Low-level ``git <args>`` for the modules of :mod:`gitml.git` only."""
        res = self._runner.run(args, input=input, ok=ok, timeout=timeout)
        return res.status, res.stdout, res.stderr

    # -- revisions --------------------------------------------------------
    def try_rev_parse(self, rev: str, *, kind: ObjectKind = "commit") -> str | None:
        """The object id ``rev`` names (peeled to ``kind``), or None if there is none."""
        # "<rev>:<path>" takes no ^{kind} suffix (it would become part of the path).
        tree_path = ":" in check_rev(rev)
        spec = rev if tree_path else f"{rev}^{{{kind}}}"
        res = self._runner.run(["rev-parse", "--verify", "--quiet", spec], ok=(0, 1, 128))
        out = res.stdout.decode("ascii", "replace").strip()
        if res.status != 0 or not out:
            return None
        if tree_path and kind != "object":
            typ = self._runner.run(["cat-file", "-t", out]).stdout.decode("ascii").strip()
            return out if typ == kind else None
        return out

    def rev_parse(self, rev: str, *, kind: ObjectKind = "commit") -> str:
        """Like :meth:`try_rev_parse` but raises :class:`GitError` naming ``rev``."""
        sha = self.try_rev_parse(rev, kind=kind)
        if sha is None:
            raise GitError(f"unknown revision {rev!r}", f"it must name a {kind} in {self.root}")
        return sha

    def head(self) -> str | None:
        """The commit HEAD points to, or None on an unborn branch."""
        return self.try_rev_parse("HEAD")

    def current_branch(self) -> str | None:
        """Short branch name, or None when HEAD is detached."""
        res = self._runner.run(["symbolic-ref", "--quiet", "--short", "HEAD"], ok=(0, 1, 128))
        name = os.fsdecode(res.stdout).strip()
        return name if res.status == 0 and name else None

    def list_refs(self, *patterns: str) -> dict[str, str]:
        """``refname -> object id`` for refs matching ``patterns`` (all refs if none)."""
        args = ["for-each-ref", "--format=%(objectname) %(refname)", *map(check_rev, patterns)]
        refs: dict[str, str] = {}
        for line in os.fsdecode(self._runner.run(args).stdout).splitlines():
            sha, _, name = line.partition(" ")
            refs[name] = sha
        return refs

    def remote_names(self) -> list[str]:
        """Names of the configured git remotes."""
        out = os.fsdecode(self._runner.run(["remote"]).stdout)
        return [name for name in out.splitlines() if name]

    def hooks_dir(self) -> Path:
        """Where git looks for hooks (``core.hooksPath`` aware, worktree aware)."""
        out = os.fsdecode(self._runner.run(["rev-parse", "--git-path", "hooks"]).stdout)
        path = out.rstrip("\n")
        return Path(os.path.normpath(self.root / path))

    # -- listings ---------------------------------------------------------
    def ls_files(self, *pathspecs: str) -> list[str]:
        """Paths in the index (each once), limited to ``pathspecs`` if given.

        Plain strings are literal paths (a folder selects what is below it);
        explicit magic such as ``:(glob)**/*.gitml`` is honoured.
        """
        seen: dict[str, None] = {}
        for chunk in _chunks_or_all([literal(p) for p in pathspecs]):
            out = self._runner.run(["ls-files", "-z", "--", *chunk]).stdout
            seen.update(dict.fromkeys(os.fsdecode(p) for p in _split_z(out)))
        return list(seen)

    def ls_tree_entries(self, rev: str, *pathspecs: str) -> list[TreeEntry]:
        """Every entry of ``rev``'s tree (recursive), limited like :meth:`ls_files`.

        ``git ls-tree`` knows no ``:(glob)`` magic; globs are applied here.
        """
        check_rev(rev)
        plan = tree_filter(pathspecs)
        entries: list[TreeEntry] = []
        for chunk in _chunks_or_all(plan.git_specs):
            args = ["ls-tree", "-r", "-z", "--full-tree", rev, "--", *chunk]
            out = self._runner.run(args, what=f"listing {rev!r}").stdout
            entries.extend(_parse_entry(rec, staged=False) for rec in _split_z(out))
        if plan.globs:
            entries = [e for e in entries if plan.matches(e.path)]
        return entries

    def ls_tree(self, rev: str, *pathspecs: str) -> dict[str, str]:
        """``path -> blob sha`` of the regular files (no symlinks/submodules) at ``rev``."""
        return {e.path: e.sha for e in self.ls_tree_entries(rev, *pathspecs) if e.is_file}

    def staged_entries(self, *pathspecs: str) -> list[TreeEntry]:
        """``git ls-files -s`` rows; unmerged rows have kind ``stage1``..``stage3``."""
        entries: list[TreeEntry] = []
        for chunk in _chunks_or_all([literal(p) for p in pathspecs]):
            out = self._runner.run(["ls-files", "-s", "-z", "--", *chunk]).stdout
            entries.extend(_parse_entry(rec, staged=True) for rec in _split_z(out))
        return entries

    # -- contents ---------------------------------------------------------
    def read_blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """``sha -> bytes`` for blobs, all through one ``cat-file --batch`` process."""
        wanted = list(dict.fromkeys(shas))
        out: dict[str, bytes] = {}
        for sha, kind, data in self._runner.read_objects(wanted):
            if kind != "blob":
                raise GitError(f"object {sha} is a {kind}, not a file")
            out[sha] = data
        return out

    def blob_sizes(self, shas: Iterable[str]) -> dict[str, int]:
        """``sha -> size`` of blobs, from one ``cat-file --batch-check`` (in a
        partial clone git fetches the missing ones: callers avoid that)."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        res = self._runner.run(
            ["cat-file", "--batch-check=%(objectname) %(objectsize)", "--buffer"],
            input="".join(f"{sha}\n" for sha in wanted).encode("ascii"),
        )
        out: dict[str, int] = {}
        for line in res.stdout.decode("ascii", "replace").splitlines():
            sha, _, size = line.partition(" ")
            if size.isdigit():
                out[sha] = int(size)
        return out

    def read_files_at(self, rev: str, paths: Iterable[str]) -> dict[str, bytes | None]:
        """Contents of ``paths`` at ``rev`` (None: absent or not a regular file).

        One ``ls-tree`` plus one batch read, whatever the number of paths.
        """
        wanted = _check_paths(paths)
        if not wanted:
            return {}
        found = self.ls_tree(rev, *_exact_specs(wanted))
        return self._fill(wanted, found)

    def staged_blobs(self, paths: Iterable[str]) -> dict[str, bytes | None]:
        """Contents of ``paths`` in the index, stage 0 (None: absent, unmerged or not a file).

        Inside a pre-commit hook this reads the index being committed
        (``GIT_INDEX_FILE``), which differs from ``.git/index`` for
        ``git commit -a`` and ``git commit <paths>``.
        """
        wanted = _check_paths(paths)
        if not wanted:
            return {}
        found = {e.path: e.sha for e in self.staged_entries(*_exact_specs(wanted)) if e.is_file}
        return self._fill(wanted, found)

    def _fill(self, wanted: list[str], found: dict[str, str]) -> dict[str, bytes | None]:
        shas = [found[p] for p in wanted if p in found]
        blobs = self.read_blobs(shas)
        return {p: (blobs[found[p]] if p in found else None) for p in wanted}

    # -- index ------------------------------------------------------------
    def add(self, paths: Iterable[str], *, force: bool = False) -> None:
        """``git add`` literal paths (any number: passed on stdin, NUL-separated)."""
        self._pathspec_stdin(["add", *(["--force"] if force else [])], paths)

    def rm_cached(self, paths: Iterable[str]) -> None:
        """Untrack paths (recursively), keeping the files; unknown paths are ignored."""
        self._pathspec_stdin(["rm", "--cached", "-r", "-q", "--ignore-unmatch"], paths)

    def commit_only(self, paths: Iterable[str], message: str) -> str:
        """``git commit --only`` of these literal paths (whatever else is staged
        stays staged, uncommitted); the new commit's id. The repository's hooks
        run. Any failure (a hook said no, nothing to commit, no identity) raises
        GitError with git's own message (stderr, else stdout)."""
        items = _check_paths(paths)
        if not items:
            raise GitError("git commit failed: no paths to commit")
        data = b"\0".join(os.fsencode(p) for p in items) + b"\0"
        argv = ["--literal-pathspecs", "commit", "-q", "--only", "-m", message,
                "--pathspec-from-file=-", "--pathspec-file-nul"]  # fmt: skip
        res = self._runner.run(argv, input=data, ok=range(256))
        if res.status != 0:
            said = res.stderr if res.stderr.strip() else res.stdout.decode("utf-8", "replace")
            raise GitError(f"git commit failed: {first_error_line(said)}")
        return self.rev_parse("HEAD")

    def _pathspec_stdin(self, args: list[str], paths: Iterable[str]) -> None:
        items = _check_paths(paths)
        if not items:
            return
        data = b"\0".join(os.fsencode(p) for p in items) + b"\0"
        argv = ["--literal-pathspecs", *args, "--pathspec-from-file=-", "--pathspec-file-nul"]
        self._runner.run(argv, input=data)

    # -- config (reads: effective value; writes: this repository's .git/config)
    def config_get_all(self, key: str) -> list[str]:
        """All values of ``key`` from every scope, in git's order."""
        res = self._runner.run(["config", "-z", "--get-all", "--", _check_key(key)], ok=(0, 1))
        return [os.fsdecode(v) for v in _split_z(res.stdout)] if res.status == 0 else []

    def config_get(self, key: str, default: str | None = None) -> str | None:
        """The effective (last) value of ``key``, or ``default``."""
        values = self.config_get_all(key)
        return values[-1] if values else default

    def config_set(self, key: str, value: str) -> None:
        """Set ``key`` in the local config, replacing a single existing value."""
        self._runner.run(["config", "--local", "--", _check_key(key), _check_value(value)])

    def config_add(self, key: str, value: str) -> None:
        """Add one more value to a multi-valued local key."""
        self._runner.run(["config", "--local", "--add", "--", _check_key(key), _check_value(value)])

    def config_unset(self, key: str, value: str | None = None) -> None:
        """Remove every local value of ``key`` (or only those equal to ``value``)."""
        args = ["config", "--local", "--unset-all"]
        if value is not None:
            args = ["config", "--local", "--fixed-value", "--unset-all"]
        tail = [_check_key(key)] + ([_check_value(value)] if value is not None else [])
        self._runner.run([*args, "--", *tail], ok=(0, 5))  # 5: nothing to unset

    # -- history ----------------------------------------------------------
    def log_shas(self, rev_range: str = "HEAD", paths: Iterable[str] = ()) -> list[str]:
        """Commit ids of ``rev_range`` touching ``paths`` (newest first)."""
        return _log.log_shas(self, rev_range, _check_paths(paths))

    def log_records(
        self,
        rev_range: str = "HEAD",
        paths: Iterable[str] = (),
        *,
        max_count: int | None = None,
        notes: bool = False,
    ) -> list[_log.LogRecord]:
        """The history in ONE ``git log``; with ``notes``, gitml notes in one more read."""
        return _log.log_records(
            self, rev_range, _check_paths(paths), max_count=max_count, notes=notes
        )


def _check_key(key: str) -> str:
    if not key or key.startswith("-") or "." not in key or any(c in key for c in "\0\n"):
        raise GitError(f"invalid git config key {key!r}")
    return key


def _check_value(value: str) -> str:
    if "\0" in value:
        raise GitError("git config values cannot contain NUL")
    return value
