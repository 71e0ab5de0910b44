"""gitml.git.index: staged paths and trees, with odd names, on real repositories."""

from __future__ import annotations

from pathlib import Path

from gitml.git.index import changed_between, commit_tree, index_tree, staged_paths
from gitml.git.repo import GitRepo
from tests.git.git_testlib import commit_files, run_git


def test_staged_paths_and_trees(repo_path: Path, repo: GitRepo) -> None:
    (repo_path / "new\nline").write_text("1")
    repo.add(["new\nline"])
    assert staged_paths(repo) == ["new\nline"]  # before the first commit
    first = commit_files(repo_path, {"-dash": b"1", "keep": b"k"})
    run_git(repo_path, "config", "diff.external", "false")  # user diff config is ignored
    assert staged_paths(repo) == []
    (repo_path / "-dash").write_text("2")
    repo.add(["-dash"])
    repo.rm_cached(["keep"])
    assert sorted(staged_paths(repo)) == ["-dash", "keep"]
    tree = index_tree(repo)
    run_git(repo_path, "commit", "-q", "--no-verify", "-m", "second")
    second = repo.rev_parse("HEAD")
    assert commit_tree(repo, second) == tree
    assert sorted(changed_between(repo, first, second)) == ["-dash", "keep"]
    assert changed_between(repo, second, second) == []
