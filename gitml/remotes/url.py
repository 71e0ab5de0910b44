"""Remote URLs: parse, validate, display.

Accepted forms::

    /abs/path   ../rel/path   ~/path     a folder (relative paths are taken from ``base``)
    file:///abs/path                     the same, as a URL
    s3://bucket[/prefix]                 S3 or an S3-compatible store (endpoint_url in config)
    gs://bucket[/prefix]                 Google Cloud Storage (``gitml[gcs]``)
    az://container[/prefix]              Azure Blob Storage (``gitml[azure]``)
    ssh://[user@]host[:port]/abs/path    SFTP (``gitml[ssh]``); ``/~/path`` is home-relative
    https://host[:port][/prefix]         read-only: a web server or CDN serving a remote
    http://host[:port][/prefix]          (fetch and pull only; ``http.py``)

Refused: CR, LF, NUL, TAB and other control characters anywhere; a URL or host
beginning with ``-`` (option injection into ssh and friends); a password in the URL
(it would end up in the tracked config: put it in ``config.local.toml``); query
strings and fragments; ``.``/``..``/empty parts in a bucket prefix.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from gitml.errors import UsageError
from gitml.remotes.redact import has_credentials, redact

__all__ = ["READ_ONLY_SCHEMES", "SCHEMES", "RemoteURL", "check_endpoint_url", "parse_url", "redact"]

SCHEMES = ("file", "s3", "gs", "az", "ssh", "http", "https")
READ_ONLY_SCHEMES = ("http", "https")
_ALIASES = {"gcs": "gs", "abfs": "az", "azure": "az", "sftp": "ssh"}
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_BUCKET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$")
_HOST_RE = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9._-]{0,252}|\[[0-9A-Fa-f:.]+\])$")
_USER_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")
_SECRET_HINT = (
    "put credentials in .gitml/config.local.toml (git ignores it) or the environment "
    "(AWS_ACCESS_KEY_ID...), never in the URL: the URL goes in the tracked config"
)
_HINT = "examples: s3://bucket/prefix, gs://bucket/prefix, ssh://host/srv/data, /mnt/remote"


@dataclass(frozen=True, slots=True)
class RemoteURL:
    """A validated remote location.

    ``host`` is the bucket (s3, gs), container (az), ssh or http host, ``""`` for a folder.
    ``path`` is the prefix inside the bucket without leading or trailing ``/`` (may be
    ``""``), the absolute folder for ``file``, or the remote path for ``ssh``.
    """

    scheme: str
    host: str
    path: str
    user: str | None = None
    port: int | None = None

    @property
    def is_local(self) -> bool:
        return self.scheme == "file"

    @property
    def read_only(self) -> bool:
        return self.scheme in READ_ONLY_SCHEMES

    def fs_root(self) -> str:
        """The root path as the fsspec filesystem of this scheme spells it."""
        if self.scheme in ("s3", "gs", "az"):
            return f"{self.host}/{self.path}" if self.path else self.host
        if self.scheme in READ_ONLY_SCHEMES:
            port = f":{self.port}" if self.port else ""
            return f"{self.scheme}://{self.host}{port}/{self.path}".rstrip("/")
        return self.path

    def display(self) -> str:
        """The canonical spelling (never contains a secret)."""
        if self.scheme == "file":
            return self.path
        if self.scheme == "ssh":
            user = f"{self.user}@" if self.user else ""
            port = f":{self.port}" if self.port else ""
            path = self.path if self.path.startswith("/") else f"/~/{self.path}"
            return f"ssh://{user}{self.host}{port}{path}"
        if self.scheme in READ_ONLY_SCHEMES:
            return self.fs_root()
        return f"{self.scheme}://{self.fs_root()}"

    def __str__(self) -> str:
        return self.display()


def _refuse(url: str, why: str, hint: str | None = _HINT) -> UsageError:
    return UsageError(f"remote URL {redact(url)!r} {why}", hint)


def _check_text(url: object, what: str = "remote URL") -> str:
    if not isinstance(url, str) or not url:
        raise UsageError(f"{what} is empty", _HINT)
    bad = _CONTROL_RE.search(url)
    if bad:
        shown = redact(_CONTROL_RE.sub("?", url))
        raise UsageError(f"{what} {shown!r} contains a control character {bad.group()!r}")
    if has_credentials(url):
        raise UsageError(f"{what} {redact(url)!r} contains credentials", _SECRET_HINT)
    if url.startswith("-"):
        raise UsageError(f"{what} {redact(url)!r} begins with '-'", "use ./-name for a folder")
    if url != url.strip():
        raise UsageError(f"{what} {redact(url)!r} has leading or trailing blanks")
    return url


def _prefix(url: str, raw: str) -> str:
    raw = raw[1:] if raw.startswith("/") else raw
    raw = raw[:-1] if raw.endswith("/") else raw
    parts = raw.split("/") if raw else []
    for part in parts:
        if part in ("", ".", ".."):
            raise _refuse(url, "has an empty, '.' or '..' part in its path")
        if "\\" in part:
            raise _refuse(url, "contains a backslash")
    return "/".join(parts)


def _local(url: str, raw: str, base: Path | None) -> RemoteURL:
    path = os.path.expanduser(raw)
    if not os.path.isabs(path):
        path = os.path.join(str(base) if base is not None else os.getcwd(), path)
    return RemoteURL("file", "", os.path.normpath(path))


def parse_url(url: str, *, base: Path | None = None) -> RemoteURL:
    """Parse and validate a remote URL (or folder path); :class:`UsageError` if refused."""
    url = _check_text(url)
    if "://" not in url:
        return _local(url, url, base)
    scheme_raw = url.split("://", 1)[0].lower()
    scheme = _ALIASES.get(scheme_raw, scheme_raw)
    if scheme not in SCHEMES:
        raise _refuse(url, f"has an unsupported scheme {scheme_raw!r}")
    parts = urlsplit(url)
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise _refuse(url, "has a query string or fragment", None)
    if parts.password is not None or (scheme != "ssh" and "@" in parts.netloc):
        raise _refuse(
            url,
            "contains credentials",
            _SECRET_HINT,
        )
    host = parts.hostname or ""
    if parts.netloc.startswith("-") or host.startswith("-"):
        raise _refuse(url, "names a host beginning with '-'", None)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise _refuse(url, "names a host; use file:///absolute/path")
        if not parts.path.startswith("/"):
            raise _refuse(url, "is not an absolute path")
        return _local(url, parts.path, None)
    if scheme == "ssh":
        return _ssh(url, parts.netloc, parts.path)
    if scheme in READ_ONLY_SCHEMES:
        host, port = _host_port(url, parts.netloc)
        return RemoteURL(scheme, host, _prefix(url, parts.path), port=port)
    if not _BUCKET_RE.match(parts.netloc):
        raise _refuse(url, f"has an invalid bucket or container name {parts.netloc!r}")
    return RemoteURL(scheme, parts.netloc, _prefix(url, parts.path))


def _ssh(url: str, netloc: str, raw_path: str) -> RemoteURL:
    user: str | None = None
    hostport = netloc
    if "@" in netloc:
        user, hostport = netloc.rsplit("@", 1)
        if not _USER_RE.match(user):
            raise _refuse(url, "has an invalid user name")
    host, port = _host_port(url, hostport)
    if raw_path.startswith("/~/") or raw_path == "/~":
        path = _prefix(url, raw_path[2:])
    else:
        path = "/" + _prefix(url, raw_path)
    if path in ("", "/"):
        raise _refuse(url, "needs a folder path on the host")
    return RemoteURL("ssh", host, path, user=user, port=port)


def _host_port(url: str, hostport: str) -> tuple[str, int | None]:
    host, port = hostport, None
    if hostport.startswith("["):
        end = hostport.find("]")
        host, rest = hostport[: end + 1], hostport[end + 1 :]
        port_text = rest[1:] if rest.startswith(":") else (rest or None)
    else:
        host, _, port_text = hostport.partition(":")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise _refuse(url, "has an invalid port")
        port = int(port_text)
    if not host or not _HOST_RE.match(host) or host.startswith("-"):
        raise _refuse(url, "has an invalid host")
    return host, port


def check_endpoint_url(url: str) -> str:
    """Validate an ``endpoint_url`` (http or https, no credentials); return it normalised."""
    url = _check_text(url, "endpoint URL")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise UsageError(f"endpoint URL {redact(url)!r} must start with http:// or https://")
    if "@" in parts.netloc:
        raise UsageError(f"endpoint URL {redact(url)!r} contains credentials", _SECRET_HINT)
    if not parts.hostname or parts.netloc.startswith("-"):
        raise UsageError(f"endpoint URL {redact(url)!r} has no valid host")
    if parts.query or parts.fragment:
        raise UsageError(f"endpoint URL {redact(url)!r} has a query string or fragment")
    try:
        _ = parts.port
    except ValueError:
        raise UsageError(f"endpoint URL {redact(url)!r} has an invalid port") from None
    return url.rstrip("/")
