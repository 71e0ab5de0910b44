"""Credentials the way each ecosystem finds them, from the CLI against the loopback
servers: AWS profiles and variables, GOOGLE_APPLICATION_CREDENTIALS, Azure
connection strings and account keys, ssh keys and ~/.ssh/config. A missing
credential is one error naming what to set (exit 4); secrets never reach tracked
config or output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import tomlkit

from tests.conftest import git, run_gitml
from tests.servers import DUMMY_KEY, DUMMY_SECRET, Bucket, s3_bucket, s3_env, s3_server
from tests.testing.backends import azurite_server, gcs_server, ssh_server
from tests.testing.servers_azure import ACCOUNT, ACCOUNT_KEY, AzuriteServer
from tests.testing.servers_gcs import GcsServer
from tests.testing.servers_oauth import OAuthServer
from tests.testing.servers_ssh import SshServer

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
__all__ = ["azurite_server", "gcs_server", "s3_bucket", "s3_env", "s3_server", "ssh_server"]

# no credential from this machine may leak into a test, and nothing may ask a
# cloud metadata server (there is no network)
_CLEAN = {
    "NO_GCE_CHECK": "True",  # google-auth: never probe for a metadata server
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_UNSET = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "STORAGE_EMULATOR_HOST",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCOUNT",
    "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "SSH_AUTH_SOCK",
)


@pytest.fixture(autouse=True)
def _no_credentials_of_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _UNSET:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    run_gitml(root, "init", "--no-hooks", check=True)
    (root / "model.bin").write_bytes(b"weights " * 500)
    run_gitml(root, "add", "model.bin", check=True)
    return root


def _hostile_tracked(repo: Path, key: str, value: str) -> None:
    """Put ``key`` into [remote.origin] of the tracked file, as a hostile clone would
    commit it (``gitml config`` refuses to write it there)."""
    tracked = repo / ".gitml" / "config.toml"
    doc = tomlkit.parse(tracked.read_text())
    doc["remote"]["origin"][key] = value  # type: ignore[index]
    tracked.write_text(tomlkit.dumps(doc))


def _local(repo: Path, body: str) -> None:
    with open(repo / ".gitml" / "config.local.toml", "a", encoding="utf-8") as fh:
        fh.write(body)


def _refused(proc: object, *needles: str) -> None:
    out = proc.stdout + proc.stderr  # type: ignore[attr-defined]
    assert proc.returncode == 4, out  # type: ignore[attr-defined]
    assert "Traceback" not in out and out.startswith("error: "), out
    for needle in needles:
        assert needle in out, (needle, out)


def _tracked(repo: Path) -> str:
    return (repo / ".gitml" / "config.toml").read_text()


# ---------------------------------------------------------------- AWS


def test_aws_profile_from_shared_credentials_file(
    repo: Path, s3_bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = repo.parent / "aws-credentials"
    creds.write_text(
        f"[team]\naws_access_key_id = {DUMMY_KEY}\naws_secret_access_key = {DUMMY_SECRET}\n"
    )
    env = {**_CLEAN, "AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_DEFAULT_REGION": "us-east-1"}
    for name in _UNSET:  # s3_bucket set the dummy keys; this test finds them itself
        monkeypatch.delenv(name, raising=False)
    url = s3_bucket.url("team")
    run_gitml(repo, "remote", "add", "origin", url, "--endpoint-url", s3_bucket.endpoint_url)
    _refused(run_gitml(repo, "push", env=env), "AWS_ACCESS_KEY_ID", "AWS_PROFILE")
    assert (
        "pushed 1 object"
        in run_gitml(repo, "push", check=True, env={**env, "AWS_PROFILE": "team"}).stdout
    )


# ---------------------------------------------------------------- Google Cloud


def test_gcs_without_credentials_names_the_variable(repo: Path) -> None:
    run_gitml(repo, "remote", "add", "origin", "gs://team-bucket/data", check=True)
    _refused(run_gitml(repo, "push", env=_CLEAN), "GOOGLE_APPLICATION_CREDENTIALS", "gcloud auth")
    missing = repo.parent / "nope.json"
    proc = run_gitml(repo, "push", env={**_CLEAN, "GOOGLE_APPLICATION_CREDENTIALS": str(missing)})
    _refused(proc, "GOOGLE_APPLICATION_CREDENTIALS", str(missing), "does not exist")


def test_gcs_service_account_from_google_application_credentials(
    repo: Path, gcs_server: GcsServer
) -> None:
    oauth = OAuthServer()
    try:
        key = oauth.service_account(repo.parent / "sa.json")
        url = f"gs://{gcs_server.create_bucket()}/data"
        run_gitml(repo, "remote", "add", "origin", url, "--endpoint-url", gcs_server.endpoint_url)
        env = {**_CLEAN, "GOOGLE_APPLICATION_CREDENTIALS": str(key)}
        pushed = run_gitml(repo, "push", check=True, env=env)
        assert "pushed 1 object" in pushed.stdout
        assert oauth.grants and set(oauth.grants) == {JWT_GRANT}  # the key was used
        assert "PRIVATE KEY" not in pushed.stdout + pushed.stderr + _tracked(repo)
    finally:
        oauth.stop()


def test_gcs_emulator_is_anonymous(repo: Path, gcs_server: GcsServer) -> None:
    url = f"gs://{gcs_server.create_bucket()}/data"
    run_gitml(repo, "remote", "add", "origin", url, "--endpoint-url", gcs_server.endpoint_url)
    assert "pushed 1 object" in run_gitml(repo, "push", check=True, env=_CLEAN).stdout


# ---------------------------------------------------------------- Azure


def test_azure_without_account_names_the_variables(repo: Path) -> None:
    run_gitml(repo, "remote", "add", "origin", "az://models/team", check=True)
    _refused(run_gitml(repo, "push", env=_CLEAN), "AZURE_STORAGE_CONNECTION_STRING", "account_name")


def test_azure_account_key_from_environment(repo: Path, azurite_server: AzuriteServer) -> None:
    url = f"az://{azurite_server.create_container()}/team"
    run_gitml(repo, "remote", "add", "origin", url, "--endpoint-url", azurite_server.blob_endpoint)
    run_gitml(repo, "remote", "modify", "origin", "account_name", ACCOUNT, check=True)
    _refused(run_gitml(repo, "push", env=_CLEAN), "AZURE_STORAGE_KEY")
    env = {**_CLEAN, "AZURE_STORAGE_KEY": ACCOUNT_KEY}
    pushed = run_gitml(repo, "push", check=True, env=env)
    assert "pushed 1 object" in pushed.stdout
    listed = run_gitml(repo, "remote", "list", check=True, env=env)
    for text in (pushed.stdout, pushed.stderr, listed.stdout, _tracked(repo)):
        assert ACCOUNT_KEY not in text


def test_azure_connection_string_only_in_local_config(
    repo: Path, azurite_server: AzuriteServer
) -> None:
    url = f"az://{azurite_server.create_container()}/team"
    run_gitml(repo, "remote", "add", "origin", url, check=True)
    conn = azurite_server.connection_string()
    _hostile_tracked(repo, "connection_string", conn)
    proc = run_gitml(repo, "push", env=_CLEAN)
    assert proc.returncode == 3 and "config.local.toml" in proc.stderr, proc.stderr
    assert ACCOUNT_KEY not in proc.stdout + proc.stderr
    run_gitml(repo, "remote", "add", "origin", url, "--force", env=_CLEAN)
    git_tracked = _tracked(repo).replace(f'connection_string = "{conn}"\n', "")
    (repo / ".gitml" / "config.toml").write_text(git_tracked)
    _local(repo, f'\n[remote.origin]\nconnection_string = "{conn}"\n')
    assert "pushed 1 object" in run_gitml(repo, "push", check=True, env=_CLEAN).stdout


# ---------------------------------------------------------------- SSH


def test_ssh_without_any_key_names_what_to_set(repo: Path) -> None:
    run_gitml(repo, "remote", "add", "origin", "ssh://backup.example/srv/data", check=True)
    _refused(run_gitml(repo, "push", env=_CLEAN), "SSH_AUTH_SOCK", "~/.ssh/id_ed25519", "key_file")


def test_ssh_host_alias_from_ssh_config(repo: Path, ssh_server: SshServer) -> None:
    alias = ssh_server.ssh_config(Path(os.environ["HOME"]))
    run_gitml(repo, "remote", "add", "origin", f"ssh://{alias}/alias-store", check=True)
    assert "pushed 1 object" in run_gitml(repo, "push", check=True, env=_CLEAN).stdout
    assert any((ssh_server.root / "alias-store" / "objects").rglob("*"))


def test_ssh_key_file_in_local_config_and_host_key_checked(
    repo: Path, ssh_server: SshServer
) -> None:
    home = Path(os.environ["HOME"])
    url = f"ssh://{ssh_server.user}@127.0.0.1:{ssh_server.port}/keyfile-store"
    run_gitml(repo, "remote", "add", "origin", url, check=True)
    _local(repo, f'\n[remote.origin]\nkey_file = "{ssh_server.client_key_path}"\n')
    # the server's host key is unknown: refused, never trusted on first use
    _refused(run_gitml(repo, "push", env=_CLEAN), "host key", "known_hosts")
    (home / ".ssh").mkdir(mode=0o700, exist_ok=True)
    (home / ".ssh" / "known_hosts").write_text(ssh_server.host_key_line + "\n")
    assert "pushed 1 object" in run_gitml(repo, "push", check=True, env=_CLEAN).stdout


def test_key_file_in_tracked_config_is_refused(repo: Path) -> None:
    run_gitml(repo, "remote", "add", "origin", "ssh://host/srv/data", check=True)
    _hostile_tracked(repo, "key_file", "~/.ssh/id_ed25519")
    proc = run_gitml(repo, "push", env=_CLEAN)
    assert proc.returncode == 3 and "config.local.toml" in proc.stderr, proc.stderr
