"""The cached clone of a source repository: which URLs are allowed, where the
clone lives, and that it follows the source (force-pushes and deleted tags too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitml.errors import GitError, UsageError
from gitml.git.clone import check_url, clone_dir, is_network_url, update_clone
from tests.conftest import git


@pytest.mark.parametrize(
    "url",
    ["../registry", "/srv/registry.git", "file:///srv/registry.git", "https://host/team/r.git",
     "ssh://git@host/team/r.git", "git@host:team/r.git", "git://host/r.git"],
)  # fmt: skip
def test_allowed_urls(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ext::sh -c id", "repository URL 'ext::sh -c id' uses a git remote helper, not allowed"),
        ("fd::3", "repository URL 'fd::3' uses a git remote helper, not allowed"),
        (
            "--upload-pack=id",
            "'--upload-pack=id' is not a repository URL or path (starts with '-')",
        ),
        ("ftp://host/r.git", "repository URL scheme 'ftp' is not allowed"),
        ("", "'' is not a repository URL or path"),
        ("a\nb", "'a\\nb' is not a repository URL or path"),
    ],
)
def test_refused_urls(url: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        check_url(url)
    assert info.value.message == message


def test_network_urls() -> None:
    assert [is_network_url(u) for u in ("git@h:r", "https://h/r", "file:///r", "../r")] == [
        True, True, False, False,
    ]  # fmt: skip


def test_the_clone_lives_under_the_cache_home_whatever_the_url(tmp_path: Path) -> None:
    for url in ("https://h/../../etc", "/a/b/../../..", "git@h:/", "https://h/x?y=../../z"):
        dest = clone_dir(tmp_path, url)
        assert dest.parent == tmp_path / "repos"
        assert dest.name not in ("", ".", "..")
    assert clone_dir(tmp_path, "/a/r") != clone_dir(tmp_path, "/b/r")


def test_the_clone_follows_force_pushes_and_deleted_tags(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    git(src, "init", "-q", "-b", "main")
    (src / "f").write_text("1")
    git(src, "add", "f")
    git(src, "commit", "-q", "-m", "one")
    git(src, "tag", "old")
    dest = tmp_path / "cache" / "clone"
    dest.parent.mkdir()
    update_clone(str(src), dest)
    assert git(dest, "rev-parse", "main") == git(src, "rev-parse", "main")
    (src / "f").write_text("2")
    git(src, "commit", "-q", "--amend", "-am", "rewritten")
    git(src, "tag", "-d", "old")
    update_clone(str(src), dest)
    assert git(dest, "rev-parse", "main") == git(src, "rev-parse", "main")
    assert git(dest, "tag", "--list") == ""
    assert not (dest / "f").exists()  # no checkout: only git's own files


def test_an_unreachable_url_fails_at_once_and_keeps_secrets_out(tmp_path: Path) -> None:
    with pytest.raises(GitError) as info:
        update_clone("https://user:s3cret@127.0.0.1:9/team/r.git", tmp_path / "clone")
    assert "s3cret" not in str(info.value)
    assert not (tmp_path / "clone").exists()
