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
    if install_hooks:
        from gitml.git.hooks import install_hooks as install

        report = install(git, python=sys.executable)
        result.hooks = dict(report.states)
        result.messages += report.messages
    return result
