"""add / status / diff / checkout / rm end to end, on real git repositories."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli, git


def write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def make_dataset(root: Path) -> None:
    write(root / "data/a.csv", "x,y\n1,2\n")
    write(root / "data/sub/b.csv", "x,y\n3,4\n")
    write(root / "data/sub/deep/c.bin", bytes(range(256)) * 10)
    write(root / "data/empty.txt", b"")


def test_add_writes_pointer_ignores_data_and_stages(repo: Path, cli: Cli) -> None:
    make_dataset(repo)
    write(repo / "models/churn.pkl", b"model-bytes")
    cli("add", "data", "models/churn.pkl")
    pointer = (repo / "data.gitml").read_text()
    assert "kind: dir" in pointer and "nfiles: 4" in pointer and 'path: "data"' in pointer
    assert "kind: file" in (repo / "models/churn.pkl.gitml").read_text()
    assert "/data" in (repo / ".gitignore").read_text().splitlines()
    assert "/churn.pkl" in (repo / "models/.gitignore").read_text().splitlines()
    staged = git(repo, "diff", "--cached", "--name-only").split()
    assert {"data.gitml", ".gitignore", "models/churn.pkl.gitml", "models/.gitignore"} <= set(
        staged
    )
    assert "data/a.csv" not in git(repo, "status", "--porcelain", "--ignored=no")


def test_status_reports_each_kind_of_change(repo: Path, cli: Cli) -> None:
    make_dataset(repo)
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")
    assert json.loads(cli("status", "--json").out)[0]["state"] == "clean"
    write(repo / "data/a.csv", "x,y\n9,9\n")
    write(repo / "data/new.csv", "n\n")
    (repo / "data/sub/b.csv").unlink()
    out = json.loads(cli("status", "--json").out)[0]
    assert out["state"] == "modified"
    changes = {c["path"]: c["change"] for c in out["changes"]}
    assert changes == {
        "data/a.csv": "modified",
        "data/new.csv": "added",
        "data/sub/b.csv": "deleted",
    }
    assert cli("status", "--exit-code", expect=1).code == 1


def test_stale_after_git_checkout_and_restore(repo: Path, cli: Cli) -> None:
    make_dataset(repo)
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")
    v1 = (repo / "data/a.csv").read_bytes()
    write(repo / "data/a.csv", "x,y\n5,6\n")
    cli("add", "data")
    git(repo, "commit", "-qm", "v2")
    git(repo, "checkout", "HEAD~1", "--", "data.gitml")
    assert json.loads(cli("status", "--json").out)[0]["state"] == "stale"
    cli("checkout", "data")
    assert (repo / "data/a.csv").read_bytes() == v1
    assert json.loads(cli("status", "--json").out)[0]["state"] == "clean"


def test_diff_between_revisions_json_and_md(repo: Path, cli: Cli) -> None:
    make_dataset(repo)
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")
    write(repo / "data/a.csv", "x,y\n5,6,7\n")
    write(repo / "data/z.csv", "z\n")
    (repo / "data/empty.txt").unlink()
    cli("add", "data")
    git(repo, "commit", "-qm", "v2")
    result = json.loads(cli("diff", "HEAD~1", "HEAD", "--json").out)
    changes = {
        c["path"]: (c["change"], c["old_size"], c["new_size"])
        for c in result["paths"][0]["changes"]
    }
    assert changes == {
        "data/a.csv": ("modified", 8, 10),
        "data/z.csv": ("added", None, 2),
        "data/empty.txt": ("deleted", 0, None),
    }
    md = cli("diff", "HEAD~1", "HEAD", "--md").out
    assert "| data/a.csv | modified |" in md
    assert "No changes" in cli("diff", "HEAD", "HEAD").out


def test_checkout_one_file_of_an_old_revision_leaves_head(repo: Path, cli: Cli) -> None:
    make_dataset(repo)
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")
    old = (repo / "data/sub/b.csv").read_bytes()
    write(repo / "data/sub/b.csv", "changed\n")
    write(repo / "data/a.csv", "also changed\n")
    cli("add", "data")
    git(repo, "commit", "-qm", "v2")
    head = git(repo, "rev-parse", "HEAD")
    cli("checkout", "data/sub/b.csv@HEAD~1")
    assert (repo / "data/sub/b.csv").read_bytes() == old
    assert (repo / "data/a.csv").read_text() == "also changed\n"
    assert git(repo, "rev-parse", "HEAD") == head


def test_add_inside_tracked_dir_updates_its_manifest(repo: Path, cli: Cli) -> None:
    make_dataset(repo)
    cli("add", "data")
    before = (repo / "data.gitml").read_text()
    write(repo / "data/sub/b.csv", "new content\n")
    cli("add", "data/sub/b.csv")
    assert (repo / "data.gitml").read_text() != before
    assert not (repo / "data/sub/b.csv.gitml").exists()
    assert json.loads(cli("status", "--json").out)[0]["state"] == "clean"


def test_rm_keeps_data_and_drops_pointer(repo: Path, cli: Cli) -> None:
    make_dataset(repo)
    cli("add", "data")
    cli("rm", "data")
    assert (repo / "data/a.csv").exists()
    assert not (repo / "data.gitml").exists()
    assert "/data" not in (repo / ".gitignore").read_text().splitlines()


def test_full_checkout_into_empty_workspace(repo: Path, cli: Cli) -> None:
    make_dataset(repo)
    (repo / "data/run.sh").write_text("#!/bin/sh\n")
    (repo / "data/run.sh").chmod(0o755)
    cli("add", "data")
    snapshot = {
        p.relative_to(repo): p.read_bytes() for p in (repo / "data").rglob("*") if p.is_file()
    }
    import shutil

    shutil.rmtree(repo / "data")
    assert json.loads(cli("status", "--json").out)[0]["state"] == "missing"
    cli("checkout")
    again = {p.relative_to(repo): p.read_bytes() for p in (repo / "data").rglob("*") if p.is_file()}
    assert again == snapshot
    assert (repo / "data/run.sh").stat().st_mode & 0o111


def test_readd_unchanged_is_a_noop_and_reads_nothing(repo: Path, cli: Cli) -> None:
    make_dataset(repo)
    cli("add", "data")
    import time

    time.sleep(1.1)  # past the racy window
    cli("add", "data")
    result = json.loads(cli("add", "data", "--json").out)
    assert result["added"][0]["hashed"] == 0
    assert result["added"][0]["changed"] is False


def test_commands_outside_a_repo_fail_cleanly(tmp_path: Path, cli: Cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = cli("status", expect=3)
    assert "not inside a git repository" in result.err
    assert "Traceback" not in result.err


def test_add_missing_path_is_a_usage_error(repo: Path, cli: Cli) -> None:
    result = cli("add", "nope", expect=2)
    assert "does not exist" in result.err


def test_modified_file_stays_modified_on_later_status(repo: Path, cli: Cli) -> None:
    """Status must not record a changed file's new content as known: a second
    status (past the racy window) still reports it."""
    import os
    import time

    make_dataset(repo)
    cli("add", "data")
    write(repo / "data/a.csv", "changed\n")
    old = time.time() - 10
    os.utime(repo / "data/a.csv", (old, old))  # past the racy window at once
    for _ in range(2):
        out = json.loads(cli("status", "--json").out)[0]
        assert out["state"] == "modified"
        assert [c["path"] for c in out["changes"]] == ["data/a.csv"]
    (repo / "data/new.csv").write_text("n\n")
    (repo / "data/empty.txt").unlink()
    changes = {
        c["path"]: c["change"] for c in json.loads(cli("status", "--json").out)[0]["changes"]
    }
    assert changes == {
        "data/a.csv": "modified",
        "data/new.csv": "added",
        "data/empty.txt": "deleted",
    }


def test_global_flags_anywhere_and_usage_errors_exit_2(repo: Path, cli: Cli) -> None:
    make_dataset(repo)
    assert cli("add", "data", "-q").out == ""
    result = cli("add", "--no-such-flag", expect=2)
    assert "No such option" in result.err and "Traceback" not in result.err
