"""The project's own tooling agrees with itself: one version, one set of pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

import gitml
import gitml.version

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict[str, object]:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)


def _dev_pin(name: str) -> str:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    for spec in project["optional-dependencies"]["dev"]:
        match = re.fullmatch(rf"{re.escape(name)}==(\S+)", spec)
        if match:
            return match.group(1)
    raise AssertionError(f"{name} is not pinned with == in the dev extra")


def test_the_version_has_one_source() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert "version" not in project
    assert project["dynamic"] == ["version"]
    tool = _pyproject()["tool"]
    assert isinstance(tool, dict)
    assert tool["setuptools"]["dynamic"]["version"] == {"attr": "gitml.version.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", gitml.__version__)
    assert gitml.__version__ is gitml.version.__version__


def test_pre_commit_revisions_are_the_dev_pins() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    revs = {repo["repo"].rsplit("/", 1)[-1]: repo.get("rev") for repo in config["repos"]}
    assert revs["ruff-pre-commit"] == "v" + _dev_pin("ruff")
    assert revs["mirrors-mypy"] == "v" + _dev_pin("mypy")
    hook_ids = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff", "ruff-format", "mypy", "import-linter"} <= hook_ids


def test_make_lint_checks_formatting_and_layers() -> None:
    makefile = (ROOT / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "ruff format --check" in lint
    assert "lint-imports" in lint
    unit = makefile.split("\nunit:", 1)[1].split("\n\n", 1)[0]
    assert "--cov=gitml" in unit and "--cov-fail-under=$(COVERAGE_FLOOR)" in unit


def test_the_readme_shows_the_coverage_floor() -> None:
    floor = re.search(r"^COVERAGE_FLOOR := (\d+)$", (ROOT / "Makefile").read_text(), re.M)
    assert floor, "COVERAGE_FLOOR missing from the Makefile"
    assert f"coverage: {floor.group(1)}%" in (ROOT / "README.md").read_text()


def test_the_changelog_has_an_unreleased_section() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text
    assert f"## [{gitml.__version__}]" in text
