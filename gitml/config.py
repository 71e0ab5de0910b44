"""Repository configuration: ``.gitml/config.toml`` (tracked) merged with
``.gitml/config.local.toml`` (ignored, for secrets and local overrides).

Read with :mod:`tomllib` into a frozen :class:`Config`. Unknown keys are errors
that name the file and key, so a typo never silently changes behaviour.
Secrets are refused in the tracked file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.errors import ConfigError

GITML_DIR = ".gitml"
CONFIG_NAME = "config.toml"
LOCAL_CONFIG_NAME = "config.local.toml"
LINK_MODES = ("auto", "reflink", "hardlink", "symlink", "copy")
SECRET_KEYS = frozenset(
    {"access_key_id", "secret_access_key", "session_token", "password", "token", "key"}
    # per-backend credentials (gitml/remotes/auth.py); a key or credential *file* is
    # local-only too: a cloned repository must not choose which of your keys is used
    | {"connection_string", "account_key", "sas_token", "key_file", "credentials"}
)
_REMOTE_KEYS = (
    frozenset({"url", "endpoint_url", "region", "profile", "git_remote", "account_name"})
    | SECRET_KEYS
)
_SCHEMA: dict[str, frozenset[str]] = {
    "core": frozenset({"remote", "lock_timeout", "jobs"}),
    "cache": frozenset({"dir", "link"}),
    "gc": frozenset({"reflog_days"}),
}
DEFAULT_REFLOG_DAYS = 10.0  # gc keeps reflog entries this recent: git-lfs's 7 + 3 days


@dataclass(frozen=True, slots=True)
class RemoteConfig:
    name: str
    url: str
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    git_remote: str | None = None
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    account_name: str | None = None  # Azure storage account


@dataclass(frozen=True, slots=True)
class Config:
    root: Path
    cache_dir: Path
    link: str = "auto"
    default_remote: str | None = None
    lock_timeout: float = 60.0
    jobs: int = 8
    remotes: dict[str, RemoteConfig] = field(default_factory=dict)
    reflog_days: float = DEFAULT_REFLOG_DAYS

    @property
    def gitml_dir(self) -> Path:
        return self.root / GITML_DIR


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}", "fix the file by hand") from None


def _check(path: Path, data: dict[str, Any], *, tracked: bool) -> None:
    for section, body in data.items():
        if section == "remote":
            if not isinstance(body, dict):
                raise ConfigError(f"{path}: [remote] must be a table of remotes")
            for name, rbody in body.items():
                if not isinstance(rbody, dict):
                    raise ConfigError(f"{path}: [remote.{name}] must be a table")
                for key, value in rbody.items():
                    if key not in _REMOTE_KEYS:
                        raise ConfigError(f"{path}: unknown key remote.{name}.{key}")
                    if not isinstance(value, str):
                        raise ConfigError(f"{path}: remote.{name}.{key} must be a string")
                    if tracked and key in SECRET_KEYS:
                        raise ConfigError(
                            f"{path}: secret remote.{name}.{key} in the tracked config",
                            f"move it to {GITML_DIR}/{LOCAL_CONFIG_NAME}, which git ignores",
                        )
            continue
        allowed = _SCHEMA.get(section)
        if allowed is None or not isinstance(body, dict):
            raise ConfigError(f"{path}: unknown section [{section}]")
        for key in body:
            if key not in allowed:
                raise ConfigError(f"{path}: unknown key {section}.{key}")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(root: Path) -> Config:
    """Load and validate the merged config of the repository at ``root``."""
    tracked_path = root / GITML_DIR / CONFIG_NAME
    local_path = root / GITML_DIR / LOCAL_CONFIG_NAME
    tracked = _read_toml(tracked_path)
    local = _read_toml(local_path)
    _check(tracked_path, tracked, tracked=True)
    _check(local_path, local, tracked=False)
    data = _merge(tracked, local)
    core = data.get("core", {})
    cache = data.get("cache", {})
    link = cache.get("link", "auto")
    if link not in LINK_MODES:
        raise ConfigError(
            f"cache.link = {link!r} is not one of {', '.join(LINK_MODES)}",
            "gitml config cache.link copy",
        )
    cache_dir = Path(os.path.expanduser(str(cache.get("dir", f"{GITML_DIR}/cache"))))
    if not cache_dir.is_absolute():
        cache_dir = root / cache_dir
    remotes: dict[str, RemoteConfig] = {}
    for name, body in data.get("remote", {}).items():
        if "url" not in body:
            raise ConfigError(f"remote {name!r} has no url", f"gitml remote add {name} URL")
        secrets = {k: v for k, v in body.items() if k in SECRET_KEYS}
        remotes[name] = RemoteConfig(
            name=name,
            url=body["url"],
            endpoint_url=body.get("endpoint_url"),
            region=body.get("region"),
            profile=body.get("profile"),
            git_remote=body.get("git_remote"),
            secrets=secrets,
            account_name=body.get("account_name"),
        )
    default_remote = core.get("remote")
    if default_remote is not None and default_remote not in remotes:
        raise ConfigError(
            f"core.remote names {default_remote!r}, which is not a configured remote",
            "gitml remote list",
        )
    try:
        lock_timeout = float(core.get("lock_timeout", 60.0))
        jobs = int(core.get("jobs", 8))
    except (TypeError, ValueError):
        raise ConfigError("core.lock_timeout and core.jobs must be numbers") from None
    reflog_days = data.get("gc", {}).get("reflog_days", DEFAULT_REFLOG_DAYS)
    if isinstance(reflog_days, bool) or not isinstance(reflog_days, int | float) or reflog_days < 0:
        raise ConfigError(
            f"gc.reflog_days = {str(reflog_days)[:40]!r} is not a number of days >= 0",
            "set gc.reflog_days = 10 in .gitml/config.local.toml",
        )
    return Config(
        root=root,
        cache_dir=cache_dir,
        link=link,
        default_remote=default_remote,
        lock_timeout=lock_timeout,
        jobs=max(1, jobs),
        remotes=remotes,
        reflog_days=float(reflog_days),
    )


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    for ch in "\n\r\t\x00":
        escaped = escaped.replace(ch, f"\\u{ord(ch):04x}")
    return f'"{escaped}"'


def dump_toml(data: dict[str, Any]) -> str:
    """Serialise the small, two-level structure gitml configs use."""
    lines: list[str] = []
    for section in sorted(data):
        body = data[section]
        if section == "remote":
            for name in sorted(body):
                lines.append(f'[remote."{name}"]')
                lines += [f"{k} = {_toml_value(v)}" for k, v in sorted(body[name].items())]
                lines.append("")
            continue
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in sorted(body.items())]
        lines.append("")
    return "\n".join(lines)


def read_raw(root: Path, *, local: bool = False) -> dict[str, Any]:
    """The raw table of one config file (for commands that edit it)."""
    return _read_toml(root / GITML_DIR / (LOCAL_CONFIG_NAME if local else CONFIG_NAME))


def write_raw(root: Path, data: dict[str, Any], *, local: bool = False) -> None:
    """Validate and atomically replace one config file."""
    from gitml.store.durable import write_file_atomic

    path = root / GITML_DIR / (LOCAL_CONFIG_NAME if local else CONFIG_NAME)
    _check(path, data, tracked=not local)
    write_file_atomic(path, dump_toml(data).encode("utf-8"))
