"""Start-up stays cheap, and the shortcuts that make it cheap change nothing.

Import checks run in a fresh interpreter (``sys.modules`` of this one is shared
by every test). The lazy command tree is compared with typer's own full build,
and the coercion shortcuts with typer's pydantic adapters.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer
from typer._coercion import build_runtime_param, resolve_type_descriptor
from typer.main import get_command_name
from typer.models import OptionInfo

import gitml.cli.app as app_module
from gitml.cli.coercion import _Deferred
from gitml.cli.output import progress
from gitml.progress import Event

# Loaded only by commands that need them; none is needed to start the CLI.
_HEAVY = {"git", "pydantic", "rich", "rich.progress", "rich.table", "gitml.context"}


def _modules_after(code: str, cwd: Path) -> set[str]:
    """Module names loaded by ``code`` in a fresh interpreter."""
    out = cwd / "modules.json"
    script = (
        "import json, sys\n"
        f"try:\n    {code}\nexcept SystemExit:\n    pass\n"
        f"open({str(out)!r}, 'w').write(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True)
    assert out.exists(), proc.stderr
    return set(json.loads(out.read_text()))


def test_importing_the_cli_loads_nothing_heavy(tmp_path: Path) -> None:
    loaded = _modules_after("import gitml.cli.app", tmp_path)
    assert not loaded & (_HEAVY | {"gitml.api", "gitml.cli.data"})


@pytest.mark.parametrize("args", [["--help"], ["status", "--help"], ["guard", "run", "--help"]])
def test_help_loads_nothing_heavy(tmp_path: Path, args: list[str]) -> None:
    loaded = _modules_after(f"from gitml.cli.app import main; main({args!r})", tmp_path)
    assert not loaded & _HEAVY


def test_a_command_loads_only_its_own_module(repo: Path) -> None:
    loaded = _modules_after("from gitml.cli.app import main; main(['status'])", repo)
    assert "gitml.cli.data" in loaded
    assert not loaded & {"gitml.cli.guards", "gitml.cli.remotes", "gitml.cli.registry"}
    # Nothing to draw and only plain strings to parse: no bars, no pydantic.
    assert not loaded & {"pydantic", "rich.progress", "rich.table"}


def test_module_table_matches_what_modules_register() -> None:
    for name, listed in app_module._MODULES.items():
        target = typer.Typer()
        try:
            module = __import__(f"gitml.cli.{name}", fromlist=["register"])
        except ModuleNotFoundError:
            assert listed == (), f"gitml.cli.{name} is missing but lists commands"
            continue
        module.register(target)
        names = [
            c.name or get_command_name(c.callback.__name__)
            for c in target.registered_commands
            if c.callback is not None
        ] + [g.name or "" for g in target.registered_groups]
        assert sorted(names) == sorted(listed), name


def _all_paths() -> list[list[str]]:
    """Every command path of the full app: ``[cmd]`` and ``[group, sub]``."""
    root = typer.main.get_command(app_module._register([]))
    paths: list[list[str]] = []
    for name, command in getattr(root, "commands", {}).items():
        paths.append([name])
        paths += [[name, sub] for sub in getattr(command, "commands", {})]
    return paths


_ERRORS = [
    [],
    ["stauts"],
    ["guard", "rnu"],
    ["models", "shwo"],
    ["status", "--bogus"],
    ["log", "-n", "abc"],
    ["monitor", "m", "--data", "d", "--metric", "x", "--min", "abc"],
    ["promote"],
    ["diff", "a", "b", "c", "--help"],
    ["--version"],
    ["-h"],
]


def _run(cli_main: Any, args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[Any, ...]:
    code: Any = 0
    try:
        cli_main(list(args))
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_lazy_tree_matches_typers_full_build(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [["--help"]] + [[*p, "--help"] for p in _all_paths()] + _ERRORS
    lazy = {tuple(args): _run(app_module.main, args, capsys) for args in cases}
    monkeypatch.setattr(app_module, "lazy_root", typer.main.get_command)
    for args in cases:
        assert _run(app_module.main, args, capsys) == lazy[tuple(args)], args
    assert len(cases) > 40  # every command and group was listed


_SHORTCUT_CASES: list[tuple[Any, Any]] = [
    *[(str, v) for v in ["abc", "", " x ", "é", "a\udcff", "-", "--x", "3"]],
    *[(list[str], v) for v in [("a", "b"), (), ["x"], ("a\udcff", "")]],
    *[(int, v) for v in ["3", "007", "0", "123456789012345678"]],
]


NO_CONTEXT: Any = None  # coercion never looks at the click context


@pytest.mark.parametrize(("annotation", "value"), _SHORTCUT_CASES)
def test_coercion_shortcuts_match_typers_adapter(annotation: Any, value: Any) -> None:
    desc = resolve_type_descriptor(annotation, OptionInfo())
    real = build_runtime_param(desc)
    fast = _Deferred(parameter_info=desc.parameter_info, annotation=annotation, descriptor=desc)
    param: Any = SimpleNamespace(_runtime_param=fast)  # the one attribute they read
    want = real._coerce_value(value, param=param, ctx=NO_CONTEXT)
    got = fast._coerce_value(value, param=param, ctx=NO_CONTEXT)
    assert got == want
    assert type(got) is type(want)
    assert param._runtime_param is fast  # answered without building an adapter


@pytest.mark.parametrize(("annotation", "value"), [(int, "abc"), (int, " 3"), (int, "٣")])
def test_other_values_go_to_typers_adapter(annotation: Any, value: Any) -> None:
    desc = resolve_type_descriptor(annotation, OptionInfo())
    fast = _Deferred(parameter_info=desc.parameter_info, annotation=annotation, descriptor=desc)
    param: Any = SimpleNamespace(_runtime_param=fast)  # the one attribute they read
    real = build_runtime_param(desc)
    try:
        want: Any = real._coerce_value(value, param=param, ctx=NO_CONTEXT)
    except Exception as exc:  # the same error, from the same adapter
        with pytest.raises(type(exc)) as raised:
            fast._coerce_value(value, param=param, ctx=NO_CONTEXT)
        assert str(raised.value) == str(exc)
    else:
        assert fast._coerce_value(value, param=param, ctx=NO_CONTEXT) == want
    assert param._runtime_param is not fast


def test_progress_off_a_terminal_shows_only_messages(capsys: pytest.CaptureFixture[str]) -> None:
    with progress() as callback:
        callback(Event("start", task="scan", total=3))
        callback(Event("advance", task="scan", count=3, nbytes=10))
        callback(Event("warning", message="look out"))
        callback(Event("done", task="scan"))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "look out" in captured.err
    assert "scan" not in captured.err
