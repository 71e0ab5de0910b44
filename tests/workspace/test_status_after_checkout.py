"""Issue 10 item 6: status after a checkout of some files, or of another
version, says what the workspace holds (the folder's recorded tree is no
longer trusted once a checkout wrote a tree no pointer names)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli, git


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def two_versions(repo: Path, cli: Cli) -> None:
    write(repo / "data/a.txt", b"a v1\n")
    write(repo / "data/b.txt", b"b v1\n")
    write(repo / "data/sub/c.txt", b"c v1\n")
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")
    write(repo / "data/a.txt", b"a v2\n")
    write(repo / "data/sub/c.txt", b"c v2\n")
    cli("add", "data")
    git(repo, "commit", "-qm", "v2")
    assert json.loads(cli("status", "--json").out)[0]["state"] == "clean"


def changes(cli: Cli) -> tuple[str, list[tuple[str, str]], str]:
    item = json.loads(cli("status", "--json").out)[0]
    return (
        item["state"],
        [(c["path"], c["change"]) for c in item["changes"]],
        item["message"],
    )


def test_status_after_a_single_file_checkout_from_a_revision(repo: Path, cli: Cli) -> None:
    two_versions(repo, cli)
    cli("checkout", "data/a.txt@HEAD~1")
    assert (repo / "data/a.txt").read_bytes() == b"a v1\n"
    assert changes(cli) == ("modified", [("data/a.txt", "modified")], "gitml add")
    assert cli("status", "--exit-code", expect=1).code == 1
    diff = json.loads(cli("diff", "--json").out)["paths"][0]["changes"]
    assert [(c["path"], c["change"]) for c in diff] == [("data/a.txt", "modified")]
    # Adding it records the restored file (a new version, not a refusal).
    cli("add", "data")
    assert changes(cli) == ("clean", [], "")
    git(repo, "commit", "-qm", "a back to v1")
    since_v1 = json.loads(cli("diff", "HEAD~2", "HEAD", "--json").out)["paths"][0]["changes"]
    assert [c["path"] for c in since_v1] == ["data/sub/c.txt"]


def test_status_after_a_sub_folder_checkout_from_a_revision(repo: Path, cli: Cli) -> None:
    two_versions(repo, cli)
    cli("checkout", "data/sub@HEAD~1")
    assert (repo / "data/sub/c.txt").read_bytes() == b"c v1\n"
    assert changes(cli) == ("modified", [("data/sub/c.txt", "modified")], "gitml add")
    # Checking the folder out from its pointer puts it back, and status trusts it again.
    cli("checkout", "--force", "data")
    assert changes(cli) == ("clean", [], "")


def test_status_after_checking_the_whole_folder_out_at_a_revision(repo: Path, cli: Cli) -> None:
    """The workspace deliberately holds another version: modified (add records
    it), not stale (checkout would undo what was asked for)."""
    two_versions(repo, cli)
    cli("checkout", "data@HEAD~1")
    state, found, hint = changes(cli)
    assert (state, hint) == ("modified", "gitml add")
    assert found == [("data/a.txt", "modified"), ("data/sub/c.txt", "modified")]
    cli("add", "data")
    git(repo, "commit", "-qm", "back to v1")
    assert json.loads(cli("diff", "HEAD~2", "HEAD", "--json").out)["paths"] == []


def test_checkout_of_a_file_from_the_pointer_keeps_the_fast_path_true(repo: Path, cli: Cli) -> None:
    """Restoring one edited file from the pointer itself: the other edit still shows."""
    two_versions(repo, cli)
    write(repo / "data/a.txt", b"edit a\n")
    write(repo / "data/b.txt", b"edit b\n")
    cli("checkout", "--force", "data/a.txt")
    assert (repo / "data/a.txt").read_bytes() == b"a v2\n"
    assert changes(cli) == ("modified", [("data/b.txt", "modified")], "gitml add")
