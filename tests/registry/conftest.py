"""Fixtures for the registry tests (helpers live in registry_helpers.py)."""

from __future__ import annotations

import pytest

from tests.registry.registry_helpers import Timeline


@pytest.fixture
def timeline() -> Timeline:
    return Timeline()
