"""gitml import-dvc on a real DVC project (files, a nested directory, a stage, a remote)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import Cli, git, run_gitml
from tests.interop.conftest import STAGE_FILES, template_files
from tests.interop.dvc_helpers import (
    b3,
    dvc_object,
    index_state,
    md5,
    pointer,
    snapshot,
    staged_changes,
    store,
    tracked_files,
)

ALL = {**template_files(), **STAGE_FILES}
OUTPUTS = ("data.csv", "images", "out/features", "out/prepared.csv")


def status(cli: Cli) -> dict[str, str]:
    return {s["path"]: s["state"] for s in json.loads(cli("status", "--json").out)}


def assert_imported(root: Path, outputs: tuple[str, ...] = OUTPUTS) -> None:
    """Pointers name objects holding exactly the original bytes; the workspace too."""
    for tracked in outputs:
        files = tracked_files(root, tracked)
        expected = {p: d for p, d in ALL.items() if p == tracked or p.startswith(tracked + "/")}
        assert files == expected, tracked
        for path, data in expected.items():
            assert (root / path).read_bytes() == data, path


def test_import_everything(dvc_repo: Path, cli: Cli) -> None:
    result = cli("import-dvc")
    assert_imported(dvc_repo)
    data = pointer(dvc_repo, "data.csv")
    assert (data.kind, data.oid, data.size) == ("file", b3(ALL["data.csv"]), len(ALL["data.csv"]))
    images = pointer(dvc_repo, "images")
    image_files = {p: d for p, d in ALL.items() if p.startswith("images/")}
    assert (images.kind, images.nfiles) == ("dir", len(image_files))
    assert images.size == sum(len(d) for d in image_files.values())
    assert pointer(dvc_repo, "out/features").nfiles == 2
    assert status(cli) == dict.fromkeys(OUTPUTS, "clean")
    # The swap, ready to commit: gitml files in, every DVC file out of git (still on disk).
    gone = {
        "data.csv.dvc",
        "images.dvc",
        "dvc.yaml",
        "dvc.lock",
        ".dvc/config",
        ".dvc/.gitignore",
        ".dvcignore",
    }
    changes = staged_changes(dvc_repo)
    assert {p for p, s in changes.items() if s == "D"} == gone
    assert {p for p, s in changes.items() if s == "A"} >= {
        "data.csv.gitml",
        "images.gitml",
        "out/features.gitml",
        "out/prepared.csv.gitml",
        "gitml.yaml",
        "gitml.lock",
    }
    assert all((dvc_repo / p).is_file() for p in gone)
    # The stage: same command, deps, params, outs and metrics; DVC's run still holds,
    # so gitml.lock records it and gitml repro has nothing to do.
    assert (
        "converted stage prep (dvc.yaml) → gitml.yaml stage prep; gitml.lock: up to date"
        in result.out
    )
    stage = yaml.safe_load((dvc_repo / "gitml.yaml").read_text())["stages"]["prep"]
    assert stage["deps"] == ["data.csv"] and stage["params"] == ["lr"]
    assert stage["outs"] == ["out/prepared.csv", "out/features"]
    assert stage["metrics"] == ["metrics.json"]
    lock = json.loads((dvc_repo / "gitml.lock").read_text())["stages"]["prep"]
    assert lock["outs"]["out/features"]["oid"] == pointer(dvc_repo, "out/features").oid
    assert lock["params"] == {"lr": 0.1} and lock["metrics"] == {"metrics.json": {"acc": 0.9}}
    assert "stage prep: up to date" in cli("repro", "--dry-run").out
    git(dvc_repo, "commit", "-qm", "from DVC to gitml")


def test_second_run_changes_nothing(imported: Path, cli: Cli) -> None:
    before, index = snapshot(imported), index_state(imported)
    result = cli("import-dvc")
    assert not [line for line in result.out.splitlines() if line.startswith("imported ")]
    assert "Next:" not in result.out
    assert result.out.count("unchanged ") == len(OUTPUTS) + 1  # and the stage
    assert index_state(imported) == index
    after = snapshot(imported)
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    assert not {p for p in changed if not p.startswith(".gitml/")}
    assert not {p for p in changed if p.startswith(".gitml/cache/") or p.endswith(".gitml")}


def test_keep_dvc_leaves_dvc_files_in_git(dvc_repo: Path, cli: Cli) -> None:
    cli("import-dvc", "--keep-dvc")
    assert_imported(dvc_repo)
    changes = staged_changes(dvc_repo)
    assert not [p for p, s in changes.items() if s == "D"]
    assert {"data.csv.gitml", "images.gitml"} <= set(changes)
    assert git(dvc_repo, "ls-files", "data.csv.dvc", "images.dvc").split() == [
        "data.csv.dvc",
        "images.dvc",
    ]


@pytest.mark.slow
def test_keep_dvc_then_dvc_still_works(dvc_repo: Path, cli: Cli) -> None:
    cli("import-dvc", "--keep-dvc")
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "-q"], cwd=dvc_repo, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dry_run_changes_nothing(dvc_repo: Path, cli: Cli) -> None:
    before, index = snapshot(dvc_repo), index_state(dvc_repo)
    result = cli("import-dvc", "--dry-run")
    for tracked in OUTPUTS:
        assert f"would import {tracked} " in result.out
    assert snapshot(dvc_repo) == before
    assert index_state(dvc_repo) == index


def test_targets_limit_the_import(dvc_repo: Path, cli: Cli) -> None:
    cli("import-dvc", "data.csv.dvc")
    assert (dvc_repo / "data.csv.gitml").is_file()
    assert not (dvc_repo / "images.gitml").exists()
    assert staged_changes(dvc_repo) == {"data.csv.dvc": "D", "data.csv.gitml": "A"}
    result = cli("import-dvc", "nothing-here", expect=2)
    assert "nothing-here is not a DVC-tracked output" in result.err


def test_missing_object_is_listed_rest_imported(dvc_repo: Path, cli: Cli) -> None:
    lost = "images/cats/2.bin"
    dvc_object(dvc_repo, md5(ALL[lost])).unlink()
    (dvc_repo / lost).unlink()
    result = cli("import-dvc", expect=1)
    assert f"missing: {lost}" in result.out
    assert "1 files are in neither the workspace nor the DVC cache" in result.err
    assert not (dvc_repo / "images.gitml").exists()
    assert_imported(dvc_repo, ("data.csv", "out/features", "out/prepared.csv"))
    changes = staged_changes(dvc_repo)
    assert changes.get("data.csv.dvc") == "D" and "images.dvc" not in changes
    # The DVC remote still has it.
    cli("import-dvc", "--from-remote", "store")
    assert_imported(dvc_repo)
    assert status(cli) == dict.fromkeys(OUTPUTS, "clean")


def test_from_remote_after_losing_cache_and_data(dvc_repo: Path, cli: Cli) -> None:
    shutil.rmtree(dvc_repo / ".dvc" / "cache")
    for path in ("data.csv", "images", "out"):
        shutil.rmtree(dvc_repo / path) if (dvc_repo / path).is_dir() else (dvc_repo / path).unlink()
    plain = cli("import-dvc", "--dry-run", expect=1)
    assert "missing: data.csv" in plain.out
    result = cli("import-dvc", "--from-remote", "store")
    assert "fetched" in result.out
    assert_imported(dvc_repo)
    assert "workspace restored" in result.out
    assert status(cli) == dict.fromkeys(OUTPUTS, "clean")


@pytest.mark.slow
def test_from_remote_missing_everywhere(dvc_repo: Path, cli: Cli) -> None:
    lost = "images/dogs/small/3.bin"
    digest = md5(ALL[lost])
    dvc_object(dvc_repo, digest).unlink()
    (dvc_repo / lost).unlink()
    remote = dvc_repo.parent / "remote" / "files" / "md5" / digest[:2] / digest[2:]
    remote.unlink()
    result = cli("import-dvc", "--from-remote", "store", expect=1)
    assert f"missing: {lost}" in result.out
    assert "neither the DVC cache nor the DVC remote" in result.err
    assert (dvc_repo / "data.csv.gitml").is_file() and not (dvc_repo / "images.gitml").exists()


def test_unknown_remote(dvc_repo: Path, cli: Cli) -> None:
    shutil.rmtree(dvc_repo / ".dvc" / "cache")
    result = cli("import-dvc", "--from-remote", "nope", expect=4)
    assert "no remote named 'nope'" in result.err and "store" in result.err


def test_dvc_not_installed(dvc_repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("dvc", "dvc.repo"):
        monkeypatch.setitem(sys.modules, name, None)
    result = cli("import-dvc", "--from-remote", "store", expect=3)
    assert "DVC is not installed" in result.err
    assert "pip install 'gitml[dvc]'" in result.err
    assert not (dvc_repo / "data.csv.gitml").exists()


@pytest.mark.parametrize(
    "point", ["interop.after-output:2", pytest.param("store.before-sync", marks=pytest.mark.slow)]
)
def test_resume_after_kill(dvc_repo: Path, cli: Cli, point: str) -> None:
    proc = run_gitml(dvc_repo, "import-dvc", env={"GITML_FAULT": point})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    objects = store(dvc_repo)
    objects.recover()
    for oid in objects.iter_oids():
        assert objects.verify(oid)
    cli("import-dvc")
    assert_imported(dvc_repo)
    assert status(cli) == dict.fromkeys(OUTPUTS, "clean")
    changes = staged_changes(dvc_repo)
    assert changes["data.csv.dvc"] == "D" and changes["images.dvc"] == "D"
    assert changes["images.gitml"] == "A"


def test_modified_workspace_is_kept(dvc_repo: Path, cli: Cli) -> None:
    (dvc_repo / "data.csv").write_bytes(b"my unsaved edit\n")
    result = cli("import-dvc")
    assert "data.csv: the workspace differs from what DVC recorded" in result.out
    assert (dvc_repo / "data.csv").read_bytes() == b"my unsaved edit\n"
    assert tracked_files(dvc_repo, "data.csv") == {"data.csv": ALL["data.csv"]}
    assert status(cli)["data.csv"] == "modified"


def test_outside_repository_is_not_read(dvc_repo: Path, cli: Cli) -> None:
    """A symlinked parent folder is not a source: the object comes from the DVC cache."""
    outside = dvc_repo.parent / "elsewhere"
    shutil.move(dvc_repo / "images" / "dogs", outside)
    os.symlink(outside, dvc_repo / "images" / "dogs")
    (outside / "small" / "3.bin").write_bytes(b"not what DVC has")
    cli("import-dvc", "images")
    assert (
        tracked_files(dvc_repo, "images")["images/dogs/small/3.bin"]
        == ALL["images/dogs/small/3.bin"]
    )


def test_stage_whose_dvc_run_no_longer_holds_is_not_locked(dvc_repo: Path, cli: Cli) -> None:
    (dvc_repo / "params.yaml").write_text("lr: 0.2\n")
    result = cli("import-dvc")
    assert "runs on the next gitml repro (param lr changed since DVC ran it)" in result.out
    assert not (dvc_repo / "gitml.lock").exists()
    assert "stage prep: would run (never run)" in cli("repro", "--dry-run").out


def test_unconvertible_stage_keeps_dvc_pipeline_in_git(dvc_repo: Path, cli: Cli) -> None:
    text = (dvc_repo / "dvc.yaml").read_text()
    (dvc_repo / "dvc.yaml").write_text(
        text + "  each:\n    foreach: [a]\n    do:\n      cmd: echo ${item}\n"
    )
    result = cli("import-dvc")
    assert "not converted: stage each (dvc.yaml): foreach/matrix/vars" in result.out
    changes = staged_changes(dvc_repo)
    assert "dvc.yaml" not in changes and ".dvc/config" not in changes
    assert changes["data.csv.dvc"] == "D" and changes["gitml.yaml"] == "A"
    assert "converted stage prep" in result.out
