"""A cached clone of another repository's git history, for reading its pointers.

``gitml get``/``import``/``ls`` and ``gitml.open(repo=URL)`` read another
repository: its commits, tags (the registry) and pointer files, never its data
(that comes from its data remote). One clone per URL lives under the user's
cache folder and is brought up to date by one ``git fetch`` per use.

The clone has no checkout (pointers are read from trees, so nothing is written
but git's own files) and, for network URLs, no blobs until one is read
(``--filter=blob:none``): a repository with a long history costs its commits
and trees, and the few pointer blobs actually read.

The URL is untrusted when it comes from an import pointer of a cloned
repository: only the file, git, http(s) and ssh transports are allowed (git's
``ext::`` would run a command), the URL is passed after ``--`` (one starting
with ``-`` is not an option), and git never prompts (a missing credential is an
error, not a hung process).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from gitml.errors import GitError, UsageError
from gitml.git.environment import clean_env, find_git
from gitml.git.runner import first_error_line, redact

ALLOWED_PROTOCOLS = "file:git:http:https:ssh"
CLONE_TIMEOUT = 600.0  # seconds one clone or fetch may take
_FETCH_REFSPECS = (
    "+refs/heads/*:refs/heads/*",
    "+refs/tags/*:refs/tags/*",
    "+refs/notes/*:refs/notes/*",
)
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[^/:]+:")


def is_network_url(url: str) -> bool:
    """``https://…``, ``ssh://…``, ``git://…`` or scp-like ``user@host:path``."""
    return ("://" in url and not url.startswith("file://")) or bool(_SCP_LIKE.match(url))


def check_url(url: str) -> str:
    if not url or len(url) > 1024 or any(ord(c) < 0x20 for c in url):
        raise UsageError(f"{url[:80]!r} is not a repository URL or path")
    if url.startswith("-"):
        raise UsageError(f"{url[:80]!r} is not a repository URL or path (starts with '-')")
    scheme = url.split("://", 1)[0] if "://" in url else None
    if scheme is not None and scheme not in ALLOWED_PROTOCOLS.split(":"):
        raise UsageError(
            f"repository URL scheme {scheme!r} is not allowed",
            "use a path, file://, https://, ssh:// or git@host:path",
        )
    if "::" in url.split("/", 1)[0]:  # git's transport::address syntax (ext::, fd::)
        raise UsageError(f"repository URL {url[:80]!r} uses a git remote helper, not allowed")
    return url


def clone_dir(cache_home: Path, url: str) -> Path:
    """Where the clone of ``url`` (already made absolute if local) lives."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]
    tail = re.sub(r"[^A-Za-z0-9._-]+", "_", url.rstrip("/").rsplit("/", 1)[-1])[-40:]
    return cache_home / "repos" / f"{tail or 'repo'}-{digest}"


def _git(args: list[str], cwd: Path, what: str, timeout: float) -> None:
    env = clean_env()
    env.update(
        LC_ALL="C",
        LANGUAGE="C",
        GIT_TERMINAL_PROMPT="0",
        GIT_ALLOW_PROTOCOL=ALLOWED_PROTOCOLS,
        GIT_SSH_COMMAND=env.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
    )
    try:
        proc = subprocess.run(
            [str(find_git([cwd])), *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"{what} took longer than {timeout:g} s") from None
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}") from None
    if proc.returncode != 0:
        err = redact(first_error_line(proc.stderr.decode("utf-8", "replace")))
        raise GitError(
            f"{what} failed: {err}",
            "check the URL, and that your git credentials (ssh key, credential helper) reach it",
        )


def update_clone(url: str, dest: Path, *, timeout: float = CLONE_TIMEOUT) -> Path:
    """Clone ``url`` into ``dest`` (first use) or fetch its refs; returns ``dest``.
    ``timeout``: seconds each git command may take.

    Branches and tags of the source become the clone's own (``refs/heads/*``),
    so a revision means in the clone what it means in the source.
    """
    check_url(url)
    shown = redact(url)
    if not (dest / ".git").is_dir():
        if dest.exists():  # a stray folder under the clone's name (our cache): redo it
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
        args = ["clone", "--quiet", "--no-checkout"]
        if is_network_url(url):
            args.append("--filter=blob:none")
        try:
            _git([*args, "--", url, str(tmp)], dest.parent, f"cloning {shown}", timeout)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        os.replace(tmp, dest)  # a half-made clone is never found under its name
    fetch = ["fetch", "--quiet", "--prune", "--force", "--update-head-ok", "origin"]
    _git([*fetch, *_FETCH_REFSPECS], dest, f"fetching {shown}", timeout)
    return dest
