"""GitRepo on real repositories: discovery, listings, batch reads, index, config, log."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitml.errors import GitError, NotARepoError
from gitml.git.environment import clean_env, find_git
from gitml.git.repo import GitRepo
from tests.git.git_testlib import Git, GitCalls, commit_files, init_repo, run_git, write_exec

WEIRD = ["a b.txt", "-leading", "tab\there", "new\nline", "ünï/cødé.bin", "*.csv", ":colon", "[x]"]


def test_discover_from_subdir_and_file(repo_path: Path) -> None:
    (repo_path / "sub" / "deep").mkdir(parents=True)
    (repo_path / "sub" / "f.txt").write_text("x")
    for start in (repo_path / "sub" / "deep", repo_path / "sub" / "f.txt"):
        with GitRepo.discover(start) as r:
            assert r.root == repo_path.resolve()
            assert r.git_dir == repo_path.resolve() / ".git"
            assert r.common_dir == r.git_dir


def test_discover_outside_a_repo(tmp_path: Path) -> None:
    with pytest.raises(NotARepoError) as info:
        GitRepo.discover(tmp_path)
    assert info.value.message == "not inside a git repository"
    assert info.value.hint is not None and "git init" in info.value.hint


def test_discover_missing_path_and_bare(tmp_path: Path) -> None:
    with pytest.raises(NotARepoError):
        GitRepo.discover(tmp_path / "nope")
    run_git(tmp_path, "init", "-q", "--bare", "b.git")
    with pytest.raises(NotARepoError, match="work tree"):
        GitRepo.discover(tmp_path / "b.git")


def test_linked_worktree(repo_path: Path, tmp_path: Path) -> None:
    commit_files(repo_path, {"f": b"1"})
    run_git(repo_path, "worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"))
    with GitRepo.discover(tmp_path / "wt") as r:
        assert r.root == (tmp_path / "wt").resolve()
        assert r.common_dir == (repo_path / ".git").resolve()
        assert r.git_dir == (repo_path / ".git" / "worktrees" / "wt").resolve()
        assert r.current_branch() == "side"
        assert r.hooks_dir() == r.common_dir / "hooks"
        commit_files(tmp_path / "wt", {"g": b"2"})
        assert r.read_files_at("HEAD", ["g"]) == {"g": b"2"}


def test_inherited_hook_variables_of_another_repo_are_ignored(
    repo_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = init_repo(tmp_path / "other")
    commit_files(other, {"o": b"other"})
    commit_files(repo_path, {"m": b"mine"})
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    monkeypatch.setenv("GIT_PREFIX", "x/")
    with GitRepo.discover(repo_path) as r:
        assert r.root == repo_path.resolve()
        assert r.ls_files() == ["m"]
        assert r.read_files_at("HEAD", ["m", "o"]) == {"m": b"mine", "o": None}
        assert "GIT_DIR" not in r.clean_env() and "GIT_INDEX_FILE" not in clean_env()


def test_git_inside_the_repo_is_never_run(
    repo_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trap = tmp_path / "trap"
    write_exec(repo_path / "bin" / "git", f"#!/bin/sh\ntouch {trap}\nexit 1\n")
    path = [".", "bin", str(repo_path / "bin"), os.environ["PATH"]]
    monkeypatch.setenv("PATH", os.pathsep.join(path))
    monkeypatch.chdir(repo_path)
    assert not find_git([repo_path]).is_relative_to(repo_path)
    with GitRepo.discover(repo_path / "bin") as r:
        assert r.head() is None
        r.ls_files()
    assert not trap.exists()


def test_git_missing_is_a_clean_error(repo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo_path / "nothing-here"))
    with pytest.raises(GitError, match="not found on PATH"):
        GitRepo.discover(repo_path)


def test_weird_names_round_trip(repo_path: Path, repo: GitRepo) -> None:
    files = {name: name.encode() + b"\x00\xff" for name in WEIRD}
    commit_files(repo_path, files)
    assert sorted(repo.ls_files()) == sorted(WEIRD)
    assert set(repo.ls_tree("HEAD")) == set(WEIRD)
    assert repo.read_files_at("HEAD", WEIRD) == files
    assert repo.staged_blobs(WEIRD) == files
    # Literal, not patterns: "*.csv" is one file, "[x]" is not a character class.
    assert repo.ls_files("*.csv") == ["*.csv"]
    assert list(repo.ls_tree("HEAD", "[x]")) == ["[x]"]
    assert repo.ls_files(":colon", "-leading") == ["-leading", ":colon"]


def test_glob_magic_is_honoured_when_spelled_out(repo_path: Path, repo: GitRepo) -> None:
    files = {"a.gitml": b"1", "d/e/b.gitml": b"2", "d/c.txt": b"3", "x.gitmlx": b"4"}
    commit_files(repo_path, files)
    spec = ":(glob)**/*.gitml"
    assert sorted(repo.ls_files(spec)) == ["a.gitml", "d/e/b.gitml"]
    assert sorted(repo.ls_tree("HEAD", spec)) == ["a.gitml", "d/e/b.gitml"]
    assert sorted(repo.ls_tree("HEAD", ":(glob)d/*")) == ["d/c.txt", "d/e/b.gitml"]
    assert sorted(repo.ls_tree("HEAD", "d")) == ["d/c.txt", "d/e/b.gitml"]
    with pytest.raises(GitError, match="only"):
        repo.ls_tree("HEAD", ":(icase)A.GITML")


def test_ls_tree_skips_symlinks_and_lists_them_as_entries(repo_path: Path, repo: GitRepo) -> None:
    (repo_path / "target").write_text("t")
    os.symlink("target", repo_path / "link")
    commit_files(repo_path, {})
    assert set(repo.ls_tree("HEAD")) == {"target"}
    kinds = {e.path: e.mode for e in repo.ls_tree_entries("HEAD")}
    assert kinds == {"target": "100644", "link": "120000"}
    assert repo.read_files_at("HEAD", ["link"]) == {"link": None}


def test_read_blobs_uses_one_git_process(repo_path: Path, git_calls: GitCalls) -> None:
    files = {f"d/{i:04}.txt": f"content {i}".encode() for i in range(520)}
    commit_files(repo_path, files)
    with GitRepo.discover(repo_path) as r:
        listing = r.ls_tree("HEAD")
        git_calls.reset()
        blobs = r.read_blobs(listing.values())
        assert git_calls.commands() == ["cat-file --batch"]
        assert {p: blobs[s] for p, s in listing.items()} == files
        git_calls.reset()
        assert r.read_files_at("HEAD", list(files)) == files  # > 512 paths: full listing
        two = r.read_files_at("HEAD", ["d/0001.txt", "zz"])
        assert two == {"d/0001.txt": b"content 1", "zz": None}
        assert [c.split()[0] for c in git_calls.commands()] == ["ls-tree", "ls-tree"]


def test_read_blobs_errors(repo: GitRepo, repo_path: Path) -> None:
    commit_files(repo_path, {"f": b"x"})
    tree = repo.rev_parse("HEAD", kind="tree")
    with pytest.raises(GitError, match="not a file"):
        repo.read_blobs([tree])
    with pytest.raises(GitError, match="missing"):
        repo.read_blobs(["0" * 40])
    with pytest.raises(GitError, match="not an object id"):
        repo.read_blobs(["HEAD:f"])
    assert repo.read_blobs([repo.rev_parse("HEAD:f", kind="blob")]) != {}  # still in step


def test_staged_blobs_see_the_index_not_the_work_tree(repo_path: Path, repo: GitRepo) -> None:
    commit_files(repo_path, {"p": b"v1", "gone": b"g"})
    (repo_path / "p").write_bytes(b"v2")
    repo.add(["p"])
    (repo_path / "p").write_bytes(b"v3 unstaged")
    repo.rm_cached(["gone"])
    assert repo.staged_blobs(["p", "gone", "never"]) == {"p": b"v2", "gone": None, "never": None}
    assert (repo_path / "gone").exists()


def test_add_and_rm_cached_many_literal_paths(repo_path: Path, repo: GitRepo) -> None:
    names = [f"dir/{i} *[?].txt" for i in range(300)]
    (repo_path / "dir").mkdir()
    for name in names:
        (repo_path / name).write_text(name)
    repo.add(names)
    assert len(repo.ls_files()) == 300
    repo.rm_cached([*names[:100], "not-there"])
    assert len(repo.ls_files()) == 200
    repo.add([])
    repo.rm_cached(["dir"])
    assert repo.ls_files() == []


def test_add_ignored_path_fails_with_one_line(repo_path: Path, repo: GitRepo) -> None:
    (repo_path / ".gitignore").write_text("secret\n")
    (repo_path / "secret").write_text("s")
    with pytest.raises(GitError) as info:
        repo.add(["secret"])
    assert "\n" not in info.value.message and info.value.message.startswith("git add failed")
    repo.add(["secret"], force=True)
    assert "secret" in repo.ls_files()


def test_rev_parse(repo: GitRepo, repo_path: Path) -> None:
    assert repo.head() is None
    assert repo.log_shas() == [] and repo.log_records() == []
    sha = commit_files(repo_path, {"f": b"x"})
    assert repo.head() == sha == repo.rev_parse("main")
    with pytest.raises(GitError, match="'nope'"):
        repo.rev_parse("nope")
    for bad in ("--all", "-n", "a\nb", ""):
        with pytest.raises(GitError, match="invalid revision"):
            repo.rev_parse(bad)
    tree = run_git(repo_path, "rev-parse", "HEAD^{tree}").strip()
    assert repo.try_rev_parse("HEAD", kind="tree") == tree
    assert repo.try_rev_parse("HEAD:f", kind="tree") is None
    assert repo.try_rev_parse("HEAD:f", kind="object") == repo.rev_parse("HEAD:f", kind="blob")


def test_config(repo: GitRepo) -> None:
    assert repo.config_get("gitml.x") is None
    assert repo.config_get("gitml.x", "d") == "d"
    repo.config_set("gitml.x", "-starts with dash\nand a newline")
    assert repo.config_get("gitml.x") == "-starts with dash\nand a newline"
    repo.config_add("gitml.multi", "a")
    repo.config_add("gitml.multi", "b")
    assert repo.config_get_all("gitml.multi") == ["a", "b"]
    assert repo.config_get("gitml.multi") == "b"
    repo.config_unset("gitml.multi", "a")
    assert repo.config_get_all("gitml.multi") == ["b"]
    repo.config_unset("gitml.multi")
    repo.config_unset("gitml.multi")  # nothing left: not an error
    assert repo.config_get_all("gitml.multi") == []
    with pytest.raises(GitError, match="invalid git config key"):
        repo.config_set("--global", "x")


def test_log(repo_path: Path, repo: GitRepo, git: Git) -> None:
    first = commit_files(repo_path, {"a": b"1"}, "first: ünïcode")
    second = commit_files(repo_path, {"b": b"2"}, "second\n\nbody\n")
    commit_files(repo_path, {"a": b"3"}, "third")
    records = repo.log_records()
    assert [r.subject for r in records] == ["third", "second", "first: ünïcode"]
    assert records[1].sha == second and records[1].parents == (first,)
    assert records[2].parents == () and records[0].author_name == "Test User"
    assert records[0].author_email == "test@example.com" and records[0].author_time > 0
    assert repo.log_shas("HEAD", ["a"]) == [records[0].sha, first]
    assert [r.sha for r in repo.log_records(f"{first}..HEAD", max_count=1)] == [records[0].sha]
    assert repo.remote_names() == []
    assert repo.list_refs("refs/heads") == {"refs/heads/main": records[0].sha}


def test_log_of_long_history_is_one_process(repo_path: Path, git: Git, git_calls: GitCalls) -> None:
    stream = "".join(
        f"commit refs/heads/main\ncommitter A <a@b> {1700000000 + i} +0000\ndata 6\nc{i:04}\n\n"
        for i in range(1000)
    )
    git("fast-import", "--quiet", input=stream.encode())
    with GitRepo.discover(repo_path) as r:
        git_calls.reset()
        records = r.log_records()
        assert len(records) == 1000 and records[0].subject == "c0999"
        assert [c.split()[0] for c in git_calls.commands()] == ["--literal-pathspecs"]
