"""Tracked config is untrusted; remote names and URLs are checked before anything is
written; comments survive every write; a stale local remote blocks nothing; every
remote request has an overall deadline (issue 11 items 2, 5, 10, 11)."""

from __future__ import annotations

import os
import shutil
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitml.store.hashing import hash_bytes
from tests.conftest import Cli, git
from tests.servers import DUMMY_SECRET, dummy_env

CONFIG = Path(".gitml/config.toml")
LOCAL = Path(".gitml/config.local.toml")


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def object_path(cache: Path, data: bytes) -> Path:
    oid = hash_bytes(data)
    return cache / oid[:2] / oid[2:]


# ---------------------------------------------------------------- cache.dir / cache.link


@pytest.fixture
def neighbour(tmp_path: Path) -> Path:
    """Another project beside the repository, with objects in its cache."""
    cache = tmp_path / "projA" / ".gitml" / "cache"
    (cache / "ab").mkdir(parents=True)
    (cache / "ab" / ("c" * 62)).write_bytes(b"projA's object")
    return cache


@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_tracked_cache_dir_outside_the_repo_is_not_written_on_add(
    repo: Path, cli: Cli, neighbour: Path, how: str
) -> None:
    if how == "relative":
        value = "../projA/.gitml/cache"
    elif how == "absolute":
        value = str(neighbour)
    else:  # a committed symlink inside the repository that leads out of it
        (repo / "cachelink").symlink_to("../projA/.gitml/cache")
        git(repo, "add", "cachelink")
        value = "cachelink"
    (repo / CONFIG).write_text(f'[cache]\ndir = "{value}"\n')
    before = files_under(neighbour)
    (repo / "data.bin").write_bytes(b"my data")
    result = cli("add", "data.bin")
    assert files_under(neighbour) == before
    assert object_path(repo / ".gitml/cache", b"my data").is_file()
    assert result.err.count("warning:") == 1
    assert "ignoring cache.dir" in result.err and "outside the repository" in result.err
    assert "gitml config set --local cache.dir" in result.err


def test_cloned_hostile_cache_dir_is_not_written_on_pull(
    repo: Path, cli: Cli, neighbour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("remote", "add", "origin", str(tmp_path / "remote"))
    (repo / "data.bin").write_bytes(b"shared data")
    cli("add", "data.bin")
    git(repo, "commit", "-qm", "data")
    cli("push")
    git(repo, "notes", "--ref=gitml", "add", "-m", "{}", "HEAD")  # as the hooks would
    text = (repo / CONFIG).read_text() + '\n[cache]\ndir = "../projA/.gitml/cache"\n'
    (repo / CONFIG).write_text(text.replace('[cache]\nlink = "auto"\n', ""))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "hostile cache.dir")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    monkeypatch.chdir(clone)
    before = files_under(neighbour)
    result = cli("pull")
    assert files_under(neighbour) == before
    assert (clone / "data.bin").read_bytes() == b"shared data"
    assert object_path(clone / ".gitml/cache", b"shared data").is_file()
    assert "ignoring cache.dir" in result.err


def test_the_local_config_may_put_the_cache_outside(repo: Path, cli: Cli, tmp_path: Path) -> None:
    shared = tmp_path / "shared-cache"
    cli("config", "set", "--local", "cache.dir", str(shared))
    (repo / "data.bin").write_bytes(b"local choice")
    assert "warning" not in cli("add", "data.bin").err
    assert object_path(shared, b"local choice").is_file()


def test_a_committed_cache_symlink_leading_out_is_refused(
    repo: Path, cli: Cli, neighbour: Path
) -> None:
    shutil.rmtree(repo / ".gitml/cache", ignore_errors=True)
    (repo / ".gitml/cache").symlink_to(neighbour)
    before = files_under(neighbour)
    (repo / "data.bin").write_bytes(b"x data")
    result = cli("add", "data.bin", expect=3)
    assert result.err.startswith("error: .gitml/cache leads outside the repository")
    assert f"hint: if you made that link: gitml config set --local cache.dir {neighbour}" in (
        result.err
    )
    assert files_under(neighbour) == before
    cli("config", "set", "--local", "cache.dir", str(neighbour))  # the hinted fix works
    cli("add", "data.bin")
    assert object_path(neighbour, b"x data").is_file()


def test_tracked_hardlink_mode_is_not_honoured(repo: Path, cli: Cli) -> None:
    (repo / CONFIG).write_text('[cache]\nlink = "hardlink"\n')
    (repo / "a.bin").write_bytes(b"a data")
    result = cli("add", "a.bin")
    assert os.stat(repo / "a.bin").st_nlink == 1
    assert not os.path.samefile(repo / "a.bin", object_path(repo / ".gitml/cache", b"a data"))
    assert "ignoring cache.link = 'hardlink'" in result.err
    assert "gitml config set --local cache.link hardlink" in result.err
    cli("config", "set", "--local", "cache.link", "hardlink")
    (repo / "b.bin").write_bytes(b"b data")
    assert "warning" not in cli("add", "b.bin").err
    assert os.path.samefile(repo / "b.bin", object_path(repo / ".gitml/cache", b"b data"))


def test_config_set_refuses_untrusted_values_in_the_tracked_file(
    repo: Path, cli: Cli, tmp_path: Path
) -> None:
    before = (repo / CONFIG).read_bytes()
    err = cli("config", "set", "cache.dir", str(tmp_path / "out"), expect=2).err
    assert "outside the repository" in err
    assert f"hint: gitml config set --local cache.dir {tmp_path / 'out'}" in err
    err = cli("config", "set", "cache.link", "symlink", expect=2).err
    assert "hint: gitml config set --local cache.link symlink" in err
    err = cli("config", "set", "remote.origin.secret_access_key", "abcdefgh", expect=2).err
    assert "secret" in err
    assert (repo / CONFIG).read_bytes() == before


# ---------------------------------------------------------------- remote add


@pytest.mark.parametrize(
    ("args", "secret"),
    [
        (
            ["s3://bucket/p", "--endpoint-url", "http://AKIAKEY:SECRETXYZ@127.0.0.1:9000"],
            "SECRETXYZ",
        ),
        (
            ["s3://bucket/p", "--endpoint-url", "http://127.0.0.1:9000/?token=SECRETXYZ"],
            "SECRETXYZ",
        ),
        (["s3://bucket/p", "--endpoint-url", "http://h:1/?X-Amz-Signature=SECRETXYZ"], "SECRETXYZ"),
        (["s3://AKIAKEY:SECRETXYZ@bucket/p"], "SECRETXYZ"),
        (["s3://bucket/p?X-Amz-Credential=SECRETXYZ"], "SECRETXYZ"),
    ],
)
def test_remote_add_with_a_secret_writes_nothing(
    repo: Path, cli: Cli, args: list[str], secret: str
) -> None:
    before = (repo / CONFIG).read_bytes()
    staged = git(repo, "diff", "--cached", "--name-only")
    result = cli("remote", "add", "s3", *args, expect=2)
    assert "contains credentials" in result.err
    assert "hint: put credentials in .gitml/config.local.toml" in result.err
    assert secret not in result.err + result.out
    assert (repo / CONFIG).read_bytes() == before
    assert not (repo / LOCAL).exists()
    assert git(repo, "diff", "--cached", "--name-only") == staged


@pytest.mark.parametrize(
    "name", ['ev"il', "a\nb", '"] [core]\nremote = "x', "-x", "a b", ".", "x" * 65]
)
def test_invalid_remote_names_are_refused(repo: Path, cli: Cli, name: str, tmp_path: Path) -> None:
    before = (repo / CONFIG).read_bytes()
    result = cli("remote", "add", "--", name, str(tmp_path / "r"), expect=2)
    assert result.err.startswith("error: invalid remote name")
    assert (repo / CONFIG).read_bytes() == before


def test_comments_survive_remote_add_and_config_set(repo: Path, cli: Cli, tmp_path: Path) -> None:
    header = (repo / CONFIG).read_text().splitlines()[0]
    assert header.startswith("# gitml configuration (tracked)")
    text = (
        (repo / CONFIG)
        .read_text()
        .replace('link = "auto"', 'link = "auto"  # reflink where the filesystem can')
    )
    (repo / CONFIG).write_text("# team notes: ask ops before changing the remote\n" + text)
    cli("remote", "add", "origin", str(tmp_path / "r"))
    assert (repo / CONFIG).read_text().startswith("# team notes: ask ops")
    assert "# reflink where the filesystem can" in (repo / CONFIG).read_text()
    cli("config", "set", "core.jobs", "4")
    cli("config", "set", "remote.origin.timeout", "120")
    cli("remote", "add", "backup", str(tmp_path / "b"))
    cli("remote", "remove", "backup")
    cli("config", "unset", "core.jobs")
    final = (repo / CONFIG).read_text()
    assert final.startswith("# team notes: ask ops before changing the remote\n" + header)
    assert 'link = "auto"  # reflink where the filesystem can' in final
    assert "timeout = 120" in final and "backup" not in final and "jobs" not in final
    assert cli("config", "get", "remote.origin.timeout").out == "120\n"


# ---------------------------------------------------------------- stale local remote


def test_stale_local_remote_blocks_neither_status_nor_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    monkeypatch.chdir(root)
    cli("init")  # with the hooks: git commit runs gitml
    cli("remote", "add", "origin", str(tmp_path / "remote"))
    # a teammate renamed "s3" to "origin"; our ignored file still has the old section
    (root / LOCAL).write_text(
        '[core]\nremote = "s3"\n\n[remote."s3"]\naccess_key_id = "AKIAOLD"\n'
        'secret_access_key = "old-secret-123"\n'
    )
    (root / "data.bin").write_bytes(b"data")
    status = cli("status")
    assert "ignoring remote 's3'" in status.err
    assert "fix: gitml remote remove s3 --local" in status.err
    cli("add", "data.bin")
    commit = subprocess.run(
        ["git", "commit", "-qm", "data"], cwd=root, capture_output=True, text=True
    )
    assert commit.returncode == 0, commit.stderr
    assert "old-secret-123" not in commit.stderr
    # a command that needs that remote says why it cannot use it
    push = cli("push", expect=3).err.splitlines()
    assert push[1].startswith("error: remote 's3' has no url (.gitml/config.local.toml has a")
    assert push[2] == "hint: gitml remote remove s3 --local"
    cli("remote", "remove", "s3", "--local")  # the hinted fix works (and drops core.remote)
    assert "warning" not in cli("status").err
    assert "pushed 1 objects" in cli("push").out
    # a stale default remote alone: a warning, and its hinted fix works too
    (root / LOCAL).write_text('[core]\nremote = "gone"\n')
    after = cli("status").err
    assert "core.remote names 'gone', which is not a configured remote" in after
    assert "fix: gitml config unset --local core.remote" in after
    cli("config", "unset", "--local", "core.remote")
    assert "warning" not in cli("status").err


def test_unknown_section_in_the_local_file_is_a_warning(repo: Path, cli: Cli) -> None:
    (repo / LOCAL).write_text("[cahce]\nlink = 'copy'\n")
    err = cli("status").err
    assert "ignoring" in err and "unknown section [cahce] (did you mean 'cache'?)" in err


# ---------------------------------------------------------------- overall deadline


class TrickleServer:
    """Answers every HTTP request with one byte every ``every`` seconds, forever:
    no socket read ever waits long enough to time out."""

    def __init__(self, every: float = 0.3) -> None:
        self.stop = threading.Event()
        self.requests = 0
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.rfile.readline(65537)
                server.requests += 1
                payload = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000
                try:
                    for byte in payload:
                        if server.stop.wait(every):
                            return
                        self.connection.sendall(bytes([byte]))
                except OSError:
                    return

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def trickle() -> Iterator[TrickleServer]:
    server = TrickleServer()
    try:
        yield server
    finally:
        server.close()


def test_a_trickling_endpoint_hits_the_overall_deadline(
    repo: Path, cli: Cli, trickle: TrickleServer
) -> None:
    pytest.importorskip("s3fs")
    cli("remote", "add", "slow", "s3://bucket/p", "--endpoint-url", trickle.url)
    cli("config", "set", "--local", "remote.slow.timeout", "2")
    (repo / "data.bin").write_bytes(b"data for a slow remote")
    cli("add", "data.bin")
    env = {**os.environ, **dummy_env()}
    try:  # before the deadline existed this never returned (a byte every 0.3 s)
        proc = subprocess.run(
            [sys.executable, "-m", "gitml", "push"],
            cwd=repo,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("gitml push hung on a trickling endpoint")
    assert proc.returncode == 4, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines.pop(0) == (  # visible before the deadline
        "warning: slow: a request has waited 1 s for an answer; giving up at 2 s "
        "(remote.slow.timeout)"
    )
    assert lines[0].startswith("error: list remote 'slow' (s3://bucket/p) stopped: a request")
    assert lines[0].endswith("no complete answer within 2 s (remote.slow.timeout)")
    assert lines[1] == (
        "hint: the endpoint stalls or is very slow; to wait longer: "
        "gitml config set --local remote.slow.timeout 60"
    )
    assert trickle.requests == 1  # a request past its deadline is not retried
    assert DUMMY_SECRET not in proc.stderr


def test_remote_timeout_is_validated(repo: Path, cli: Cli) -> None:
    err = cli("config", "set", "remote.origin.timeout", "soon", expect=2).err
    assert err.startswith("error: remote.origin.timeout must be a number")
    err = cli("config", "set", "remote.origin.timeout", "0", expect=2).err
    assert "positive" in err
