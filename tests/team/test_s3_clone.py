"""The team workflow against a real S3-compatible endpoint (moto on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import git, run_gitml
from tests.servers import Bucket, s3_bucket, s3_env, s3_server

__all__ = ["s3_bucket", "s3_env", "s3_server"]


def test_push_and_clone_pull_over_s3(tmp_path: Path, s3_bucket: Bucket) -> None:
    env = s3_bucket.env
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    a = tmp_path / "a"
    a.mkdir()
    git(a, "init", "-q", "-b", "main")
    run_gitml(a, "init", check=True, env=env)
    git(a, "remote", "add", "origin", str(bare))
    (a / "data").mkdir()
    for i in range(30):
        (a / "data" / f"part-{i}.csv").write_text(f"row,{i}\n" * (i + 1))
    run_gitml(a, "add", "data", check=True, env=env)
    url = s3_bucket.url("team")
    run_gitml(a, "remote", "add", "origin", url, "--endpoint-url", s3_bucket.endpoint_url,
              check=True, env=env)
    assert "not yet pushed:  31" in run_gitml(a, "status", "--remote", check=True, env=env).stdout
    git(a, "add", "-A")
    git(a, "commit", "-qm", "v1")
    git(a, "push", "-q", "origin", "main")  # the pre-push hook uploads the data
    assert "not yet pushed:  0" in run_gitml(a, "status", "--remote", check=True, env=env).stdout
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
