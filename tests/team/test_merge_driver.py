"""The pointer merge driver, through real `git merge` and `git rebase`.

A tracked folder changed on both sides merges file by file; a file changed
differently on both sides is a conflict naming the file, resolved with
`gitml checkout PATH --conflict ours|theirs` (both versions written as
NAME.ours / NAME.theirs). A single-file pointer conflicts as a whole.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import git, run_gitml


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    run_gitml(root, "init", "--no-hooks", check=True)
    data = root / "data"
    data.mkdir()
    for name in ("a.csv", "b.csv", "c.csv"):
        (data / name).write_text(f"{name} v0\n")
    _commit(root, "data v0")
    return root


def _commit(root: Path, message: str, target: str = "data") -> None:
    run_gitml(root, "add", target, check=True)
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def _merge(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)


def test_init_configures_the_driver(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    assert "*.gitml merge=gitml" in (root / ".gitattributes").read_text().splitlines()
    driver = git(root, "config", "merge.gitml.driver").strip()
    assert driver.endswith("-m gitml merge-driver %O %A %B %P")
    assert ".gitattributes" in git(root, "ls-files")
    before = (root / ".gitattributes").read_bytes()
    run_gitml(root, "init", "--no-hooks", check=True)
    assert (root / ".gitattributes").read_bytes() == before  # once


def _diverge(root: Path) -> None:
    git(root, "checkout", "-qb", "feature")
    (root / "data" / "a.csv").write_text("a.csv feature\n")
    (root / "data" / "d.csv").write_text("d.csv new on feature\n")
    _commit(root, "feature: a changed, d added")
    git(root, "checkout", "-q", "main")
    run_gitml(root, "checkout", check=True)
    (root / "data" / "b.csv").write_text("b.csv main\n")
    (root / "data" / "c.csv").unlink()
    _commit(root, "main: b changed, c removed")


MERGED = {"a.csv": "a.csv feature\n", "b.csv": "b.csv main\n", "d.csv": "d.csv new on feature\n"}


def test_merge_keeps_both_sides_changes(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _diverge(root)
    proc = _merge(root, "merge", "-q", "--no-edit", "feature")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "gitml: merged data.gitml: 2 changes from ours, 2 from theirs" in proc.stderr
    assert "<<<<<<<" not in (root / "data.gitml").read_text()
    run_gitml(root, "checkout", check=True)
    assert _files(root / "data") == MERGED
    assert run_gitml(root, "status", "--json", check=True).stdout.count('"modified"') == 0
    assert run_gitml(root, "fsck", check=True).returncode == 0


def test_rebase_keeps_both_sides_changes(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _diverge(root)
    git(root, "checkout", "-q", "feature")
    proc = _merge(root, "rebase", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_gitml(root, "checkout", "--force", check=True)
    assert _files(root / "data") == MERGED
    assert git(root, "log", "--format=%s").splitlines()[:2] == [
        "feature: a changed, d added",
        "main: b changed, c removed",
    ]


def _conflicting(root: Path) -> None:
    git(root, "checkout", "-qb", "feature")
    (root / "data" / "a.csv").write_text("a.csv theirs\n")
    (root / "data" / "d.csv").write_text("d.csv from theirs\n")
    _commit(root, "feature: a")
    git(root, "checkout", "-q", "main")
    run_gitml(root, "checkout", check=True)
    (root / "data" / "a.csv").write_text("a.csv ours\n")
    (root / "data" / "b.csv").write_text("b.csv ours\n")
    _commit(root, "main: a")


@pytest.mark.parametrize("side", ["ours", "theirs"])
def test_same_file_changed_on_both_sides_is_a_conflict(tmp_path: Path, side: str) -> None:
    root = _repo(tmp_path)
    _conflicting(root)
    proc = _merge(root, "merge", "--no-edit", "feature")
    assert proc.returncode == 1
    assert "gitml: CONFLICT in data.gitml: changed on both sides:" in proc.stderr
    assert "gitml:   data/a.csv\n" in proc.stderr
    assert "data.gitml" in git(root, "diff", "--name-only", "--diff-filter=U")

    proc = run_gitml(root, "checkout", "data", "--conflict", side, check=True)
    assert "both changed: data/a.csv" in proc.stdout
    files = _files(root / "data")
    assert files.pop("a.csv.ours") == "a.csv ours\n"
    assert files.pop("a.csv.theirs") == "a.csv theirs\n"
    assert files == {
        "a.csv": f"a.csv {side}\n",
        "b.csv": "b.csv ours\n",  # the non-conflicting changes of both sides are kept
        "c.csv": "c.csv v0\n",
        "d.csv": "d.csv from theirs\n",
    }
    # resolve by hand and finish the merge
    (root / "data" / "a.csv").write_text("a.csv both\n")
    (root / "data" / "a.csv.ours").unlink()
    (root / "data" / "a.csv.theirs").unlink()
    run_gitml(root, "add", "data", check=True)
    git(root, "commit", "-qm", "merge feature")
    run_gitml(root, "checkout", "--force", check=True)
    assert _files(root / "data")["a.csv"] == "a.csv both\n"


def test_conflict_during_rebase(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _conflicting(root)
    git(root, "checkout", "-q", "feature")
    proc = _merge(root, "rebase", "main")
    assert proc.returncode != 0
    assert "gitml:   data/a.csv" in proc.stderr
    # in a rebase, "ours" is the branch being rebased onto (main)
    run_gitml(root, "checkout", "data", "--conflict", "theirs", "--force", check=True)
    assert (root / "data" / "a.csv").read_text() == "a.csv theirs\n"
    assert (root / "data" / "a.csv.ours").read_text() == "a.csv ours\n"
    (root / "data" / "a.csv.ours").unlink()
    (root / "data" / "a.csv.theirs").unlink()
    run_gitml(root, "add", "data", check=True)
    env_done = subprocess.run(
        ["git", "-c", "core.editor=true", "rebase", "--continue"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert env_done.returncode == 0, env_done.stderr
    run_gitml(root, "checkout", "--force", check=True)
    assert _files(root / "data") == {
        "a.csv": "a.csv theirs\n",
        "b.csv": "b.csv ours\n",
        "c.csv": "c.csv v0\n",
        "d.csv": "d.csv from theirs\n",
    }


def test_single_file_conflict_keeps_both_versions(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "model.bin").write_bytes(b"model v0")
    _commit(root, "model v0", "model.bin")
    git(root, "checkout", "-qb", "feature")
    (root / "model.bin").write_bytes(b"model theirs")
    _commit(root, "feature model", "model.bin")
    git(root, "checkout", "-q", "main")
    run_gitml(root, "checkout", check=True)
    (root / "model.bin").write_bytes(b"model ours")
    _commit(root, "main model", "model.bin")
    proc = _merge(root, "merge", "--no-edit", "feature")
    assert proc.returncode == 1
    assert "gitml:   model.bin\n" in proc.stderr
    run_gitml(root, "checkout", "model.bin", "--conflict", "theirs", "--force", check=True)
    assert (root / "model.bin").read_bytes() == b"model theirs"
    assert (root / "model.bin.ours").read_bytes() == b"model ours"
    assert (root / "model.bin.theirs").read_bytes() == b"model theirs"
    assert "<<<<<<<" not in (root / "model.bin.gitml").read_text()


def test_missing_manifest_fails_clearly_and_writes_no_merged_pointer(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _conflicting(root)
    # the cache lost the other side's manifest and no data remote is configured
    theirs = git(root, "show", "feature:data.gitml")
    oid = next(ln.split()[1] for ln in theirs.splitlines() if ln.startswith("oid:"))
    obj = root / ".gitml" / "cache" / oid[:2] / oid[2:]
    obj.chmod(0o644)
    obj.unlink()
    proc = _merge(root, "merge", "--no-edit", "feature")
    assert proc.returncode == 1
    assert "error: the manifest of data.gitml (theirs)" in proc.stderr
    assert "is not in the cache or on the data remote" in proc.stderr
    text = (root / "data.gitml").read_text()
    assert text.startswith("<<<<<<< ours (not merged by gitml)\n")
    assert git(root, "show", "main:data.gitml") in text and theirs in text


def test_missing_manifest_comes_from_the_data_remote(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    run_gitml(root, "remote", "add", "store", str(tmp_path / "store"), check=True)
    git(root, "commit", "-qm", "data remote")
    _diverge(root)
    git(root, "checkout", "-q", "feature")
    run_gitml(root, "push", check=True)  # feature's manifest and files are on the remote
    git(root, "checkout", "-q", "main")
    theirs = git(root, "show", "feature:data.gitml")
    oid = next(ln.split()[1] for ln in theirs.splitlines() if ln.startswith("oid:"))
    obj = root / ".gitml" / "cache" / oid[:2] / oid[2:]
    obj.chmod(0o644)
    obj.unlink()
    proc = _merge(root, "merge", "-q", "--no-edit", "feature")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert obj.exists()  # fetched, verified
    run_gitml(root, "checkout", check=True)
    assert _files(root / "data") == MERGED


def test_with_hooks_the_merged_data_is_checked_out(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    run_gitml(root, "init", check=True)  # hooks: post-merge checks out what changed
    (root / "data").mkdir()
    for name in ("a.csv", "b.csv", "c.csv"):
        (root / "data" / name).write_text(f"{name} v0\n")
    _commit(root, "data v0")
    _diverge(root)
    proc = _merge(root, "merge", "-q", "--no-edit", "feature")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _files(root / "data") == MERGED  # no gitml command needed
    status = run_gitml(root, "status", check=True)
    assert "modified" not in status.stdout
