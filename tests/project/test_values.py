"""The one reader of params and metrics files: same cap, format rule and error everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitml.errors import ConfigError
from gitml.guards.model import MetricsError, load_metrics
from gitml.project.values import MAX_VALUES_BYTES, parse_values, read_values


def test_json_by_suffix_yaml_otherwise() -> None:
    assert parse_values(b'{"a": 1}', source="m.JSON") == {"a": 1}
    assert parse_values(b"a: 1\n", source="m.yml") == {"a": 1}
    assert parse_values(b"a: 1\n", source="metrics.txt") == {"a": 1}
    with pytest.raises(ConfigError, match=r"^m\.json"):
        parse_values(b"a: 1\n", source="m.json")


def test_one_cap(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_bytes(b"a: " + b"x" * MAX_VALUES_BYTES + b"\n")
    with pytest.raises(ConfigError, match=r"p\.yaml: larger than 4 MiB"):
        read_values(tmp_path / "p.yaml", source="p.yaml")


def test_guard_metrics_symlink_is_refused_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "hosts.yml"
    secret.write_text("token: ghp_secret\n")
    (tmp_path / "m.yaml").symlink_to(secret)
    with pytest.raises(MetricsError, match="symbolic link") as err:
        load_metrics(tmp_path / "m.yaml")
    assert "ghp_secret" not in str(err.value)
