"""The team workflow against a real S3-compatible endpoint (moto on 127.0.0.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitml.store.hashing import hash_bytes
from tests.conftest import git, run_gitml
from tests.servers import Bucket, s3_bucket, s3_env, s3_server
from tests.testing.team import origin_and_first_clone

__all__ = ["s3_bucket", "s3_env", "s3_server"]


def test_push_and_clone_pull_over_s3(tmp_path: Path, s3_bucket: Bucket) -> None:
    env = s3_bucket.env
    bare, a = origin_and_first_clone(tmp_path, data_remote=None, env=env)
    (a / "data").mkdir()
    for i in range(30):
        (a / "data" / f"part-{i}.csv").write_text(f"row,{i}\n" * (i + 1))
    run_gitml(a, "add", "data", check=True, env=env)
    url = s3_bucket.url("team")
    run_gitml(
        a,
        "remote",
        "add",
        "origin",
        url,
        "--endpoint-url",
        s3_bucket.endpoint_url,
        check=True,
        env=env,
    )
    assert "not yet pushed:  31" in run_gitml(a, "status", "--cloud", check=True, env=env).stdout
    git(a, "add", "-A")
    git(a, "commit", "-qm", "v1")
    git(a, "push", "-q", "origin", "main")  # the pre-push hook uploads the data
    assert "not yet pushed:  0" in run_gitml(a, "status", "--cloud", check=True, env=env).stdout
    second = run_gitml(a, "push", check=True, env=env)
    assert "pushed 0 objects" in second.stdout  # a no-op push transfers nothing

    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(b))
    run_gitml(b, "pull", check=True, env=env)
    for i in range(30):
        assert (b / "data" / f"part-{i}.csv").read_text() == f"row,{i}\n" * (i + 1)
    secret = env["AWS_SECRET_ACCESS_KEY"]
    bad = run_gitml(b, "push", env={**env, "AWS_ACCESS_KEY_ID": "wrong-" + secret})
    assert secret not in bad.stdout + bad.stderr


def test_remote_gc_over_s3_keeps_young_objects(
    tmp_path: Path, s3_bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 listings carry LastModified: a fresh orphan survives gc's grace period,
    and goes once the period is over (here: zero)."""
    env = s3_bucket.env
    a = tmp_path / "a"
    a.mkdir()
    git(a, "init", "-q", "-b", "main")
    run_gitml(a, "init", "--no-hooks", check=True, env=env)
    (a / "data").mkdir()
    for i in range(5):
        (a / "data" / f"part-{i}.csv").write_text(f"row,{i}\n")
    run_gitml(a, "add", "data", check=True, env=env)
    run_gitml(
        a,
        "remote",
        "add",
        "origin",
        s3_bucket.url("gc"),
        "--endpoint-url",
        s3_bucket.endpoint_url,
        check=True,
        env=env,
    )
    git(a, "add", "-A")
    git(a, "commit", "-qm", "v1")
    git(tmp_path, "init", "-q", "--bare", "origin.git")  # remote gc reads the refs there
    git(a, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git(a, "push", "-q", "origin", "main")
    run_gitml(a, "push", check=True, env=env)
    (a / "data" / "part-0.csv").write_text("orphan\n")
    run_gitml(a, "add", "data", check=True, env=env)
    run_gitml(a, "push", check=True, env=env)  # new file + new manifest, never committed
    git(a, "checkout", "HEAD", "--", "data.gitml")
    run_gitml(a, "checkout", "data", "--force", check=True, env=env)

    dry = json.loads(
        run_gitml(a, "gc", "--cloud", "--dry-run", "--json", check=True, env=env).stdout
    )
    assert dry["removed"] == [] and dry["kept_recent"] == 2

    from gitml.context import open_repo
    from gitml.remotes.maintenance import gc_remote

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = gc_remote(open_repo(a), remote=None, all_commits=False, dry_run=False, grace_seconds=0)
    assert hash_bytes(b"orphan\n") in result.removed and len(result.removed) == 2  # + manifest
    fsck = json.loads(
        run_gitml(a, "fsck", "--cloud", "--verify", "--json", check=True, env=env).stdout
    )
    assert fsck["missing"] == {} and fsck["corrupt"] == {}
