"""Tags: one-process listing, exact messages, atomic creation, names, push/fetch."""

from __future__ import annotations

import multiprocessing
import subprocess
from pathlib import Path

import pytest

from gitml.errors import GitError, RemoteError, UsageError
from gitml.git.refname import is_valid_refname, tag_name_error
from gitml.git.repo import GitRepo
from gitml.git.tags import TagExistsError, create_tag, delete_tag, list_tags, tag_exists
from gitml.git.transport import fetch_refs, push_refs
from tests.git.git_testlib import Git, GitCalls, commit_files, run_git

MESSAGES = [
    "plain",
    "ends with newline\n",
    "# looks like a comment\n\n\nblank lines   \n\n",
    "%(refname) %00 \\0 fake\x00fields",
    "ünïcode ✓",
    "",
]


def test_list_kinds_of_tags(repo_path: Path, repo: GitRepo, git: Git) -> None:
    c1 = commit_files(repo_path, {"f": b"1"})
    git("tag", "light")
    git("tag", "-a", "-m", "annotated msg", "ann")
    git("tag", "-a", "-m", "outer", "nested", "ann")
    git("tag", "-a", "-m", "on a tree", "treetag", "HEAD^{tree}")
    tags = {t.name: t for t in list_tags(repo)}
    assert set(tags) == {"light", "ann", "nested", "treetag"}
    assert not tags["light"].annotated and tags["light"].target == c1
    assert tags["light"].message == "" and tags["light"].tagger_time is None
    ann = tags["ann"]
    assert ann.annotated and ann.target == c1 and ann.target_type == "commit"
    assert ann.message == "annotated msg\n" and ann.tagger_name == "Test User"
    assert ann.tagger_email == "test@example.com" and ann.tagger_time and ann.tagger_time > 0
    assert tags["nested"].target == c1 and tags["nested"].target_type == "commit"
    assert tags["treetag"].target_type == "tree"
    assert [t.name for t in list_tags(repo, "n*")] == ["nested"]
    assert list_tags(repo, "zzz*") == []


@pytest.mark.parametrize("message", MESSAGES)
def test_messages_are_stored_verbatim(repo_path: Path, repo: GitRepo, message: str) -> None:
    commit_files(repo_path, {"f": b"1"})
    create_tag(repo, "m@v1.0.0", "HEAD", message.replace("\x00", ""))
    create_tag(repo, "z-after", "HEAD", "after")
    got = {t.name: t.message for t in list_tags(repo)}
    assert got["m@v1.0.0"] == message.replace("\x00", "")  # byte-exact
    assert got["z-after"] == "after"


def test_hostile_tag_object_does_not_confuse_the_listing(
    repo_path: Path, repo: GitRepo, git: Git
) -> None:
    commit = commit_files(repo_path, {"f": b"1"})
    body = (
        f"object {commit}\ntype commit\ntag evil\ntagger X <x@y> 1700000000 +0000\n\n"
        "msg\x00refs/tags/fake\x00tag\x00" + "0" * 40 + "\x00\n\x00\x00rest\n"
    ).encode()
    sha = git("hash-object", "-t", "tag", "-w", "--literally", "--stdin", input=body).strip()
    git("update-ref", "refs/tags/evil", sha)
    git("tag", "-a", "-m", "good", "good")
    tags = {t.name: t for t in list_tags(repo)}
    assert set(tags) == {"evil", "good"}
    assert tags["evil"].target == commit and tags["evil"].message.startswith("msg")
    assert tags["good"].message == "good\n"


def test_two_thousand_tags_list_fast_in_one_process(
    repo_path: Path, git: Git, git_calls: GitCalls
) -> None:
    commit_files(repo_path, {"f": b"1"})
    stream = "".join(
        f"tag model{i % 7}@v{i}.0.0\nfrom refs/heads/main\n"
        f"tagger T <t@e> {1700000000 + i} +0000\ndata 20\nregistered v{i:08}\n"
        for i in range(2000)
    )
    git("fast-import", "--quiet", input=stream.encode())
    with GitRepo.discover(repo_path) as r:
        git_calls.reset()
        tags = list_tags(r)
        assert len(tags) == 2000 and all(t.annotated for t in tags)
        # One git process for all tags (speed is measured by make bench, not asserted).
        assert git_calls.commands()[0].startswith("for-each-ref") and len(git_calls.commands()) == 1


def test_create_refuses_existing_and_invalid(repo_path: Path, repo: GitRepo) -> None:
    commit_files(repo_path, {"f": b"1"})
    sha = create_tag(repo, "churn@v1.0.0", "HEAD", "first")
    assert tag_exists(repo, "churn@v1.0.0")
    assert {t.name: t.object_sha for t in list_tags(repo)} == {"churn@v1.0.0": sha}
    with pytest.raises(TagExistsError, match="already exists"):
        create_tag(repo, "churn@v1.0.0", "HEAD", "second")
    for bad in ("-x", "a..b", "a b", "x.lock", "a/.b", "x@{y", "tab\tname", "", "a/"):
        with pytest.raises(UsageError):
            create_tag(repo, bad, "HEAD", "m")
    with pytest.raises(GitError, match="unknown revision"):
        create_tag(repo, "ok", "no-such-rev", "m")


def _creator(args: tuple[str, int]) -> str:
    root, i = args
    with GitRepo.discover(Path(root)) as r:
        try:
            create_tag(r, "race@v1.0.0", "HEAD", f"writer {i}")
        except TagExistsError:
            return "lost"
    return "won"


def test_concurrent_creation_has_exactly_one_winner(repo_path: Path, repo: GitRepo) -> None:
    commit_files(repo_path, {"f": b"1"})
    with multiprocessing.get_context("fork").Pool(6) as pool:
        outcomes = pool.map(_creator, [(str(repo_path), i) for i in range(6)])
    assert outcomes.count("won") == 1
    (tag,) = list_tags(repo)
    assert tag.message == f"writer {outcomes.index('won')}"


def test_delete(repo_path: Path, repo: GitRepo) -> None:
    commit_files(repo_path, {"f": b"1"})
    create_tag(repo, "a@v1.0.0", "HEAD", "m")
    delete_tag(repo, "a@v1.0.0")
    assert list_tags(repo) == []
    with pytest.raises(GitError, match="not found"):
        delete_tag(repo, "a@v1.0.0")


REFNAMES = [
    "refs/tags/a",
    "refs/tags/a@v1.2.3",
    "refs/tags/a#prod#3",
    "refs/tags/a@v1.0.0!",
    "refs/tags/a..b",
    "refs/tags/.a",
    "refs/tags/a.",
    "refs/tags/a.lock",
    "refs/tags/a.lock/b",
    "refs/tags//a",
    "refs/tags/a/",
    "refs/tags/a b",
    "refs/tags/a~",
    "refs/tags/a^",
    "refs/tags/a:",
    "refs/tags/a?",
    "refs/tags/a*",
    "refs/tags/a[",
    "refs/tags/a\\b",
    "refs/tags/a@{b",
    "refs/tags/@",
    "@",
    "refs/tags/a\x7f",
    "refs/tags/a\x01",
    "refs/tags/ünï",
    "refs/tags/-a",
    "refs/tags/a/-b",
    "refs/tags/a@b",
    "refs/tags/a{b}",
    "onelevel",
    "refs/tags/.",
    "refs/tags/..",
    "refs/tags/a/.lock",
    "refs/tags/lock.",
    "refs/tags/a.b.lockx",
    "/refs/tags/a",
    "refs/tags/a#b!",
]


def test_refname_rules_match_git(tmp_path: Path) -> None:
    for name in REFNAMES:
        git_ok = subprocess.run(["git", "check-ref-format", name], cwd=tmp_path).returncode == 0
        assert is_valid_refname(name) == git_ok, name
    assert tag_name_error("-a") is not None and tag_name_error("a@v1.0.0") is None


def test_push_and_fetch_tags(tmp_path: Path, repo_path: Path, repo: GitRepo) -> None:
    remote = tmp_path / "remote.git"
    run_git(tmp_path, "init", "-q", "--bare", str(remote))
    commit_files(repo_path, {"f": b"1"})
    create_tag(repo, "m@v1.0.0", "HEAD", "one")
    (res,) = push_refs(repo, str(remote), ["refs/tags/m@v1.0.0"])
    assert res.ok and res.status == "new" and res.destination == "refs/tags/m@v1.0.0"
    (res,) = push_refs(repo, str(remote), ["refs/tags/m@v1.0.0"])
    assert res.status == "up-to-date"
    delete_tag(repo, "m@v1.0.0")
    create_tag(repo, "m@v1.0.0", "HEAD", "a different one")
    (res,) = push_refs(repo, str(remote), ["refs/tags/m@v1.0.0"])
    assert not res.ok and res.status == "rejected"
    delete_tag(repo, "m@v1.0.0")
    fetch_refs(repo, str(remote), ["refs/tags/*:refs/tags/*"])
    assert [t.message for t in list_tags(repo)] == ["one"]
    with pytest.raises(RemoteError, match="failed"):
        push_refs(repo, str(tmp_path / "missing.git"), ["refs/tags/m@v1.0.0"])
    with pytest.raises(RemoteError):
        fetch_refs(repo, "https://user:s3cret@127.0.0.1:9/x.git", ["refs/tags/*:refs/tags/*"])
    with pytest.raises(UsageError):
        push_refs(repo, "--upload-pack=touch /tmp/x", ["refs/tags/x"])
    with pytest.raises(UsageError):
        fetch_refs(repo, str(remote), ["--all"])


def test_credentials_are_redacted(tmp_path: Path, repo_path: Path, repo: GitRepo) -> None:
    commit_files(repo_path, {"f": b"1"})
    with pytest.raises(RemoteError) as info:
        fetch_refs(repo, "https://user:s3cret@127.0.0.1:9/x.git", ["refs/heads/main"])
    assert "s3cret" not in str(info.value)
