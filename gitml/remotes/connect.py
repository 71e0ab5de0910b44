"""Build the backend of a remote: fsspec filesystem, credentials, timeouts.

Credentials are never read here from the tracked config (``gitml.config`` refuses
them there): they come from ``RemoteConfig.secrets`` (``config.local.toml``), else
from each SDK's usual chain (environment variables, ``~/.aws`` profiles, instance
metadata, gcloud/az logins, ssh agent); ``auth.py`` finds them per backend. Every
secret value seen is registered with :func:`gitml.remotes.redact.register_secret`
so no message can show it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from gitml.config import DEFAULT_REMOTE_TIMEOUT, RemoteConfig
from gitml.errors import RemoteError
from gitml.remotes import auth
from gitml.remotes.backends import Backend, FsspecBackend
from gitml.remotes.http import HttpBackend
from gitml.remotes.local import LocalBackend
from gitml.remotes.redact import install_log_redaction, register_env_secrets, register_secret
from gitml.remotes.retry import RetryPolicy
from gitml.remotes.sftp import SftpBackend
from gitml.remotes.url import RemoteURL, check_endpoint_url

_EXTRAS = {
    "s3": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"),
    "az": ("adlfs", "azure"),
    "ssh": ("sshfs", "ssh"),
    "http": ("aiohttp", "http"),
}


@dataclass(frozen=True, slots=True)
class RemoteOptions:
    """Knobs of the transport. Defaults suit real clouds; tests shrink the timeouts."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0  # per socket read
    timeout: float = DEFAULT_REMOTE_TIMEOUT  # per request, in all (remote.<name>.timeout)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_connections: int = 64
    small_object: int = 8 * 1024 * 1024  # read whole into memory up to this size
    chunk_size: int = 8 * 1024 * 1024  # streaming chunk (and S3 multipart part) size
    flush_every: int = 2000  # folder remotes: objects per durability batch
    sharded_listing_min: int = 4000  # estimated objects above which shards are listed in parallel
    pack: bool = True  # send many small objects as packs (packs.py)
    pack_min_objects: int = 64  # ... when at least this many small objects are to be sent
    pack_object_max: int = 1024 * 1024  # objects up to this size go into packs
    pack_max_bytes: int = 32 * 1024 * 1024  # one pack holds at most this many bytes
    pack_max_objects: int = 10_000  # ... and this many objects
    range_gap: int = 256 * 1024  # packed objects closer than this share one ranged read
    range_max: int = 4 * 1024 * 1024  # one ranged read covers at most this many bytes
    chunks: bool = True  # push chunked files as chunks + list + entry (False: whole objects)


def _import(scheme: str) -> Any:
    module, extra = _EXTRAS[scheme]
    try:
        return __import__(module)
    except ImportError:
        raise RemoteError(
            f"{scheme}:// remotes need the {module} package", f"pip install 'gitml[{extra}]'"
        ) from None


_sessions: dict[tuple[str | None, int], Any] = {}
_sessions_lock = threading.Lock()
_CRED_ENV = ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def _aio_session(profile: str | None) -> Any:
    """One aiobotocore session per (profile, credential environment): creating a
    session loads botocore's service models (~0.3 s), which a second remote reuses."""
    from aiobotocore.session import AioSession  # type: ignore[import-untyped]

    key = (profile, hash(tuple(os.environ.get(name) for name in _CRED_ENV)))
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            session = _sessions[key] = AioSession(profile=profile)
        return session


def _s3(url: RemoteURL, cfg: RemoteConfig | None, opts: RemoteOptions) -> Any:
    s3fs = _import("s3")
    client_kwargs: dict[str, Any] = {}
    kwargs: dict[str, Any] = {}
    profile = None
    if cfg is not None:
        if cfg.endpoint_url:
            client_kwargs["endpoint_url"] = check_endpoint_url(cfg.endpoint_url)
        if cfg.region:
            client_kwargs["region_name"] = cfg.region
        profile = cfg.profile
        secrets = cfg.secrets
        key = secrets.get("access_key_id")
        secret = secrets.get("secret_access_key")
        token = secrets.get("session_token") or secrets.get("token")
        if key or secret:
            if not (key and secret):
                raise RemoteError(
                    f"remote {cfg.name!r}: access_key_id and secret_access_key go together",
                    "set both in .gitml/config.local.toml, or neither",
                )
            kwargs.update(key=key, secret=secret)
        if token:
            kwargs["token"] = token
    fs = s3fs.S3FileSystem(
        skip_instance_cache=True,
        use_listings_cache=False,
        session=_aio_session(profile),
        max_concurrency=1,  # one GET per small object (no HEAD first)
        default_block_size=opts.chunk_size,
        client_kwargs=client_kwargs,
        config_kwargs={
            "connect_timeout": min(opts.connect_timeout, opts.timeout),
            "read_timeout": min(opts.read_timeout, opts.timeout),
            "retries": {"total_max_attempts": 1},  # gitml retries (retry.py)
            "max_pool_connections": opts.max_connections,
        },
        **kwargs,
    )
    fs.retries = 1
    return fs


def _gs(url: RemoteURL, cfg: RemoteConfig | None, opts: RemoteOptions) -> Any:
    _import("gs")
    from gcsfs.core import GCSFileSystem  # the JSON API one, not gcsfs's gRPC variant

    class _OneTryGCS(GCSFileSystem):  # type: ignore[misc]
        # gcsfs retries 5xx itself 6 times (1+2+4+8+16 s); gitml's retrier decides
        _request = GCSFileSystem._request.__wrapped__
        _get_file_request = GCSFileSystem._get_file_request.__wrapped__

    extra: dict[str, Any] = {}
    if cfg is not None and cfg.endpoint_url:
        extra["endpoint_url"] = check_endpoint_url(cfg.endpoint_url)
    return _OneTryGCS(
        token=auth.gcs_token(url, cfg),
        skip_instance_cache=True,
        requests_timeout=min(opts.read_timeout, opts.timeout),
        block_size=opts.chunk_size,
        **extra,
    )


def _az(url: RemoteURL, cfg: RemoteConfig | None, opts: RemoteOptions) -> Any:
    adlfs = _import("az")
    fs = adlfs.AzureBlobFileSystem(
        skip_instance_cache=True,
        connection_timeout=opts.connect_timeout,
        read_timeout=opts.read_timeout,
        **auth.azure_options(url, cfg),
    )
    # azure-storage retries 5xx itself (backoff from 15 s); gitml's retrier decides.
    # The policy object is shared by every client made from this service client.
    policy = getattr(getattr(fs.service_client, "_config", None), "retry_policy", None)
    for name in ("total_retries", "connect_retries", "read_retries", "status_retries"):
        if hasattr(policy, name):
            setattr(policy, name, 0)
    # adlfs passes its timeouts to a few calls only (not to the metadata reads):
    # set them on the transport every client of this service client shares
    transport = getattr(getattr(fs.service_client, "_pipeline", None), "_transport", None)
    config = getattr(transport, "connection_config", None)
    if config is not None:
        config.timeout = opts.connect_timeout
        config.read_timeout = opts.read_timeout
    return fs


def _ssh(url: RemoteURL, cfg: RemoteConfig | None, opts: RemoteOptions) -> Backend:
    sshfs = _import("ssh")
    kwargs = auth.ssh_options(url, cfg)
    kwargs.update(
        connect_timeout=opts.connect_timeout,
        keepalive_interval=max(1.0, opts.read_timeout / 3),  # a dead peer is found
        keepalive_count_max=3,
    )

    def connect() -> Any:
        return sshfs.SSHFileSystem(url.host, skip_instance_cache=True, **kwargs)

    return SftpBackend(
        connect, url.fs_root(), url.display(), timeout=opts.read_timeout, block_size=opts.chunk_size
    )


def _http(url: RemoteURL, cfg: RemoteConfig | None, opts: RemoteOptions) -> Backend:
    aiohttp = _import("http")
    from fsspec.implementations.http import HTTPFileSystem

    fs = HTTPFileSystem(
        skip_instance_cache=True,
        simple_links=False,  # only <a href> links of index pages, not any URL in text
        client_kwargs={
            "timeout": aiohttp.ClientTimeout(
                total=None, sock_connect=opts.connect_timeout, sock_read=opts.read_timeout
            ),
            "headers": auth.http_headers(cfg),
        },
    )
    return HttpBackend(fs, url.fs_root(), url.display())


def make_backend(url: RemoteURL, cfg: RemoteConfig | None, opts: RemoteOptions) -> Backend:
    """The backend for ``url``; nothing is contacted yet."""
    install_log_redaction()
    register_env_secrets()
    if cfg is not None:
        for name, value in cfg.secrets.items():
            if name not in auth.PATH_KEYS:  # a key file's path is no secret
                register_secret(value)
    if url.scheme == "file":
        return LocalBackend(url.path)
    try:
        if url.scheme == "ssh":
            return _ssh(url, cfg, opts)
        if url.read_only:
            return _http(url, cfg, opts)
        if url.scheme == "s3":
            fs = _s3(url, cfg, opts)
        elif url.scheme == "gs":
            fs = _gs(url, cfg, opts)
        else:
            fs = _az(url, cfg, opts)
    except RemoteError:
        raise
    except Exception as exc:  # a bad profile name, malformed options...
        from gitml.remotes.redact import redact

        raise RemoteError(
            f"cannot set up remote {url.display()}: {type(exc).__name__}: {redact(str(exc))}"
        ) from None
    return FsspecBackend(
        fs,
        url.fs_root(),
        url.display(),
        atomic_put=True,
        block_size=opts.chunk_size,
    )
