"""Two clones and a bare git remote: registry conflicts are loud and named.

A version another clone already pushed is refused by ``register`` (it asks the
git remote first); registered offline, ``gitml push`` fails naming the tag and
``gitml pull`` gives git's real reason. A remote without notes is not an error.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import git, run_gitml
from tests.testing.team import origin_and_first_clone


def _origin_and_clone_a(tmp_path: Path, *, hooks: bool = True) -> tuple[Path, Path]:
    bare, a = origin_and_first_clone(tmp_path, hooks=hooks, data_remote="store")
    (a / "models").mkdir()
    (a / "models" / "churn.pkl").write_bytes(b"model from a" * 100)
    run_gitml(a, "add", "models/churn.pkl", check=True)
    git(a, "add", "-A")
    git(a, "commit", "-qm", "a: model")
    git(a, "push", "-q", "origin", "main")
    if hooks:
        run_gitml(a, "push", check=True)  # data, and the notes the hooks wrote
        assert "refs/notes/gitml" in git(bare, "for-each-ref")
    return bare, a


def _clone(tmp_path: Path, bare: Path, name: str) -> Path:
    b = tmp_path / name
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(b))
    run_gitml(b, "pull", check=True)
    return b


def _new_model(clone: Path, data: bytes, message: str) -> None:
    (clone / "models" / "churn.pkl").write_bytes(data)
    run_gitml(clone, "add", "models/churn.pkl", check=True)
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", message)


def test_register_refuses_a_version_another_clone_pushed(tmp_path: Path) -> None:
    bare, a = _origin_and_clone_a(tmp_path)
    b = _clone(tmp_path, bare, "b")  # before a registers anything
    run_gitml(a, "register", "churn", "--path", "models/churn.pkl", check=True)
    run_gitml(a, "push", check=True)
    assert "churn@v1.0.0" in git(bare, "tag")

    _new_model(b, b"model from b" * 100, "b: model")
    proc = run_gitml(b, "register", "churn", "--path", "models/churn.pkl")
    assert proc.returncode == 1, proc.stderr
    assert "error: churn@v1.0.0 already exists on origin" in proc.stderr
    assert "hint: gitml pull" in proc.stderr
    assert "churn@v1.0.0" not in git(b, "tag")  # nothing created locally

    run_gitml(b, "pull", check=True)  # now b knows v1.0.0: the next one is v2.0.0
    proc = run_gitml(b, "register", "churn", "--path", "models/churn.pkl", check=True)
    assert "v2.0.0" in proc.stdout
    run_gitml(b, "push", check=True)
    assert {"churn@v1.0.0", "churn@v2.0.0"} <= set(git(bare, "tag").split())


def test_offline_register_then_push_is_rejected_and_named(tmp_path: Path) -> None:
    bare, a = _origin_and_clone_a(tmp_path)
    b = _clone(tmp_path, bare, "b")
    run_gitml(a, "register", "churn", "--path", "models/churn.pkl", check=True)
    run_gitml(a, "push", check=True)
    theirs = git(bare, "rev-parse", "churn@v1.0.0^{commit}").strip()

    _new_model(b, b"model from b" * 100, "b: model")
    away = tmp_path / "origin-away.git"
    bare.rename(away)  # origin unreachable: register warns and goes on
    proc = run_gitml(b, "register", "churn", "--path", "models/churn.pkl")
    assert proc.returncode == 0, proc.stderr
    assert "could not check origin's registry tags" in proc.stderr
    away.rename(bare)

    proc = run_gitml(b, "push")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert (
        "error: churn@v1.0.0 already exists on origin with another commit: "
        "gitml pull, then register again" in proc.stderr
    )
    assert "tags and notes" not in proc.stdout
    assert git(bare, "rev-parse", "churn@v1.0.0^{commit}").strip() == theirs  # untouched

    proc = run_gitml(b, "pull")
    assert proc.returncode == 4
    assert "refused tag churn@v1.0.0: would clobber existing tag" in proc.stderr
    assert "no error message" not in proc.stderr
    assert "git tag -d churn@v1.0.0" in proc.stderr

    # the way out the messages give
    git(b, "tag", "-d", "churn@v1.0.0")
    run_gitml(b, "pull", check=True)
    proc = run_gitml(b, "register", "churn", "--path", "models/churn.pkl", check=True)
    assert "v2.0.0" in proc.stdout
    run_gitml(b, "push", check=True)


def test_pull_and_fetch_from_a_remote_without_notes(tmp_path: Path) -> None:
    bare, a = _origin_and_clone_a(tmp_path, hooks=False)  # no hooks: no notes
    run_gitml(a, "push", check=True)
    assert "refs/notes" not in git(bare, "for-each-ref")
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(b))
    run_gitml(b, "fetch", check=True)
    proc = run_gitml(b, "pull", check=True)
    assert "couldn't find remote ref" not in proc.stderr
    assert (b / "models" / "churn.pkl").read_bytes() == b"model from a" * 100


def test_init_fetch_refspec_survives_a_remote_without_notes(tmp_path: Path) -> None:
    bare, _a = _origin_and_clone_a(tmp_path, hooks=False)
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(b))
    run_gitml(b, "init", check=True)  # configures the notes fetch refspec
    git(b, "fetch", "origin")  # plain git fetch keeps working
    git(
        b,
        "config",
        "--add",
        "remote.origin.fetch",
        "+refs/notes/gitml:refs/notes/remotes/origin/gitml",
    )
    run_gitml(b, "init", check=True)  # an old exact refspec is replaced
    assert "+refs/notes/gitml:" not in git(b, "config", "--get-all", "remote.origin.fetch")
    git(b, "fetch", "origin")
