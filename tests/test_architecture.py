"""The package layout keeps its promises (docs/ARCHITECTURE.md, Layers), read from the AST.

Every ``import`` counts, including those inside functions; imports under
``if TYPE_CHECKING:`` are listed apart because they never run.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import gitml
import gitml.api

ROOT = Path(gitml.__file__).parent


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:``."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return out


def _imports() -> list[tuple[str, str, list[str], bool]]:
    """(importer, imported module, names imported from it, type-only) for all of gitml."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        typed = _type_only(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [a.name for a in node.names]
                found.append((_module(path), node.module, names, id(node) in typed))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    found.append((_module(path), alias.name, [], id(node) in typed))
    return [f for f in found if f[1].split(".")[0] == "gitml"]


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_only_cli_and_api_import_the_api() -> None:
    bad = [
        (src, dst)
        for src, dst, names, _ in _imports()
        if (
            dst == "gitml.api"
            or dst.startswith("gitml.api.")
            or (dst == "gitml" and "api" in names)
        )
        and _package(src) not in ("gitml.cli", "gitml.api")
        and src != "gitml"  # the package root re-exports the notebook calls, lazily
    ]
    assert bad == []


def test_guards_and_hookflow_never_import_the_registry() -> None:
    bad = [
        (src, dst)
        for src, dst, _, _ in _imports()
        if _package(src) in ("gitml.guards", "gitml.hookflow") and _package(dst) == "gitml.registry"
    ]
    assert bad == []


# Private names across modules: tests/test_layers.py (attributes too, with an allowlist).


def test_no_import_cycle_crosses_a_package_boundary() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for src, dst, _, type_only in _imports():
        a, b = _package(src), _package(dst)
        if a != b and b != "gitml" and not type_only:
            edges[a].add(b)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo += edges.get(node, ())
        return False

    cycles = sorted((a, b) for a in edges for b in edges[a] if reaches(b, a))
    assert cycles == []


def test_the_api_re_exports_every_operation() -> None:
    modules = ["data", "guards", "hooks", "registry", "remotes", "pipelines", "interop"]
    for name in modules:
        module = importlib.import_module(f"gitml.api.{name}")
        public = [
            n
            for n, f in inspect.getmembers(module, inspect.isfunction)
            if f.__module__ == module.__name__ and n in getattr(module, "__all__", [])
        ]
        for fn in public:
            assert getattr(gitml.api, fn) is getattr(module, fn), (name, fn)
    assert set(gitml.api.__all__) >= {"add", "push", "guard_run", "register", "repro", "pre_commit"}


def test_a_hook_with_nothing_to_compare_does_not_load_the_registry(repo: Path) -> None:
    code = (
        "import json, sys\n"
        "from gitml import api\n"
        "assert api.pre_commit().ok\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('gitml.'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout))
    assert "gitml.api.hooks" in loaded
    assert not {m for m in loaded if m.startswith("gitml.registry")}
