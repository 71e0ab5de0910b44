"""``gitml init``: the .gitml folder, its tracked config, and the git side
(hooks, notes settings). Idempotent: running it again repairs, never clobbers."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from gitml.config import CONFIG_NAME, GITML_DIR
from gitml.git.repo import GitRepo
from gitml.store.durable import write_file_atomic

_CONFIG_TEMPLATE = """\
# gitml configuration (tracked). Secrets go in config.local.toml, which git ignores.
[cache]
link = "auto"
"""
# Everything below .gitml is local state except the tracked config.
_GITIGNORE = "/*\n!/config.toml\n!/.gitignore\n"


@dataclass
class InitResult:
    root: Path
    created: bool
    hooks: dict[str, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


def init(git: GitRepo, *, install_hooks: bool = True) -> InitResult:
    root = git.root
    folder = root / GITML_DIR
    created = not folder.exists()
    folder.mkdir(exist_ok=True)
    config = folder / CONFIG_NAME
    if not config.exists():
        write_file_atomic(config, _CONFIG_TEMPLATE.encode("utf-8"))
    ignore = folder / ".gitignore"
    if not ignore.exists():
        write_file_atomic(ignore, _GITIGNORE.encode("utf-8"))
    git.add([f"{GITML_DIR}/{CONFIG_NAME}", f"{GITML_DIR}/.gitignore"])
    result = InitResult(root=root, created=created)
    from gitml.git.notes import configure_notes

    configure_notes(git, git.remote_names())
    _configure_merge(git)
    if install_hooks:
        _install_hooks(git, result)
    else:
        from gitml.git.hooknotice import mark_noticed

        mark_noticed(git)  # chosen: no notice about missing hooks
    return result


def _configure_merge(git: GitRepo) -> None:
    """The pointer merge driver: its command in .git/config, and the tracked
    ``.gitattributes`` line that routes ``*.gitml`` to it (added once, the
    user's other lines kept byte for byte)."""
    from gitml.git.mergedriver import ATTRIBUTES_LINE, configure_merge_driver

    configure_merge_driver(git, sys.executable)
    path = git.root / ".gitattributes"
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        text = b""
    lines = [ln.strip() for ln in text.decode("utf-8", "replace").splitlines()]
    if ATTRIBUTES_LINE in lines:
        return
    if text and not text.endswith(b"\n"):
        text += b"\n"
    write_file_atomic(path, text + ATTRIBUTES_LINE.encode() + b"\n")
    git.add([".gitattributes"])


def _install_hooks(git: GitRepo, result: InitResult) -> None:
    """Install the hooks; with a ``.pre-commit-config.yaml`` (even before
    ``pre-commit install`` ran) the framework owns the pre-commit hook, so
    gitml's is not installed (and removed if it was): guards never run twice."""
    from gitml.git.hooks import HOOK_NAMES, PRE_COMMIT_CONFIG, PRE_COMMIT_SNIPPET, uninstall_hooks
    from gitml.git.hooks import install_hooks as install

    names = list(HOOK_NAMES)
    config = git.root / PRE_COMMIT_CONFIG
    if config.is_file():
        names.remove("pre-commit")
        uninstall_hooks(git, ["pre-commit"])
        try:
            text = config.read_text("utf-8", errors="replace")
        except OSError:
            text = ""
        result.hooks["pre-commit"] = "framework"
        if "gitml hook pre-commit" in text or "gitml-guard" in text:
            result.messages.append(
                f"pre-commit: {PRE_COMMIT_CONFIG} runs gitml's checks (pre-commit framework); "
                "gitml installed no pre-commit hook of its own"
            )
        else:
            result.messages.append(
                f"pre-commit: {PRE_COMMIT_CONFIG} found: the pre-commit framework owns this "
                "hook, so gitml installed none.\n" + PRE_COMMIT_SNIPPET
            )
    report = install(git, python=sys.executable, names=names)
    result.hooks.update(report.states)
    result.messages += report.messages
