"""Credentials for each backend, found where that ecosystem's own tools look.

Nothing secret is read from the tracked config (``gitml.config`` refuses it there):
explicit values come from ``.gitml/config.local.toml`` (``RemoteConfig.secrets``),
else from the usual environment variables and files. When nothing is found, the
error names what to set, before any request is sent.

* S3: ``connect._s3`` (botocore's chain: ``AWS_*`` variables, ``~/.aws`` profiles).
* GCS (:func:`gcs_token`): ``credentials`` (a key file) or ``token`` in the local
  config, ``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's application-default login,
  a Compute Engine metadata server, or an emulator (``endpoint_url`` /
  ``STORAGE_EMULATOR_HOST``: anonymous).
* Azure (:func:`azure_options`): a connection string (``connection_string`` or
  ``AZURE_STORAGE_CONNECTION_STRING``), else account name (``account_name`` or
  ``AZURE_STORAGE_ACCOUNT``) with an account key or SAS token (local config or
  ``AZURE_STORAGE_KEY`` / ``AZURE_STORAGE_SAS_TOKEN``), else ``DefaultAzureCredential``
  (``az login``, managed identity, ``AZURE_CLIENT_*``).
* SSH (:func:`ssh_options`): ``key_file`` or ``password`` in the local config, else
  what OpenSSH would use: ``~/.ssh/config`` (Host aliases, ``IdentityFile``, ``User``,
  ``Port``), ssh-agent (``SSH_AUTH_SOCK``) and the default ``~/.ssh/id_*`` keys. Host
  keys are always checked against ``~/.ssh/known_hosts``.
* HTTP(S) (:func:`http_headers`): optional ``token`` (sent as a bearer token).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gitml.config import LOCAL_CONFIG_NAME, RemoteConfig
from gitml.errors import MissingCredentialError
from gitml.remotes.redact import register_secret
from gitml.remotes.url import RemoteURL

# local-only keys that name a file: never registered as secrets (messages name them)
PATH_KEYS = frozenset({"key_file", "credentials"})
_LOCAL = f".gitml/{LOCAL_CONFIG_NAME}"
_SSH_DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa", "id_ed25519_sk", "id_ecdsa_sk", "id_dsa")


def _secrets(cfg: RemoteConfig | None) -> dict[str, str]:
    return dict(cfg.secrets) if cfg is not None else {}


def _file(path: str, what: str, url: RemoteURL) -> str:
    full = os.path.expanduser(path)
    if not os.path.isfile(full):
        raise MissingCredentialError(
            f"{what} {full} for {url.display()} does not exist", f"point {what} at a file"
        )
    return full


# ---------------------------------------------------------------- Google Cloud


def _gcloud_adc() -> Path:
    config = os.environ.get("CLOUDSDK_CONFIG") or os.path.join(
        os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"), "gcloud"
    )
    return Path(config) / "application_default_credentials.json"


def _on_gce() -> bool:
    """Compute Engine, judged as google-auth does before it asks the metadata server
    (never contacted here)."""
    if os.environ.get("GCE_METADATA_HOST") or os.environ.get("GCE_METADATA_IP"):
        return True
    try:
        with open("/sys/class/dmi/id/product_name", encoding="utf-8") as fh:
            return "Google" in fh.read()
    except OSError:
        return False


def gcs_token(url: RemoteURL, cfg: RemoteConfig | None) -> str:
    """The ``token`` argument of gcsfs: a key file path, ``"google_default"``,
    ``"cloud"``, ``"anon"``, or an explicit token from the local config."""
    secrets = _secrets(cfg)
    if secrets.get("credentials"):
        return _file(secrets["credentials"], f"remote.{cfg and cfg.name}.credentials", url)
    if secrets.get("token"):
        return secrets["token"]
    env_file = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if env_file:
        return _file(env_file, "GOOGLE_APPLICATION_CREDENTIALS", url)
    if _gcloud_adc().is_file():
        return "google_default"
    if (cfg is not None and cfg.endpoint_url) or os.environ.get("STORAGE_EMULATOR_HOST"):
        return "anon"  # an emulator or a GCS-compatible test server
    if _on_gce():
        return "cloud"
    raise MissingCredentialError(
        f"no Google Cloud credentials for {url.display()}",
        "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run "
        '`gcloud auth application-default login`, or set credentials = "/path/key.json" '
        f'(token = "anon" for a public bucket) under [remote.NAME] in {_LOCAL}',
    )


# ---------------------------------------------------------------- Azure


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def azure_options(url: RemoteURL, cfg: RemoteConfig | None) -> dict[str, Any]:
    """Keyword arguments of ``adlfs.AzureBlobFileSystem``. ``endpoint_url`` (Azurite,
    Azure Stack, a private endpoint) is the blob endpoint and needs a key or SAS."""
    secrets = _secrets(cfg)
    conn = secrets.get("connection_string") or _env("AZURE_STORAGE_CONNECTION_STRING")
    if conn:
        for part in conn.split(";"):  # the key alone must not show either
            name, _, value = part.partition("=")
            if name.strip().lower() in ("accountkey", "sharedaccesssignature"):
                register_secret(value)
        return {"connection_string": conn}
    account = (cfg.account_name if cfg else None) or _env(
        "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_ACCOUNT_NAME"
    )
    if not account:
        raise MissingCredentialError(
            f"no Azure storage account for {url.display()}",
            "set AZURE_STORAGE_CONNECTION_STRING (or connection_string in "
            f"{_LOCAL}), or the account: account_name under [remote.NAME] or "
            "AZURE_STORAGE_ACCOUNT",
        )
    key = (
        secrets.get("account_key")
        or secrets.get("key")
        or _env("AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCOUNT_KEY")
    )
    sas = secrets.get("sas_token") or secrets.get("token") or _env("AZURE_STORAGE_SAS_TOKEN")
    endpoint = cfg.endpoint_url if cfg else None
    if endpoint:
        if not (key or sas):
            raise MissingCredentialError(
                f"{url.display()} at {endpoint} needs an account key or SAS token",
                f"set AZURE_STORAGE_KEY, or account_key in {_LOCAL}",
            )
        from gitml.remotes.url import check_endpoint_url

        blob = check_endpoint_url(endpoint)
        proto = blob.split(":", 1)[0]
        cred = f"AccountKey={key}" if key else f"SharedAccessSignature={sas}"
        return {
            "connection_string": f"DefaultEndpointsProtocol={proto};AccountName={account};"
            f"{cred};BlobEndpoint={blob};"
        }
    opts: dict[str, Any] = {"account_name": account}
    if key:
        opts["account_key"] = key
    elif sas:
        opts["sas_token"] = sas
    else:
        opts["anon"] = False  # adlfs then uses DefaultAzureCredential (az login, ...)
    return opts


# ---------------------------------------------------------------- SSH


def _ssh_config_names_key() -> bool:
    try:
        text = Path(os.path.expanduser("~/.ssh/config")).read_text(errors="replace")
    except OSError:
        return False
    return any(line.strip().lower().startswith("identityfile") for line in text.splitlines())


def ssh_options(url: RemoteURL, cfg: RemoteConfig | None) -> dict[str, Any]:
    """Keyword arguments of ``asyncssh.connect`` (through sshfs)."""
    secrets = _secrets(cfg)
    # () = asyncssh's defaults: ~/.ssh/known_hosts and ~/.ssh/config (sshfs would
    # otherwise turn host key checking off)
    opts: dict[str, Any] = {"known_hosts": (), "config": ()}
    if url.user:
        opts["username"] = url.user
    if url.port:
        opts["port"] = url.port
    if secrets.get("key_file"):
        name = f"remote.{cfg.name if cfg else 'NAME'}.key_file"
        opts["client_keys"] = [_file(secrets["key_file"], name, url)]
    if secrets.get("password"):
        opts["password"] = secrets["password"]
    if "client_keys" in opts or "password" in opts:
        return opts
    ssh_dir = Path(os.path.expanduser("~/.ssh"))
    has_key = (
        bool(os.environ.get("SSH_AUTH_SOCK"))
        or any((ssh_dir / name).is_file() for name in _SSH_DEFAULT_KEYS)
        or _ssh_config_names_key()
    )
    if not has_key:
        raise MissingCredentialError(
            f"no SSH key for {url.display()}",
            "start ssh-agent (SSH_AUTH_SOCK), create ~/.ssh/id_ed25519 (ssh-keygen -t "
            f"ed25519), add IdentityFile to ~/.ssh/config, or set key_file in {_LOCAL}",
        )
    return opts


# ---------------------------------------------------------------- HTTP


def http_headers(cfg: RemoteConfig | None) -> dict[str, str]:
    token = _secrets(cfg).get("token")
    return {"Authorization": f"Bearer {token}"} if token else {}


# ---------------------------------------------------------------- SDK errors

_MISSING = (
    (
        frozenset({"NoCredentialsError", "PartialCredentialsError", "ProfileNotFound"}),
        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (or profile = "
        '"NAME" under [remote.NAME]) for a profile in ~/.aws/credentials, or '
        f"access_key_id and secret_access_key in {_LOCAL}",
    ),
    (
        frozenset({"ClientAuthenticationError", "CredentialUnavailableError"}),
        "set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_KEY (or connection_string "
        f"/ account_key in {_LOCAL}), or run `az login`",
    ),
    (
        frozenset({"DefaultCredentialsError", "RefreshError"}),
        "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file or run "
        "`gcloud auth application-default login`",
    ),
)


def missing_credential_hint(exc: BaseException) -> str | None:
    """What to set when ``exc`` (anywhere in its chain) is an SDK saying it found no
    usable credential; None for any other error."""
    from gitml.remotes.retry import error_chain

    names = {cls.__name__ for err in error_chain(exc) for cls in type(err).__mro__}
    for kinds, hint in _MISSING:
        if names & kinds:
            return hint
    return None
