"""Two repositories per test: a copy of one registry built per session, and a
new consumer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.testing.registry_repo import Repos, build_registry, registry_and_consumer


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("registry-built")
    build_registry(folder)
    return folder


@pytest.fixture
def repos(built: Path, tmp_path: Path) -> Repos:
    return registry_and_consumer(built, tmp_path)
