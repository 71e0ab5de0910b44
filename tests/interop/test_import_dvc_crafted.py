"""Hostile and legacy DVC files: crafted paths are refused before anything is
written; DVC 2.x md5-dos2unix records (no ``hash: md5``) are verified as DVC does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.interop.dvc_helpers import (
    b3,
    dir_listing,
    dvc_md5,
    index_state,
    md5,
    pointer,
    put_dvc_object,
    snapshot,
    tracked_files,
)


@pytest.fixture
def dvc_project(repo: Path) -> Path:
    """An empty git + gitml repository with a DVC folder (no dvc run needed)."""
    (repo / ".dvc" / "cache").mkdir(parents=True)
    (repo / ".dvc" / "config").write_text("[core]\n    analytics = false\n")
    (repo / "keep.txt").write_text("unrelated\n")
    return repo


def assert_nothing_written(
    root: Path, before: dict[str, tuple[bytes | str, int]], index: str
) -> None:
    after = snapshot(root)
    after.pop(".gitml/lock", None)  # the repository lock every writing command takes
    assert after == before
    assert index_state(root) == index
    assert not (root.parent / "x").exists()
    assert not list((root / ".gitml").glob("cache/??/*"))


SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "path",
    [
        "../../x",
        "ok/../../x",
        ".git/hooks/pre-commit",
        pytest.param("../x", marks=SLOW),
        pytest.param(".GIT/config", marks=SLOW),
        pytest.param("a\\..\\..\\x", marks=SLOW),
    ],
)
def test_crafted_dvc_file_is_refused(dvc_project: Path, cli: Cli, path: str) -> None:
    (dvc_project / "evil.dvc").write_text(
        f"outs:\n- md5: {md5(b'x')}\n  size: 1\n  hash: md5\n  path: {json.dumps(path)}\n"
    )
    put_dvc_object(dvc_project, md5(b"x"), b"x")
    before, index = snapshot(dvc_project), index_state(dvc_project)
    result = cli("import-dvc", expect=3)
    assert "evil.dvc" in result.err
    assert_nothing_written(dvc_project, before, index)


def test_crafted_wdir_in_dvc_yaml_is_refused(dvc_project: Path, cli: Cli) -> None:
    sub = dvc_project / "sub"
    sub.mkdir()
    (sub / "dvc.yaml").write_text(
        "stages:\n  s:\n    cmd: 'true'\n    wdir: ../..\n    outs: [x]\n"
    )
    (sub / "dvc.lock").write_text(
        f"schema: '2.0'\nstages:\n  s:\n    cmd: 'true'\n    outs:\n    - path: x\n"
        f"      md5: {md5(b'x')}\n      size: 1\n      hash: md5\n"
    )
    before, index = snapshot(dvc_project), index_state(dvc_project)
    result = cli("import-dvc", expect=3)
    assert "sub/dvc.lock" in result.err and "outside the repository" in result.err
    assert_nothing_written(dvc_project, before, index)


@pytest.mark.parametrize(
    "relpath",
    [
        "../../x",
        "/etc/x",
        ".git/config",
        pytest.param("a/../../../x", marks=SLOW),
        pytest.param("", marks=SLOW),
    ],
)
def test_crafted_dir_listing_is_refused(dvc_project: Path, cli: Cli, relpath: str) -> None:
    listing = json.dumps([{"md5": md5(b"pwned"), "relpath": relpath}]).encode()
    put_dvc_object(dvc_project, md5(listing) + ".dir", listing)
    put_dvc_object(dvc_project, md5(b"pwned"), b"pwned")
    (dvc_project / "evil.dvc").write_text(
        f"outs:\n- md5: {md5(listing)}.dir\n  nfiles: 1\n  hash: md5\n  path: evil\n"
    )
    before, index = snapshot(dvc_project), index_state(dvc_project)
    result = cli("import-dvc", expect=3)
    assert "relpath" in result.err
    assert_nothing_written(dvc_project, before, index)


def test_dir_listing_with_file_and_folder_clash_is_refused(dvc_project: Path, cli: Cli) -> None:
    listing = json.dumps(
        [{"md5": md5(b"a"), "relpath": "a"}, {"md5": md5(b"a"), "relpath": "a/b"}]
    ).encode()
    put_dvc_object(dvc_project, md5(listing) + ".dir", listing)
    (dvc_project / "evil.dvc").write_text(f"outs:\n- md5: {md5(listing)}.dir\n  path: evil\n")
    before, index = snapshot(dvc_project), index_state(dvc_project)
    result = cli("import-dvc", expect=3)
    assert "both a file and a folder" in result.err
    assert_nothing_written(dvc_project, before, index)


def test_tampered_dir_listing_is_not_trusted(dvc_project: Path, cli: Cli) -> None:
    """A listing whose bytes do not match its MD5 name is not used."""
    listing = dir_listing({"f": b"data"})
    put_dvc_object(dvc_project, md5(b"something else") + ".dir", listing)
    (dvc_project / "t.dvc").write_text(
        f"outs:\n- md5: {md5(b'something else')}.dir\n  hash: md5\n  path: t\n"
    )
    result = cli("import-dvc", "t.dvc", expect=1)
    assert "missing: t/" in result.out and "corrupt" in result.err
    assert not (dvc_project / "t.gitml").exists()


CRLF = b"alpha\r\nbeta\r\ngamma\r\n"


def test_dvc2_dos2unix_file_from_cache(dvc_project: Path, cli: Cli) -> None:
    digest = dvc_md5(CRLF, legacy=True)  # what DVC 2.x recorded for a text file
    assert digest == md5(CRLF.replace(b"\r\n", b"\n"))
    assert digest != md5(CRLF)
    put_dvc_object(dvc_project, digest, CRLF, legacy=True)  # 2.x caches the bytes as they are
    (dvc_project / "legacy.txt.dvc").write_text(
        f"outs:\n- md5: {digest}\n  size: {len(CRLF)}\n  path: legacy.txt\n"
    )
    result = cli("import-dvc", "legacy.txt.dvc")
    assert "workspace restored" in result.out
    assert (dvc_project / "legacy.txt").read_bytes() == CRLF
    assert pointer(dvc_project, "legacy.txt").oid == b3(CRLF)


def test_dvc2_dos2unix_dir_from_workspace(dvc_project: Path, cli: Cli) -> None:
    files = {"notes.txt": CRLF, "bin/raw.dat": b"\x00\r\n\x01binary keeps CRLF\r\n"}
    listing = dir_listing(files, legacy=True)
    put_dvc_object(dvc_project, md5(listing) + ".dir", listing, legacy=True)
    for rel, data in files.items():
        (dvc_project / "old" / rel).parent.mkdir(parents=True, exist_ok=True)
        (dvc_project / "old" / rel).write_bytes(data)
    # DVC's own 2.x MD5: CRLF → LF for the text file only, the binary one as it is.
    md5s = {e["relpath"]: e["md5"] for e in json.loads(listing)}
    assert md5s == {
        "notes.txt": md5(CRLF.replace(b"\r\n", b"\n")),
        "bin/raw.dat": md5(files["bin/raw.dat"]),
    }
    (dvc_project / "old.dvc").write_text(
        f"outs:\n- md5: {md5(listing)}.dir\n  nfiles: 2\n  path: old\n"
    )
    result = cli("import-dvc", "old")
    assert "workspace clean" in result.out
    assert tracked_files(dvc_project, "old") == {f"old/{rel}": d for rel, d in files.items()}


def test_wrong_md5_is_not_imported(dvc_project: Path, cli: Cli) -> None:
    digest = md5(b"what DVC recorded")
    put_dvc_object(dvc_project, digest, b"but the cache holds this")
    (dvc_project / "w.dvc").write_text(f"outs:\n- md5: {digest}\n  hash: md5\n  path: w\n")
    result = cli("import-dvc", "w.dvc", expect=1)
    assert "missing: w" in result.out and "does not match its MD5" in result.err
    assert not (dvc_project / "w.gitml").exists()
