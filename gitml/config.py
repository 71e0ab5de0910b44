"""Repository configuration: ``.gitml/config.toml`` (tracked) merged with
``.gitml/config.local.toml`` (ignored, for secrets and local overrides).

Read with :mod:`tomllib` into a frozen :class:`Config`; written only through
:mod:`gitml.configfile` (tomlkit, comments kept). The key schema is :data:`KEYS`.

Trust: the tracked file comes from whoever made the commit you cloned. Settings
that decide where gitml writes or how it links are honoured from it only when
they are safe: ``cache.dir`` must resolve (symlinks followed) inside the
repository, ``cache.link`` must be ``auto``, ``reflink`` or ``copy``. Anything
else is refused with one warning and the safe default is used; a cache outside
the repository or a hardlink/symlink mode comes only from the local file
(``gitml config set --local ...``). Secrets are refused in the tracked file.

Remotes are loaded leniently: a remote section that cannot be used (no url, an
unknown key, a stale ``[remote."s3"]`` left in the local file after a teammate
renamed the remote) is reported as a warning and kept out of
:attr:`Config.remotes`; only a command that needs that remote fails
(:meth:`Config.remote`). So one stale section never blocks ``status`` or a
``git commit``, and the hinted fix can run.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.errors import ConfigError, UsageError

GITML_DIR = ".gitml"
CONFIG_NAME = "config.toml"
LOCAL_CONFIG_NAME = "config.local.toml"
DEFAULT_CACHE = f"{GITML_DIR}/cache"
LINK_MODES = ("auto", "reflink", "hardlink", "symlink", "copy")
# Link modes a tracked config may choose: they never make a workspace file share an
# inode (or a symlink) with the cache.
TRACKED_LINK_MODES = ("auto", "reflink", "copy")
DEFAULT_REMOTE_TIMEOUT = 300.0
SECRET_KEYS = frozenset(
    {"access_key_id", "secret_access_key", "session_token", "password", "token", "key"}
    # per-backend credentials (gitml/remotes/auth.py); a key or credential *file* is
    # local-only too: a cloned repository must not choose which of your keys is used
    | {"connection_string", "account_key", "sas_token", "key_file", "credentials"}
)
_REMOTE_TEXT_KEYS = frozenset(
    {"url", "endpoint_url", "region", "profile", "git_remote", "account_name"}
)
_REMOTE_KEYS = _REMOTE_TEXT_KEYS | SECRET_KEYS | {"timeout", "chunks"}
REMOTE_CHUNKS = ("on", "off")  # remote.<name>.chunks: push chunked files as chunks, or whole
_MAX_JOBS = 256  # a cloned repository's core.jobs cannot ask for 100,000 threads
REMOTE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SCHEMA: dict[str, frozenset[str]] = {
    "core": frozenset({"remote", "lock_timeout", "jobs"}),
    "cache": frozenset({"dir", "link", "chunk_min_file"}),
    "gc": frozenset({"reflog_days"}),
}
# Off by default: measured (docs/PERFORMANCE.md), a first add of a chunked file runs at
# 0.2-0.4x the unchunked speed, because each chunk is a loose file; until chunks go
# into a local pack, dedup is opt-in (16 MiB, 16777216, is the measured threshold).
DEFAULT_CHUNK_MIN_FILE = 0
CHUNK_MIN_FILE_FLOOR = 1 << 20  # a smaller non-zero setting is raised to this
DEFAULT_REFLOG_DAYS = 10.0  # gc keeps reflog entries this recent: git-lfs's 7 + 3 days


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One configuration key: its type and what it is for (``gitml config``)."""

    kind: str  # "text" | "number" | "integer" | "choice"
    help: str
    choices: tuple[str, ...] = ()
    local_only: bool = False  # a secret: never in the tracked file
    zero_ok: bool = False  # a number for which 0 means "off"


KEYS: dict[str, KeySpec] = {
    "core.remote": KeySpec("text", "the default data remote"),
    "core.lock_timeout": KeySpec("number", "seconds to wait for the repository lock (60)"),
    "core.jobs": KeySpec("integer", "parallel transfers and hashing workers (8)"),
    "cache.dir": KeySpec("text", "where the object cache lives (.gitml/cache)"),
    "cache.link": KeySpec("choice", "how workspace files come from the cache", LINK_MODES),
    "cache.chunk_min_file": KeySpec(
        "integer",
        "files of this many bytes or more are stored as dedup chunks (0: off, the "
        "default; 16777216 is the measured threshold)",
        zero_ok=True,
    ),
    "gc.reflog_days": KeySpec("number", "gc keeps reflog entries younger than this (10 days)"),
    "remote.*.url": KeySpec("text", "folder, s3://, gs://, az:// or ssh:// location"),
    "remote.*.endpoint_url": KeySpec("text", "S3-compatible endpoint (http[s]://host[:port])"),
    "remote.*.region": KeySpec("text", "cloud region"),
    "remote.*.profile": KeySpec("text", "AWS profile name"),
    "remote.*.account_name": KeySpec("text", "Azure storage account name"),
    "remote.*.git_remote": KeySpec("text", "git remote that carries tags and notes"),
    "remote.*.timeout": KeySpec(
        "number", f"seconds one request to the remote may take in all ({DEFAULT_REMOTE_TIMEOUT:g})"
    ),
    "remote.*.chunks": KeySpec(
        "choice",
        "push files the cache keeps as chunks as their chunks (on, the default: only "
        "what the remote lacks) or as whole objects (off: what gitml before chunked "
        "remotes can pull)",
        REMOTE_CHUNKS,
    ),
    **{
        f"remote.*.{name}": KeySpec("text", "credential (config.local.toml only)", local_only=True)
        for name in sorted(SECRET_KEYS)
    },
}


@dataclass(frozen=True, slots=True)
class RemoteConfig:
    name: str
    url: str
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    git_remote: str | None = None
    timeout: float = DEFAULT_REMOTE_TIMEOUT
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    account_name: str | None = None  # Azure storage account
    chunks: bool = True  # remote.<name>.chunks: chunked files travel as chunks


@dataclass(frozen=True, slots=True)
class Refusal:
    """A tracked setting gitml did not honour, and why."""

    key: str
    value: str
    reason: str
    hint: str


@dataclass(frozen=True, slots=True)
class Config:
    root: Path
    cache_dir: Path  # where the object cache is (absolute); see cache_source
    link: str = "auto"
    default_remote: str | None = None
    lock_timeout: float = 60.0
    jobs: int = 8
    remotes: dict[str, RemoteConfig] = field(default_factory=dict)
    reflog_days: float = DEFAULT_REFLOG_DAYS
    chunk_min_file: int = DEFAULT_CHUNK_MIN_FILE  # 0: big files are stored whole
    cache_source: str = "default"  # "default" | "tracked" | "local": who chose cache_dir
    refused: tuple[Refusal, ...] = ()  # tracked settings not honoured (untrusted)
    broken_remotes: dict[str, ConfigError] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # for the user, once per command (context.open_repo)

    @property
    def gitml_dir(self) -> Path:
        return self.root / GITML_DIR

    def remote(self, name: str) -> RemoteConfig:
        """The configured remote ``name``; the error says why when it cannot be used."""
        found = self.remotes.get(name)
        if found is not None:
            return found
        broken = self.broken_remotes.get(name)
        if broken is not None:
            raise ConfigError(broken.message, broken.hint)
        known = ", ".join(sorted(self.remotes)) or "none"
        raise UsageError(f"no data remote named {name!r} (remotes: {known})", "gitml remote list")


def shown(value: object, limit: int = 120) -> str:
    """A value from a config file, safe to put in a message (bounded, escaped)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shell_arg(value: object) -> str:
    """``value`` quoted for a hint the user may paste into a shell; untrusted text
    with control characters or of any length is shown escaped instead."""
    text = str(value)
    if len(text) > 200 or not text.isprintable():
        return shown(value)
    return shlex.quote(text)


def label(text: object) -> str:
    """A name from a config file for a message: as is when short and printable."""
    if isinstance(text, str) and len(text) <= 80 and text.isprintable():
        return text
    return shown(text, 80)


def check_remote_name(name: object) -> str:
    """A remote name as git would accept a ref component; :class:`UsageError` if not."""
    if not isinstance(name, str) or not REMOTE_NAME_RE.match(name) or ".." in name:
        raise UsageError(
            f"invalid remote name {shown(name, 80)}",
            "use letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit)",
        )
    if name.endswith((".", ".lock")):
        raise UsageError(f"invalid remote name {shown(name, 80)}", "do not end it in '.' or .lock")
    return name


def did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def user_cache_home() -> Path:
    """The user's gitml folder for caches shared by all repositories (clones of
    other repositories, the object cache of reads made outside any repository):
    ``$GITML_CACHE_HOME``, else ``$XDG_CACHE_HOME/gitml``, else ``~/.cache/gitml``."""
    explicit = os.environ.get("GITML_CACHE_HOME")
    if explicit:
        return Path(os.path.abspath(os.path.expanduser(explicit)))
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "gitml"


def config_path(root: Path, *, local: bool) -> Path:
    return root / GITML_DIR / (LOCAL_CONFIG_NAME if local else CONFIG_NAME)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}", "fix the file by hand") from None


def _sections(path: Path, data: dict[str, Any], *, strict: bool, warnings: list[str]) -> None:
    """Check the [core] and [cache] sections in place. Unknown names are errors in
    the tracked file (a typo must not silently change behaviour for the whole team)
    and warnings in the local one (dropped, so the command still runs)."""
    for section in list(data):
        body = data[section]
        if section == "remote":
            if not isinstance(body, dict):
                raise ConfigError(f"{path}: [remote] must be a table of remotes")
            continue
        allowed = _SCHEMA.get(section)
        if allowed is None or not isinstance(body, dict):
            close = did_you_mean(section, [*_SCHEMA, "remote"])
            why = f"{path}: unknown section [{label(section)}]{close}"
            if strict:
                raise ConfigError(why)
            warnings.append(f"ignoring {why}")
            del data[section]
            continue
        for key in list(body):
            if key in allowed:
                continue
            close = did_you_mean(key, sorted(allowed))
            why = f"{path}: unknown key {section}.{label(key)}{close}"
            if strict:
                raise ConfigError(why)
            warnings.append(f"ignoring {why}")
            del body[key]


def file_problems(path: Path, data: dict[str, Any], *, tracked: bool) -> list[ConfigError]:
    """What is wrong in one file's table (for :mod:`gitml.configfile`, which refuses
    a write that adds a problem but lets one through that fixes or keeps one)."""
    out: list[ConfigError] = []
    for section, body in data.items():
        if section == "remote":
            if not isinstance(body, dict):
                out.append(ConfigError(f"{path}: [remote] must be a table of remotes"))
                continue
            for name, rbody in body.items():
                err = _remote_problem(name, rbody, tracked=tracked, where=str(path))
                if err is not None:
                    out.append(err)
            continue
        try:
            _sections(path, {section: body}, strict=True, warnings=[])
        except ConfigError as exc:
            out.append(exc)
    return out


def _remote_problem(name: str, body: object, *, tracked: bool, where: str) -> ConfigError | None:
    try:
        check_remote_name(name)
    except UsageError as exc:
        return ConfigError(f"{where}: {exc.message}", exc.hint)
    if not isinstance(body, dict):
        return ConfigError(f"{where}: [remote.{name}] must be a table")
    for key, value in body.items():
        if key not in _REMOTE_KEYS:
            return ConfigError(
                f"{where}: unknown key remote.{name}.{label(key)}"
                f"{did_you_mean(key, sorted(_REMOTE_KEYS))}",
                f"gitml config unset{' --local' if not tracked else ''} "
                + shell_arg(f"remote.{name}.{key}"),
            )
        if key == "timeout":
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or value <= 0:
                return ConfigError(f"{where}: remote.{name}.timeout must be a positive number")
        elif key == "chunks":
            if value not in REMOTE_CHUNKS:
                return ConfigError(
                    f"{where}: remote.{name}.chunks must be on or off",
                    f"gitml config set remote.{name}.chunks on",
                )
        elif not isinstance(value, str):
            return ConfigError(f"{where}: remote.{name}.{key} must be a string")
        if tracked and key in SECRET_KEYS:
            return ConfigError(
                f"{where}: secret remote.{name}.{key} in the tracked config",
                f"move it to {GITML_DIR}/{LOCAL_CONFIG_NAME}, which git ignores",
            )
    return None


def _load_remotes(
    tracked: dict[str, Any], local: dict[str, Any]
) -> tuple[dict[str, RemoteConfig], dict[str, ConfigError]]:
    remotes: dict[str, RemoteConfig] = {}
    broken: dict[str, ConfigError] = {}
    tracked_r, local_r = tracked.get("remote") or {}, local.get("remote") or {}
    names = (f"{GITML_DIR}/{CONFIG_NAME}", f"{GITML_DIR}/{LOCAL_CONFIG_NAME}")
    for name in [*tracked_r, *(n for n in local_r if n not in tracked_r)]:
        problem = None
        if name in tracked_r:
            problem = _remote_problem(name, tracked_r[name], tracked=True, where=names[0])
        if problem is None and name in local_r:
            problem = _remote_problem(name, local_r[name], tracked=False, where=names[1])
        body = {**(tracked_r.get(name) or {}), **(local_r.get(name) or {})}
        if problem is None and "url" not in body:
            if name in tracked_r:
                hint = f"gitml config set remote.{name}.url URL"
                problem = ConfigError(f"remote {shown(name, 80)} has no url", hint)
            else:  # only the local file names it: a teammate renamed or removed it
                problem = ConfigError(
                    f"remote {shown(name, 80)} has no url ({names[1]} has a section for it, "
                    "the tracked config none: renamed or removed?)",
                    f"gitml remote remove {name} --local",
                )
        if problem is not None:
            broken[str(name)] = problem
            continue
        remotes[name] = RemoteConfig(
            name=name,
            url=body["url"],
            endpoint_url=body.get("endpoint_url"),
            region=body.get("region"),
            profile=body.get("profile"),
            git_remote=body.get("git_remote"),
            timeout=float(body.get("timeout", DEFAULT_REMOTE_TIMEOUT)),
            secrets={k: v for k, v in body.items() if k in SECRET_KEYS},
            account_name=body.get("account_name"),
            chunks=body.get("chunks", "on") == "on",
        )
    return remotes, broken


def inside_repo(path: str, root: Path) -> bool:
    """``path`` resolves (symlinks followed) strictly inside ``root``, not in .git."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    try:
        rel = Path(real).relative_to(real_root)
    except ValueError:
        return False
    return rel.parts != () and ".git" not in (p.lower() for p in rel.parts)


def _cache_dir(
    root: Path, tracked: dict[str, Any], local: dict[str, Any], refused: list[Refusal]
) -> tuple[Path, str]:
    local_dir = local.get("cache", {}).get("dir")
    if local_dir is not None:
        if not isinstance(local_dir, str) or not local_dir:
            raise ConfigError(f"{config_path(root, local=True)}: cache.dir must be a path")
        path = Path(os.path.expanduser(local_dir))
        return (path if path.is_absolute() else root / path), "local"
    tracked_dir = tracked.get("cache", {}).get("dir")
    if tracked_dir is not None:
        if not isinstance(tracked_dir, str) or not tracked_dir:
            raise ConfigError(f"{config_path(root, local=False)}: cache.dir must be a path")
        candidate = root / tracked_dir  # an absolute value replaces root
        if not tracked_dir.startswith("~") and inside_repo(str(candidate), root):
            return candidate, "tracked"
        refused.append(
            Refusal(
                "cache.dir",
                tracked_dir,
                "it resolves outside the repository (or into .git), and a cloned "
                f"repository may not choose where gitml writes; using {DEFAULT_CACHE}",
                "if you trust it: gitml config set --local cache.dir " + shell_arg(tracked_dir),
            )
        )
    default = root / DEFAULT_CACHE
    if not inside_repo(str(default), root):
        raise ConfigError(
            f"{DEFAULT_CACHE} leads outside the repository (to {os.path.realpath(default)}), "
            "and only the local config may put the cache there",
            "if you made that link: gitml config set --local cache.dir "
            f"{shell_arg(os.path.realpath(default))}; else remove {DEFAULT_CACHE}",
        )
    return default, "default"


def _link(tracked: dict[str, Any], local: dict[str, Any], refused: list[Refusal]) -> str:
    local_link = local.get("cache", {}).get("link")
    link = local_link if local_link is not None else tracked.get("cache", {}).get("link", "auto")
    if link not in LINK_MODES:
        raise ConfigError(
            f"cache.link = {shown(link)} is not one of {', '.join(LINK_MODES)}",
            f"gitml config set{' --local' if local_link is not None else ''} cache.link auto",
        )
    if local_link is None and link not in TRACKED_LINK_MODES:
        refused.append(
            Refusal(
                "cache.link",
                link,
                "hardlink and symlink modes share files with the cache and come only "
                "from the local config; using auto",
                f"to use it: gitml config set --local cache.link {link}",
            )
        )
        return "auto"
    return str(link)


def _reflog_days(tracked: dict[str, Any], local: dict[str, Any], refused: list[Refusal]) -> float:
    """gc keeps reflog entries this many days; a tracked file may only keep more."""
    local_days = local.get("gc", {}).get("reflog_days")
    days = local_days if local_days is not None else tracked.get("gc", {}).get("reflog_days")
    if days is None:
        return DEFAULT_REFLOG_DAYS
    where = " --local" if local_days is not None else ""
    if isinstance(days, bool) or not isinstance(days, int | float) or days < 0:
        raise ConfigError(
            f"gc.reflog_days = {shown(days)} is not a number of days >= 0",
            f"gitml config set{where} gc.reflog_days 10",
        )
    if local_days is None and days < DEFAULT_REFLOG_DAYS:
        # A cloned repository must not shorten what gc keeps: that decides what is deleted.
        refused.append(
            Refusal(
                "gc.reflog_days",
                str(days),
                f"a tracked config may only keep reflog entries longer; using "
                f"{DEFAULT_REFLOG_DAYS:g}",
                f"to use it: gitml config set --local gc.reflog_days {days}",
            )
        )
        return DEFAULT_REFLOG_DAYS
    return float(days)


def _chunk_min_file(tracked: dict[str, Any], local: dict[str, Any]) -> int:
    """``cache.chunk_min_file``: bytes, 0 = off; tiny values are raised to 1 MiB (a
    tracked value can only change how the cache stores bytes, never what it stores)."""
    cache = {**tracked.get("cache", {}), **local.get("cache", {})}
    value = cache.get("chunk_min_file", DEFAULT_CHUNK_MIN_FILE)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(
            f"cache.chunk_min_file = {shown(value)} is not a size in bytes",
            "gitml config set cache.chunk_min_file 16777216 (or 0 to turn chunking off)",
        )
    return value and max(value, CHUNK_MIN_FILE_FLOOR)


def load_config(root: Path) -> Config:
    """Load, validate and merge the config of the repository at ``root``."""
    tracked_path = config_path(root, local=False)
    local_path = config_path(root, local=True)
    tracked = _read_toml(tracked_path)
    local = _read_toml(local_path)
    warnings: list[str] = []
    _sections(tracked_path, tracked, strict=True, warnings=warnings)
    _sections(local_path, local, strict=False, warnings=warnings)
    refused: list[Refusal] = []
    cache_dir, cache_source = _cache_dir(root, tracked, local, refused)
    link = _link(tracked, local, refused)
    remotes, broken = _load_remotes(tracked, local)
    for name, err in broken.items():
        fix = f"; fix: {err.hint}" if err.hint else ""
        warnings.append(f"ignoring remote {shown(name, 80)}: {err.message}{fix}")
    core = {**tracked.get("core", {}), **local.get("core", {})}
    default_remote = core.get("remote")
    if default_remote is not None and (
        not isinstance(default_remote, str) or default_remote not in remotes
    ):
        where = "--local " if "remote" in local.get("core", {}) else ""
        if default_remote not in broken:  # a broken one was reported above
            warnings.append(
                f"core.remote names {shown(default_remote, 80)}, which is not a configured "
                f"remote; fix: gitml config unset {where}core.remote"
            )
        default_remote = str(default_remote)
    try:
        lock_timeout = float(core.get("lock_timeout", 60.0))
        jobs = int(core.get("jobs", 8))
    except (TypeError, ValueError):
        raise ConfigError("core.lock_timeout and core.jobs must be numbers") from None
    reflog_days = _reflog_days(tracked, local, refused)
    chunk_min_file = _chunk_min_file(tracked, local)
    for r in refused:
        warnings.append(
            f"ignoring {r.key} = {shown(r.value)} from the tracked {GITML_DIR}/{CONFIG_NAME}: "
            f"{r.reason} ({r.hint})"
        )
    return Config(
        root=root,
        cache_dir=cache_dir,
        link=link,
        default_remote=default_remote,
        lock_timeout=lock_timeout,
        jobs=max(1, min(jobs, _MAX_JOBS)),
        remotes=remotes,
        reflog_days=reflog_days,
        chunk_min_file=chunk_min_file,
        cache_source=cache_source,
        refused=tuple(refused),
        broken_remotes=broken,
        warnings=tuple(warnings),
    )
