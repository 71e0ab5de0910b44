"""A damaged pack on a remote is seen and repaired (issue 11 item 8).

Before: a truncated pack's objects counted as "already there" for push,
``fsck --cloud`` said ok (only ``--verify`` saw it), and pushing again did
not repair it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from gitml.remotes.packs import decode_index
from gitml.store.hashing import hash_bytes
from tests.conftest import Cli, git
from tests.servers import Bucket, s3_bucket, s3_env, s3_server

__all__ = ["s3_bucket", "s3_env", "s3_server"]

FILES = 80  # more than pack_min_objects (64): the push sends one pack


def _pushed_pack(repo: Path, cli: Cli, store: Path) -> tuple[Path, dict[str, tuple[int, int]]]:
    (repo / "data").mkdir()
    for i in range(FILES):
        (repo / "data" / f"{i:03}.csv").write_text(f"row,{i}\n" * 20)
    cli("add", "data")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "data")
    cli("remote", "add", "origin", str(store))
    assert f"pushed {FILES + 1} objects" in cli("push").out
    (pack,) = (store / "packs").glob("*.pack")
    return pack, decode_index(pack.with_suffix(".idx").read_bytes())


def test_truncated_pack_is_reported_and_repaired_by_the_next_push(
    repo: Path, cli: Cli, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    pack, index = _pushed_pack(repo, cli, store)
    size = pack.stat().st_size
    pack.chmod(0o644)
    with open(pack, "r+b") as fh:
        fh.truncate(size // 2)  # a write that stopped half way
    lost = {oid for oid, (offset, length) in index.items() if offset + length > size // 2}
    fsck = cli("fsck", "--cloud", expect=1)
    assert f"damaged pack {pack.stem[:12]}: {size // 2} bytes, its index says {size} bytes" in (
        fsck.out
    )
    report = json.loads(cli("fsck", "--cloud", "--json", expect=1).out)
    assert list(report["damaged_packs"]) == [pack.stem]
    assert lost <= set(report["missing"])

    again = cli("push").out
    assert f"pushed {len(index)} objects" in again and "0 already there" not in again.split(",")[0]
    assert json.loads(cli("fsck", "--cloud", "--verify", "--json").out) == {
        "checked": FILES + 1,
        "corrupt": {},
        "missing": {},
        "damaged_packs": {},
        "restored": [],
        "problems": [],
    }
    assert "pushed 0 objects" in cli("push").out  # repaired: nothing left to send

    # A fresh cache gets every file back from the repaired remote.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    os.chdir(clone)
    cli("remote", "add", "origin", str(store))
    cli("checkout")  # fetches what the cache lacks from the default remote
    assert (clone / "data" / "079.csv").read_text() == "row,79\n" * 20
    assert hash_bytes((clone / "data" / "000.csv").read_bytes()) in index


def test_remote_gc_removes_a_killed_pushs_orphan_pack(repo: Path, cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "store"
    pack, _index = _pushed_pack(repo, cli, store)
    git(tmp_path, "init", "-q", "--bare", "origin.git")
    git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git(repo, "push", "-q", "origin", "main")
    orphan = store / "packs" / ("ab" * 32 + ".pack")
    orphan.write_bytes(b"a pack whose index was never written")
    young = json.loads(cli("gc", "--cloud", "--yes", "--json").out)
    assert young["orphan_packs"] == 0 and orphan.exists()
    old = time.time() - 2 * 86400
    os.utime(orphan, (old, old))
    result = json.loads(cli("gc", "--cloud", "--yes", "--json").out)
    assert result["orphan_packs"] == 1 and not orphan.exists()
    assert pack.exists() and pack.with_suffix(".idx").exists()


def test_truncated_pack_on_s3_is_repaired(repo: Path, cli: Cli, s3_bucket: Bucket) -> None:
    """The same on S3 (moto on 127.0.0.1): a shorter object under the pack's key."""
    (repo / "data").mkdir()
    for i in range(FILES):
        (repo / "data" / f"{i:03}.csv").write_text(f"s3 row,{i}\n" * 20)
    cli("add", "data")
    cli("remote", "add", "origin", s3_bucket.url("packs"), "--endpoint-url", s3_bucket.endpoint_url)
    cli("push")
    client = s3_bucket.server.client()
    keys = [
        o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket.name, Prefix="packs/")["Contents"]
    ]
    (pack_key,) = [k for k in keys if k.endswith(".pack")]
    body = client.get_object(Bucket=s3_bucket.name, Key=pack_key)["Body"].read()
    client.put_object(Bucket=s3_bucket.name, Key=pack_key, Body=body[: len(body) // 3])
    assert "damaged pack" in cli("fsck", "--cloud", expect=1).out
    cli("push")
    report = json.loads(cli("fsck", "--cloud", "--verify", "--json").out)
    assert report["damaged_packs"] == {} and report["missing"] == {} and report["corrupt"] == {}
