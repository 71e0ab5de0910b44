"""``gitml checkout NAME@VER -o PATH`` writes through the one checkout writer:
never through a symlinked folder at the destination, never over content
gitml did not write there unless --force."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from gitml.errors import EXIT_CHECK_FAILED, EXIT_REPO
from tests.conftest import Cli, git, run_gitml


def register_dir_model(repo: Path, cli: Cli) -> None:
    model = repo / "models" / "churn"
    (model / "sub").mkdir(parents=True)
    (model / "a.txt").write_bytes(b"weights a")
    (model / "sub" / "w.bin").write_bytes(b"weights w")
    cli("add", "models/churn")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "model")
    cli("register", "churn", "--path", "models/churn")


def test_symlinked_folder_in_destination_is_refused(repo: Path, cli: Cli, tmp_path: Path) -> None:
    register_dir_model(repo, cli)
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "out").mkdir()
    (repo / "out" / "sub").symlink_to(outside)
    r = cli("checkout", "churn@v1", "-o", "out", expect=EXIT_REPO)
    assert r.err.startswith(f"error: refusing to write through symlinked directory {repo}/out/sub")
    assert list(outside.iterdir()) == []  # nothing written through the link
    assert not (repo / "out" / "a.txt").exists()  # refused before anything was written
    assert not (repo / ".gitml" / "checkout.journal").exists()
    (repo / "out" / "sub").unlink()
    cli("checkout", "churn@v1", "-o", "out")
    assert (repo / "out" / "sub" / "w.bin").read_bytes() == b"weights w"
    assert (repo / "out" / "a.txt").read_bytes() == b"weights a"


def test_symlinked_destination_folder_is_refused_even_with_force(
    repo: Path, cli: Cli, tmp_path: Path
) -> None:
    register_dir_model(repo, cli)
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "out").symlink_to(outside)
    cli("checkout", "churn@v1", "-o", "out", "--force", expect=EXIT_REPO)
    assert list(outside.iterdir()) == []


def test_unsaved_file_in_destination_is_kept_without_force(repo: Path, cli: Cli) -> None:
    register_dir_model(repo, cli)
    (repo / "out" / "sub").mkdir(parents=True)
    (repo / "out" / "sub" / "w.bin").write_bytes(b"my own notes")
    r = cli("checkout", "churn@v1", "-o", "out", expect=EXIT_CHECK_FAILED)
    assert f"would overwrite {repo}/out/sub/w.bin" in r.err
    assert "hint: use --force, or another -o PATH" in r.err
    assert (repo / "out" / "sub" / "w.bin").read_bytes() == b"my own notes"
    assert not (repo / "out" / "a.txt").exists()  # nothing half done
    # the same bytes already there are not a conflict; extra files stay
    (repo / "out" / "sub" / "w.bin").write_bytes(b"weights w")
    (repo / "out" / "mine.txt").write_bytes(b"mine")
    cli("checkout", "churn@v1", "-o", "out")
    assert (repo / "out" / "a.txt").read_bytes() == b"weights a"
    assert (repo / "out" / "mine.txt").read_bytes() == b"mine"
    (repo / "out" / "sub" / "w.bin").write_bytes(b"edited again")
    cli("checkout", "churn@v1", "-o", "out", "--force")
    assert (repo / "out" / "sub" / "w.bin").read_bytes() == b"weights w"
    # the workspace copy and its stat index are untouched by -o
    assert cli("status", "--json").out.count('"clean"') == 1


def test_killed_checkout_to_a_destination_is_cleaned_by_the_next(
    repo: Path, cli: Cli, tmp_path: Path
) -> None:
    register_dir_model(repo, cli)
    out = tmp_path / "exported" / "out"  # outside the repository
    proc = run_gitml(
        repo, "checkout", "churn@v1", "-o", str(out), env={"GITML_FAULT": "checkout.after-file:1"}
    )
    assert proc.returncode == -signal.SIGKILL
    journal = (repo / ".gitml" / "checkout.journal").read_text().splitlines()
    record = json.loads(journal[1])
    assert (record["root"], record["tracked"]) == (str(out.parent), "out")
    # what a kill inside the next file's write leaves: mode 000, shorter than its object
    half = out / "sub" / "w.bin"
    half.parent.mkdir(exist_ok=True)
    half.write_bytes(b"weig")
    half.chmod(0)
    cli("checkout")  # any checkout recovers first, below the journaled root too
    assert not half.exists() and (out / "a.txt").read_bytes() == b"weights a"
    assert not (repo / ".gitml" / "checkout.journal").exists()
    cli("checkout", "churn@v1", "-o", str(out))
    assert half.read_bytes() == b"weights w"
