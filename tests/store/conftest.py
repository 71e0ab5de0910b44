"""Shared fixtures for the store tests: real files in tmp_path, real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gitml.store.objects import ObjectStore

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(tmp_path / "cache")


@pytest.fixture
def make_file(tmp_path: Path) -> Callable[..., Path]:
    work = tmp_path / "work"

    def make(rel: str, data: bytes, mode: int = 0o644) -> Path:
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.chmod(path, mode)
        return path

    return make


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GITML_FAULT"}
    return {**env, "PYTHONPATH": str(REPO), **(extra or {})}


def run_python(
    code: str, *, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (so GITML_FAULT is read at import)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def popen_python(code: str, *, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def leftovers(cache: Path) -> list[str]:
    """What a finished or recovered batch must not leave: journals and temp files.
    (A batch small enough to need no journal creates no journal folder.)"""
    out: list[str] = []
    for sub in ("journal", "tmp"):
        folder = cache / sub
        if folder.exists():
            out += [f"{sub}/{name}" for name in os.listdir(folder)]
    return out


def corrupt(path: Path, *, truncate: bool = False) -> None:
    """Damage an object in place (flip one byte, or cut it short)."""
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    if truncate:
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0x01
    with open(path, "r+b") as fh:
        fh.write(bytes(data))
        fh.truncate(len(data))
    os.chmod(path, 0o444)
