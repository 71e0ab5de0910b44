"""gitml notes on refs/notes/gitml: exact text, batch reads, amend, concurrency, remotes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from gitml.git.notes import (
    NOTES_REF,
    configure_notes,
    merge_remote_notes,
    read_note,
    read_notes,
    write_note,
)
from gitml.git.repo import GitRepo
from gitml.git.transport import fetch_refs, push_refs
from tests.git.git_testlib import Git, GitCalls, commit_files, init_repo, run_git

TRICKY = "line 1\n\n\n  # not a comment, kept  \ntrailing spaces   \n\n"


def test_write_read_overwrite_exact_text(repo_path: Path, repo: GitRepo) -> None:
    sha = commit_files(repo_path, {"f": b"1"})
    assert read_note(repo, "HEAD") is None
    write_note(repo, "HEAD", TRICKY)
    assert read_note(repo, "HEAD") == TRICKY
    assert read_note(repo, sha) == TRICKY
    write_note(repo, sha, "second")  # overwrite, no trailing newline added
    assert read_note(repo, "HEAD") == "second"
    write_note(repo, "HEAD", "")
    assert read_note(repo, "HEAD") == ""
    assert "gitml-tmp" not in run_git(repo_path, "for-each-ref")


def test_read_notes_of_many_commits_in_few_processes(
    repo_path: Path, git: Git, git_calls: GitCalls
) -> None:
    stream = "".join(
        f"commit refs/heads/main\ncommitter A <a@b> {1700000000 + i} +0000\ndata 4\nc{i:03}\n\n"
        for i in range(300)
    )
    git("fast-import", "--quiet", input=stream.encode())
    with GitRepo.discover(repo_path) as r:
        shas = r.log_shas()
        for sha in shas[:5]:
            write_note(r, sha, f"note of {sha}")
        git_calls.reset()
        found = read_notes(r, shas)
        assert found == {sha: f"note of {sha}" for sha in shas[:5]}
        assert [c.split()[0] for c in git_calls.commands()] == ["notes", "cat-file"]
        git_calls.reset()
        records = r.log_records(notes=True)
        assert [rec.note for rec in records[:6]] == [f"note of {s}" for s in shas[:5]] + [None]
        assert len(git_calls.commands()) == 2  # log + notes list; cat-file is still running
    assert read_notes(r, []) == {}


def test_missing_revision_is_an_error(repo_path: Path, repo: GitRepo) -> None:
    commit_files(repo_path, {"f": b"1"})
    with pytest.raises(Exception, match="nope"):
        read_note(repo, "nope")
    with pytest.raises(Exception, match="nope"):
        write_note(repo, "nope", "x")


def test_amend_and_rebase_keep_the_note(repo_path: Path, repo: GitRepo, git: Git) -> None:
    commit_files(repo_path, {"f": b"1"}, "base")
    commit_files(repo_path, {"g": b"2"}, "with note")
    assert configure_notes(repo, []) != []
    assert configure_notes(repo, []) == []  # idempotent
    write_note(repo, "HEAD", "metrics: 0.91")
    git("commit", "-q", "--amend", "--no-verify", "-m", "amended")
    assert read_note(repo, "HEAD") == "metrics: 0.91"
    git("rebase", "-q", "--exec", "true", "--force-rebase", "HEAD~1")
    assert read_note(repo, "HEAD") == "metrics: 0.91"


def _writer(args: tuple[str, list[str]]) -> int:
    root, shas = args
    with GitRepo.discover(Path(root)) as r:
        for sha in shas:
            write_note(r, sha, f"note {sha}")
    return len(shas)


def test_concurrent_writers_lose_nothing(repo_path: Path, git: Git) -> None:
    stream = "".join(
        f"commit refs/heads/main\ncommitter A <a@b> {1700000000 + i} +0000\ndata 4\nc{i:03}\n\n"
        for i in range(12)
    )
    git("fast-import", "--quiet", input=stream.encode())
    shas = git("rev-list", "HEAD").split()
    jobs = [(str(repo_path), shas[i::4]) for i in range(4)]
    # (A plain `git notes add` from 12 processes keeps about 4 of the 12 notes.)
    with multiprocessing.get_context("fork").Pool(4) as pool:
        assert sum(pool.map(_writer, jobs)) == 12
    with GitRepo.discover(repo_path) as r:
        assert read_notes(r, shas) == {sha: f"note {sha}" for sha in shas}
        assert "gitml-tmp" not in git("for-each-ref")


def test_notes_travel_through_a_remote_and_merge(tmp_path: Path, repo_path: Path) -> None:
    remote = tmp_path / "remote.git"
    run_git(tmp_path, "init", "-q", "--bare", str(remote))
    run_git(repo_path, "remote", "add", "origin", str(remote))
    base = commit_files(repo_path, {"f": b"1"}, "base")
    run_git(repo_path, "push", "-q", "origin", "main")
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(remote), str(clone))
    init_repo(clone)  # identity
    with GitRepo.discover(repo_path) as a, GitRepo.discover(clone) as b:
        configure_notes(a, ["origin"])
        configure_notes(b, ["origin"])
        assert f"+{NOTES_REF}*:refs/notes/remotes/origin/gitml*" in b.config_get_all(
            "remote.origin.fetch"
        )
        assert merge_remote_notes(b, "origin") is False  # nothing fetched yet
        write_note(a, base, "from a")
        assert all(r.ok for r in push_refs(a, "origin", [f"{NOTES_REF}:{NOTES_REF}"]))
        write_note(b, base, "from b")
        run_git(clone, "fetch", "-q", "origin")  # the configured refspec fetches notes
        assert merge_remote_notes(b, "origin") is True
        merged = read_note(b, base)
        assert merged is not None and "from a" in merged and "from b" in merged
        fetch_refs(a, "origin", [f"+{NOTES_REF}:refs/notes/remotes/origin/gitml"])
