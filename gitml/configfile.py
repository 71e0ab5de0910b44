"""Edit one config file with tomlkit, keeping its comments and layout.

Every write of ``.gitml/config.toml`` or ``.gitml/config.local.toml`` goes through
:class:`ConfigFile`: parse with tomlkit, change one key, validate the result with
the same rules as :func:`gitml.config.load_config` (plus the trust rules for the
tracked file: no secrets, no cache outside the repository, no hardlink/symlink
mode), then replace the file atomically. Nothing here prints.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import Table

from gitml.config import (
    DEFAULT_CACHE,
    DEFAULT_REMOTE_TIMEOUT,
    KEYS,
    TRACKED_LINK_MODES,
    KeySpec,
    check_remote_name,
    config_path,
    did_you_mean,
    file_problems,
    inside_repo,
    shell_arg,
    shown,
)
from gitml.errors import ConfigError, UsageError


@dataclass(frozen=True, slots=True)
class Key:
    """A parsed key: ``section.name`` or ``remote.<remote>.<name>``."""

    section: str
    name: str
    remote: str | None = None

    @property
    def pattern(self) -> str:
        return f"remote.*.{self.name}" if self.remote is not None else f"{self.section}.{self.name}"

    def __str__(self) -> str:
        if self.remote is not None:
            return f"remote.{self.remote}.{self.name}"
        return f"{self.section}.{self.name}"


def parse_key(text: str) -> tuple[Key, KeySpec]:
    """``core.jobs``, ``remote.origin.url``...; :class:`UsageError` with a did-you-mean."""
    known = [k.replace("*", "NAME") for k in KEYS]
    if text.startswith("remote.") and text.count(".") >= 2:
        name, _, field = text[len("remote.") :].rpartition(".")
        check_remote_name(name)
        key = Key("remote", field, name)
    else:
        section, _, field = text.partition(".")
        key = Key(section, field)
    spec = KEYS.get(key.pattern)
    if spec is None or not key.name:
        raise UsageError(
            f"unknown config key {shown(text, 80)}{did_you_mean(text, known)}",
            f"known keys: {', '.join(known)}",
        )
    return key, spec


def coerce(key: Key, spec: KeySpec, text: str) -> str | int | float:
    """The typed value of ``text`` for ``key``."""
    if spec.kind == "choice" and text not in spec.choices:
        raise UsageError(
            f"{key} must be one of {', '.join(spec.choices)}, not {shown(text, 80)}"
            f"{did_you_mean(text, list(spec.choices))}"
        )
    if spec.kind in ("number", "integer"):
        try:
            value: int | float = (
                int(text) if spec.kind == "integer" or text.isdigit() else float(text)
            )
        except ValueError:
            kind = "an integer" if spec.kind == "integer" else "a number"
            raise UsageError(f"{key} must be {kind}, not {shown(text, 80)}") from None
        off = value == 0 and spec.zero_ok  # 0 means "off" for such keys
        if (value <= 0 and not off) or value != value or value == float("inf"):
            raise UsageError(f"{key} must be positive and finite")
        return value
    if not text:
        raise UsageError(f"{key} must not be empty")
    return text


class ConfigFile:
    """One config file as a tomlkit document."""

    def __init__(self, root: Path, *, local: bool) -> None:
        self.root = root
        self.local = local
        self.path = config_path(root, local=local)
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        except UnicodeDecodeError:
            raise ConfigError(f"{self.path}: not valid UTF-8", "fix the file by hand") from None
        try:
            self.doc = tomlkit.parse(text)
        except Exception as exc:  # tomlkit's ParseError and friends
            raise ConfigError(f"{self.path}: invalid TOML: {exc}", "fix the file by hand") from None
        self._before = self._problems(text)

    def _problems(self, text: str) -> set[str]:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            return {f"{self.path}: invalid TOML: {exc}"}
        return {e.message for e in file_problems(self.path, data, tracked=not self.local)}

    # ---------------------------------------------------------------- reading
    def data(self) -> dict[str, Any]:
        value: dict[str, Any] = self.doc.unwrap()
        return value

    def get(self, key: Key) -> Any:
        table = self._table(key, create=False)
        return None if table is None else table.unwrap().get(key.name)

    def remotes(self) -> list[str]:
        remote = self.doc.get("remote")
        return list(remote.keys()) if isinstance(remote, dict) else []

    # ---------------------------------------------------------------- editing
    def _table(self, key: Key, *, create: bool) -> Table | None:
        section = self.doc.get(key.section)
        if section is None:
            if not create:
                return None
            section = tomlkit.table(is_super_table=key.remote is not None)
            self.doc[key.section] = section
        if not isinstance(section, Table):
            raise ConfigError(f"{self.path}: [{key.section}] is not a table", "fix it by hand")
        if key.remote is None:
            return section
        body = section.get(key.remote)
        if body is None:
            if not create:
                return None
            body = tomlkit.table()
            section[key.remote] = body
        if not isinstance(body, Table):
            raise ConfigError(f"{self.path}: [remote.{key.remote}] is not a table")
        return body

    def set(self, key: Key, value: str | int | float) -> None:
        self._trust(key, value)
        table = self._table(key, create=True)
        assert table is not None
        table[key.name] = value

    def unset(self, key: Key) -> bool:
        """Remove ``key``; False if it was not set. An emptied section goes too."""
        table = self._table(key, create=False)
        if table is None or key.name not in table:
            return False
        del table[key.name]
        if not table:
            self._drop_empty(key)
        return True

    def remove_remote(self, name: str) -> bool:
        remote = self.doc.get("remote")
        if not isinstance(remote, dict) or name not in remote:
            return False
        del remote[name]
        if not remote:
            del self.doc["remote"]
        return True

    def rename_remote(self, old: str, new: str) -> bool:
        """Move the section of remote ``old`` to ``new`` (its keys and comments as
        they are); False if this file has no such section."""
        check_remote_name(new)
        remote = self.doc.get("remote")
        if not isinstance(remote, dict) or old not in remote:
            return False
        if new in remote:
            raise UsageError(f"{self.path}: a remote named {new!r} exists already")
        body = remote[old]
        del remote[old]
        remote[new] = body
        return True

    def _drop_empty(self, key: Key) -> None:
        if key.remote is not None:
            self.remove_remote(key.remote)
        elif key.section in self.doc and not self.doc[key.section]:
            del self.doc[key.section]

    def _trust(self, key: Key, value: str | int | float) -> None:
        """The tracked file may only say what load_config would honour from it."""
        if self.local:
            return
        spec = KEYS[key.pattern]
        hint = f"gitml config set --local {key} {shell_arg(value)}"
        if spec.local_only:
            raise UsageError(f"{key} is a secret: it never goes in the tracked config", hint)
        if str(key) == "cache.link" and value not in TRACKED_LINK_MODES:
            raise UsageError(
                f"cache.link = {value} comes only from the local config (it shares files "
                "with the cache)",
                hint,
            )
        if str(key) == "cache.dir":
            text = str(value)
            if text.startswith("~") or not inside_repo(str(self.root / text), self.root):
                raise UsageError(
                    f"cache.dir {shown(text)} is outside the repository: a tracked config "
                    f"may only put the cache inside it (default {DEFAULT_CACHE})",
                    hint,
                )

    # ---------------------------------------------------------------- writing
    def text(self) -> str:
        return tomlkit.dumps(self.doc)

    def save(self) -> None:
        """Validate the edited document and replace the file atomically."""
        from gitml.store.durable import write_file_atomic

        text = self.text()
        new = sorted(self._problems(text) - self._before)  # what every later load reads
        if new:
            raise ConfigError(new[0], "nothing was written")
        self.path.parent.mkdir(exist_ok=True)
        write_file_atomic(self.path, text.encode("utf-8"))


# ---------------------------------------------------------------- get / list

DEFAULTS: dict[str, object] = {
    "core.lock_timeout": 60.0,
    "core.jobs": 8,
    "cache.dir": DEFAULT_CACHE,
    "cache.link": "auto",
    "remote.*.timeout": DEFAULT_REMOTE_TIMEOUT,
    "remote.*.chunks": "on",
}


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    """One key of ``gitml config list`` (and the answer of ``get``).

    ``source``: ``tracked``, ``local`` or ``default``. ``state``: ``in use``,
    ``overridden`` (the local file sets it too), ``refused`` (a tracked setting
    gitml does not trust, see :mod:`gitml.config`) or ``ignored`` (invalid: an
    unusable remote, an unknown key in the local file)."""

    key: str
    value: Any
    source: str
    state: str = "in use"
    note: str = ""


@dataclass(frozen=True, slots=True)
class ConfigListing:
    """What ``gitml config list`` shows; ``error``: why the config does not load."""

    entries: list[ConfigEntry]
    error: str | None = None


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for section, body in data.items():
        if section == "remote" and isinstance(body, dict):
            for name, rbody in body.items():
                if isinstance(rbody, dict):
                    for key, value in rbody.items():
                        out[f"remote.{name}.{key}"] = value
                else:
                    out[f"remote.{name}"] = rbody
        elif isinstance(body, dict):
            for key, value in body.items():
                out[f"{section}.{key}"] = value
        else:
            out[section] = body
    return out


def _pattern(key: str) -> str:
    if key.startswith("remote.") and key.count(".") >= 2:
        return f"remote.*.{key.rpartition('.')[2]}"
    return key


def _remote_of(key: str) -> str | None:
    if key.startswith("remote.") and key.count(".") >= 2:
        return key[len("remote.") :].rpartition(".")[0]
    return None


def list_entries(root: Path, *, local_only: bool = False) -> tuple[list[ConfigEntry], str | None]:
    """Every key set in the two files with where it comes from and whether gitml
    uses it; plus the error that makes the config unusable, if any. Secrets are
    shown as ``***``."""
    from gitml.config import SECRET_KEYS, load_config

    tracked = _flatten(ConfigFile(root, local=False).data())
    local = _flatten(ConfigFile(root, local=True).data())
    refused: dict[str, str] = {}
    broken: dict[str, str] = {}
    error: str | None = None
    try:
        config = load_config(root)
        refused = {r.key: r.reason for r in config.refused}
        broken = {name: err.message for name, err in config.broken_remotes.items()}
    except ConfigError as exc:
        error = exc.message
    entries: list[ConfigEntry] = []
    files = [("local", local)] if local_only else [("tracked", tracked), ("local", local)]
    for source, values in files:
        for key, value in values.items():
            shown_value = "***" if key.rpartition(".")[2] in SECRET_KEYS else value
            state, note = "in use", ""
            remote = _remote_of(key)
            if _pattern(key) not in KEYS:
                state, note = "ignored", "unknown key"
            elif remote is not None and remote in broken:
                state, note = "ignored", broken[remote]
            elif source == "tracked" and key in local:
                state, note = "overridden", "the local config sets it"
            elif source == "tracked" and key in refused:
                state, note = "refused", refused[key]
            entries.append(ConfigEntry(key, shown_value, source, state, note))
    return entries, error


def effective(root: Path, key: Key, *, local_only: bool = False) -> ConfigEntry | None:
    """The value of ``key`` as gitml uses it (local over tracked, refused tracked
    values skipped, else the default), or the raw value in the local file."""
    if local_only:
        value = ConfigFile(root, local=True).get(key)
        return None if value is None else ConfigEntry(str(key), value, "local")
    entries, _error = list_entries(root)
    for entry in reversed(entries):  # local entries come last
        if entry.key == str(key) and entry.state == "in use":
            value = ConfigFile(root, local=entry.source == "local").get(key)  # unmasked
            return ConfigEntry(entry.key, value, entry.source)
    default = DEFAULTS.get(key.pattern)
    return None if default is None else ConfigEntry(str(key), default, "default")
