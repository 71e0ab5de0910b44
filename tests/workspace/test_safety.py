"""The safety rules of snapshots: unsaved work, untrusted paths, corruption."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gitml.errors import EXIT_REPO, EXIT_USAGE
from gitml.store.hashing import hash_bytes
from gitml.store.objects import ObjectStore
from tests.conftest import Cli, git
from tests.workspace.test_snapshots import make_dataset, write


def cache(repo: Path) -> ObjectStore:
    return ObjectStore(repo / ".gitml" / "cache")


def test_checkout_refuses_to_overwrite_unsaved_work(repo: Path, cli: Cli) -> None:
    make_dataset(repo)
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")
    write(repo / "data/a.csv", "precious unsaved edit\n")
    write(repo / "data/extra.csv", "also unsaved\n")
    result = cli("checkout", "data", expect=1)
    assert "unsaved" in result.err and "data/a.csv" in result.err and "data/extra.csv" in result.err
    assert (repo / "data/a.csv").read_text() == "precious unsaved edit\n"
    assert (repo / "data/extra.csv").exists()
    cli("checkout", "data", "--force")
    assert (repo / "data/a.csv").read_text() == "x,y\n1,2\n"
    assert not (repo / "data/extra.csv").exists()


def test_checkout_overwrites_content_that_is_in_the_cache(repo: Path, cli: Cli) -> None:
    make_dataset(repo)
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")
    write(repo / "data/a.csv", "v2\n")
    cli("add", "data")
    git(repo, "checkout", "HEAD", "--", "data.gitml")
    cli("checkout", "data")  # v2 is saved in the cache, so no --force is needed
    assert (repo / "data/a.csv").read_text() == "x,y\n1,2\n"


def _plant_manifest(repo: Path, raw: bytes) -> str:
    store = cache(repo)
    with store.batch() as batch:
        blob = batch.add_bytes(b"evil\n")
        data = raw.replace(b"OID", blob.encode())
        oid = batch.add_bytes(data)
    assert oid == hash_bytes(data)
    return oid


@pytest.mark.parametrize(
    "name",
    [
        "../../escaped.txt",
        "/tmp/abs.txt",
        "sub/../../x",
        ".git/hooks/pre-commit",
        "a\\b",
        ".GIT/config",
        "sub/.gitml/config.toml",
        "./a",
    ],
)
def test_malicious_manifest_paths_are_refused_before_writing(
    repo: Path, cli: Cli, name: str
) -> None:
    raw = b"gitml-manifest 1\nOID f 5 " + name.encode() + b"\0"
    oid = _plant_manifest(repo, raw)
    (repo / "data.gitml").write_text(
        f'gitml: 1\nkind: dir\npath: "data"\nhash: blake3\noid: {oid}\nsize: 5\nnfiles: 1\n'
    )
    git(repo, "add", "data.gitml")
    result = cli("checkout", "data", expect=None)
    assert result.code == EXIT_REPO
    assert "Traceback" not in result.err
    assert not (repo.parent / "escaped.txt").exists()
    assert not (repo / "data").exists() or not any((repo / "data").rglob("*"))
    assert not Path("/tmp/abs.txt").exists() or Path("/tmp/abs.txt").read_bytes() != b"evil\n"
    assert (
        "evil" not in (repo / ".git/hooks/pre-commit").read_text(errors="replace")
        if (repo / ".git/hooks/pre-commit").exists()
        else True
    )


def test_checkout_never_writes_through_a_symlinked_parent(
    repo: Path, cli: Cli, tmp_path: Path
) -> None:
    make_dataset(repo)
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")
    outside = tmp_path / "outside"
    outside.mkdir()
    import shutil

    shutil.rmtree(repo / "data" / "sub")
    os.symlink(outside, repo / "data" / "sub")
    result = cli("checkout", "data", "--force", expect=None)
    assert result.code == EXIT_USAGE
    assert list(outside.iterdir()) == []


def test_symlinked_tracked_root_is_refused(repo: Path, cli: Cli, tmp_path: Path) -> None:
    make_dataset(repo)
    cli("add", "data")
    import shutil

    shutil.rmtree(repo / "data")
    outside = tmp_path / "victim"
    outside.mkdir()
    os.symlink(outside, repo / "data")
    result = cli("checkout", "data", "--force", expect=None)
    assert result.code == EXIT_USAGE
    assert list(outside.iterdir()) == []


def test_symlink_at_target_file_is_replaced_not_followed(
    repo: Path, cli: Cli, tmp_path: Path
) -> None:
    write(repo / "model.bin", b"model v1")
    cli("add", "model.bin")
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch")
    (repo / "model.bin").unlink()
    os.symlink(victim, repo / "model.bin")
    cli("checkout", "model.bin", "--force", expect=EXIT_USAGE)
    assert victim.read_text() == "do not touch"


def test_hardlink_at_target_is_broken_not_written_through(
    repo: Path, cli: Cli, tmp_path: Path
) -> None:
    write(repo / "model.bin", b"model v1")
    cli("add", "model.bin")
    git(repo, "commit", "-qm", "v1")
    write(repo / "model.bin", b"model v2")
    cli("add", "model.bin")
    other = tmp_path / "other-name"
    os.link(repo / "model.bin", other)  # someone else's name for the same inode
    git(repo, "checkout", "HEAD", "--", "model.bin.gitml")
    cli("checkout", "model.bin")
    assert (repo / "model.bin").read_bytes() == b"model v1"
    assert other.read_bytes() == b"model v2"


def test_corrupt_object_is_quarantined_and_named(repo: Path, cli: Cli) -> None:
    make_dataset(repo)
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")
    store = cache(repo)
    oid = hash_bytes((repo / "data/sub/b.csv").read_bytes())
    obj = store.object_path(oid)
    obj.chmod(0o644)
    data = bytearray(obj.read_bytes())
    data[0] ^= 0xFF
    obj.write_bytes(bytes(data))
    (repo / "data/sub/b.csv").unlink()
    result = cli("checkout", "data", expect=1)
    assert "data.gitml" in result.err
    assert not obj.exists()
    assert any((store.root / "quarantine").iterdir())
    assert not (repo / "data/sub/b.csv").exists()


def test_missing_object_is_reported_with_hint(repo: Path, cli: Cli) -> None:
    write(repo / "model.bin", b"weights")
    cli("add", "model.bin")
    store = cache(repo)
    oid = hash_bytes(b"weights")
    store.object_path(oid).chmod(0o644)
    store.object_path(oid).unlink()
    (repo / "model.bin").unlink()
    result = cli("checkout", expect=1)
    assert "not in the cache" in result.err and "gitml pull" in result.err
    assert json.loads(cli("status", "--json").out)[0]["state"] == "not-in-cache"
