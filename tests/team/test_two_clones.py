"""Clone A adds, commits, tags and pushes; clone B is a fresh `git clone` +
`gitml pull` and nothing else: identical bytes, notes and registry tags."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitml.errors import EXIT_REMOTE
from tests.conftest import git, run_gitml
from tests.testing.team import origin_and_first_clone


def test_fresh_clone_plus_pull_reproduces_everything(tmp_path: Path) -> None:
    bare, a = origin_and_first_clone(tmp_path, data_remote=None)
    (a / "data" / "sub").mkdir(parents=True)
    (a / "data" / "x.csv").write_text("x\n1\n")
    (a / "data" / "sub" / "y.bin").write_bytes(bytes(range(256)) * 50)
    run_gitml(a, "add", "data", check=True)
    run_gitml(a, "remote", "add", "origin", str(tmp_path / "store"), check=True)
    git(a, "add", "-A")
    git(a, "commit", "-qm", "v1")
    git(a, "tag", "-a", "churn@v1.0.0", "-m", "Register churn v1.0.0")
    git(a, "push", "-q", "origin", "main")
    run_gitml(a, "push", check=True)

    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(b))
    proc = run_gitml(b, "pull", check=True)
    assert "fetched" in proc.stdout
    assert (b / "data" / "x.csv").read_text() == "x\n1\n"
    assert (b / "data" / "sub" / "y.bin").read_bytes() == bytes(range(256)) * 50
    assert "churn@v1.0.0" in git(b, "tag")
    assert "verified" in run_gitml(b, "show", check=True).stdout
    assert run_gitml(b, "fsck", check=True).returncode == 0


def test_corrupt_remote_object_never_enters_the_cache(tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    git(a, "init", "-q", "-b", "main")
    run_gitml(a, "init", "--no-hooks", check=True)
    (a / "model.bin").write_bytes(b"weights v1" * 100)
    run_gitml(a, "add", "model.bin", check=True)
    run_gitml(a, "remote", "add", "origin", str(tmp_path / "store"), check=True)
    run_gitml(a, "push", check=True)
    objects = [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert objects
    for obj in objects:
        obj.chmod(0o644)
        data = bytearray(obj.read_bytes())
        data[0] ^= 0xFF
        obj.write_bytes(bytes(data))
    cache = a / ".gitml" / "cache"
    subprocess.run(["chmod", "-R", "u+w", str(cache)], check=True)
    import shutil

    shutil.rmtree(cache)
    (a / "model.bin").unlink()
    proc = run_gitml(a, "pull")
    assert proc.returncode == EXIT_REMOTE
    assert "Traceback" not in proc.stderr
    assert not (a / "model.bin").exists()


def test_clone_checks_out_an_old_model_version_from_the_remote_alone(tmp_path: Path) -> None:
    bare, a = origin_and_first_clone(tmp_path)
    (a / "models").mkdir()
    (a / "models" / "churn.pkl").write_bytes(b"model v1" * 1000)
    run_gitml(a, "add", "models/churn.pkl", check=True)
    git(a, "add", "-A")
    git(a, "commit", "-qm", "v1")
    run_gitml(a, "register", "churn", "--path", "models/churn.pkl", check=True)
    (a / "models" / "churn.pkl").write_bytes(b"model v2" * 1000)
    run_gitml(a, "add", "models/churn.pkl", check=True)
    git(a, "add", "-A")
    git(a, "commit", "-qm", "v2")
    git(a, "push", "-q", "origin", "main")
    run_gitml(a, "push", check=True)

    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(b))
    run_gitml(b, "pull", check=True)
    assert (b / "models" / "churn.pkl").read_bytes() == b"model v2" * 1000
    run_gitml(b, "checkout", "churn@v1", "-o", "v1.pkl", check=True)
    assert (b / "v1.pkl").read_bytes() == b"model v1" * 1000
    assert git(b, "rev-parse", "HEAD") == git(a, "rev-parse", "HEAD")
