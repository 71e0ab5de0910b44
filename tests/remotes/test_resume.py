"""A transfer SIGKILLed mid-way (GITML_FAULT) leaves nothing corrupt, and the next
run completes it."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gitml.remotes import Remote
from gitml.store.objects import ObjectStore
from tests.remotes.remote_helpers import ROOT, Handle, MakeRemote, assert_cache_clean, fill

CHILD = """
import json, sys
from gitml.config import RemoteConfig
from gitml.remotes import Remote, RemoteOptions
from gitml.store.objects import ObjectStore
args = json.loads(sys.argv[1])
store = ObjectStore(args["cache"])
cfg = RemoteConfig(name="origin", url=args["url"], endpoint_url=args["endpoint"])
remote = Remote.from_config(cfg, options=RemoteOptions(**args["options"]))
op = remote.upload if args["op"] == "upload" else remote.download
result = op(store, args["oids"], jobs=2)
print(json.dumps({"transferred": len(result.transferred), "failed": result.failed}))
"""


def _run(
    handle: Handle,
    store: ObjectStore,
    op: str,
    oids: list[str],
    fault: str,
    **options: object,
) -> subprocess.CompletedProcess[str]:
    endpoint = handle.bucket.endpoint_url if handle.bucket else None
    args = {
        "cache": str(store.root),
        "url": handle.url,
        "endpoint": endpoint,
        "op": op,
        "oids": oids,
        "options": options,
    }
    env = {**os.environ, "GITML_FAULT": fault, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _killed(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.slow
def test_upload_killed_then_resumed(
    make_url_remote: MakeRemote, store: ObjectStore, tmp_path: Path
) -> None:
    handle = make_url_remote()
    oids = fill(store, 20, size=1500)
    _killed(_run(handle, store, "upload", oids, "remote.upload.object:6"))
    partial = handle.remote.list_oids()
    assert partial < set(oids)  # some or none made it, never a broken one
    handle.all_good(tmp_path)

    result = handle.remote.upload(store, oids)
    assert result.ok, result.failed
    assert sorted(result.transferred + result.skipped) == sorted(oids)
    assert set(result.skipped) == partial  # what made it is not sent again
    handle.all_good(tmp_path)


@pytest.mark.slow
def test_folder_upload_killed_while_renaming(store: ObjectStore, tmp_path: Path) -> None:
    from gitml.config import RemoteConfig
    from gitml.remotes import Remote

    root = tmp_path / "remote"
    remote = Remote.from_config(RemoteConfig(name="o", url=str(root)))
    handle = Handle("local", remote, str(root), root=root)
    oids = fill(store, 30, size=800)
    _killed(
        _run(
            handle,
            store,
            "upload",
            oids,
            "remote.local.before-rename:12",
            flush_every=10,
            pack=False,
        )
    )
    temps = [p for p in root.rglob(".*.tmp")]
    assert temps  # the kill left temp files ...
    assert 10 <= len(remote.list_oids()) < 30  # ... next to whole, renamed objects
    handle.all_good(tmp_path)
    assert remote.upload(store, oids).ok
    assert remote.list_oids() == set(oids)
    handle.all_good(tmp_path)


@pytest.mark.slow
def test_download_killed_then_resumed(
    make_url_remote: MakeRemote, store: ObjectStore, tmp_path: Path
) -> None:
    handle = make_url_remote()
    oids = fill(store, 20, size=1500)
    assert handle.remote.upload(store, oids).ok
    target = ObjectStore(tmp_path / "target")
    _killed(_run(handle, target, "download", oids, "remote.download.object:8"))

    fresh = ObjectStore(target.root)  # a new process would recover the dead batch
    result = handle.remote.download(fresh, oids)
    assert result.ok, result.failed
    assert sorted(result.transferred + result.skipped) == sorted(oids)
    assert_cache_clean(fresh)
    for oid in oids:
        assert fresh.read_bytes(oid) == store.read_bytes(oid)


@pytest.mark.slow
def test_pack_upload_killed_then_resumed(
    make_url_remote: MakeRemote, store: ObjectStore, tmp_path: Path
) -> None:
    handle = make_url_remote()
    oids = fill(store, 30, size=500)
    packing = {"pack_min_objects": 8, "pack_max_objects": 10}
    _killed(_run(handle, store, "upload", oids, "remote.upload.pack:2", **packing))
    partial = handle.remote.list_oids()
    assert partial < set(oids)  # a pack without its index is never counted
    handle.all_good(tmp_path)
    options = dataclasses.replace(handle.remote.options, **packing)  # type: ignore[arg-type]
    again = Remote(handle.remote.url, handle.remote.backend, options=options)
    result = again.upload(store, oids)
    assert result.ok, result.failed
    assert set(result.skipped) == partial
    assert handle.remote.list_oids() == set(oids)
    handle.all_good(tmp_path)
