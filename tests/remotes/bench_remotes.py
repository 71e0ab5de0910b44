"""Ad-hoc benchmark of remote transfers (not a test; run by hand).

    .venv/bin/python tests/remotes/bench_remotes.py --n 10000 --kind local [--dvc]
    .venv/bin/python tests/remotes/bench_remotes.py --n 2000 --kind s3 [--dvc]

Makes N objects of 1-8 KiB, then times gitml upload, no-op upload and download
into an empty cache (and, with --dvc, ``dvc push``, no-op ``dvc push`` and
``dvc fetch`` of the same files). S3 is a moto server in its own process.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gitml.config import RemoteConfig  # noqa: E402
from gitml.remotes import Remote  # noqa: E402
from gitml.store.objects import ObjectStore  # noqa: E402
from tests.servers import dummy_env  # noqa: E402

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _moto() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, f"http://127.0.0.1:{port}"


def _timed(label: str, fn: object, results: dict[str, float]) -> object:
    start = time.perf_counter()
    out = fn()  # type: ignore[operator]
    results[label] = time.perf_counter() - start
    print(f"{label:28s} {results[label]:7.2f} s", flush=True)
    return out


def _dvc(
    work: Path,
    files: list[bytes],
    url: str,
    endpoint: str | None,
    jobs: int,
    results: dict[str, float],
) -> None:
    repo = work / "dvcrepo"
    data = repo / "data"
    data.mkdir(parents=True)
    for i, blob in enumerate(files):
        (data / f"{i // 1000:03d}").mkdir(exist_ok=True)
        (data / f"{i // 1000:03d}" / f"f{i}.bin").write_bytes(blob)
    dvc = str(BIN / "dvc")

    def run(*args: str) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
        }
        proc = subprocess.run([dvc, *args], cwd=repo, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise SystemExit(f"dvc {' '.join(args)} failed: {proc.stdout}{proc.stderr}")

    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    run("init", "-q")
    run("config", "core.analytics", "false")
    run("remote", "add", "-d", "r", url)
    if endpoint:
        run("remote", "modify", "r", "endpointurl", endpoint)
    run("add", "data")
    _timed("dvc push", lambda: run("push", "-j", str(jobs)), results)
    _timed("dvc push (no-op)", lambda: run("push", "-j", str(jobs)), results)
    shutil.rmtree(repo / ".dvc" / "cache")
    _timed("dvc fetch", lambda: run("fetch", "-j", str(jobs)), results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--kind", choices=["local", "s3"], default="local")
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--dvc", action="store_true")
    args = parser.parse_args()
    os.environ.update(dummy_env())
    rng = random.Random(1)
    files = [rng.randbytes(rng.randint(1024, 8192)) for _ in range(args.n)]
    work = Path(tempfile.mkdtemp(prefix="gitml-bench-"))
    moto = None
    try:
        store = ObjectStore(work / "cache")
        with store.batch() as batch:
            oids = [batch.add_bytes(b) for b in files]
        endpoint = None
        if args.kind == "s3":
            import boto3

            moto, endpoint = _moto()
            boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
            url, dvc_url = "s3://bench/gitml", "s3://bench/dvc"
        else:
            url, dvc_url = str(work / "remote"), str(work / "dvcremote")
        remote = Remote.from_config(RemoteConfig(name="b", url=url, endpoint_url=endpoint))
        results: dict[str, float] = {}
        print(
            f"{args.n} objects, {sum(map(len, files)) / 1e6:.1f} MB, {args.kind}, jobs={args.jobs}",
            flush=True,
        )
        up = _timed("gitml upload", lambda: remote.upload(store, oids, jobs=args.jobs), results)
        assert up.ok  # type: ignore[attr-defined]
        _timed("gitml upload (no-op)", lambda: remote.upload(store, oids, jobs=args.jobs), results)
        fresh = ObjectStore(work / "cache2")
        down = _timed(
            "gitml download", lambda: remote.download(fresh, oids, jobs=args.jobs), results
        )
        assert down.ok and len(down.transferred) == args.n  # type: ignore[attr-defined]
        if args.dvc:
            _dvc(work, files, dvc_url, endpoint, args.jobs, results)
            for ours, theirs in (
                ("gitml upload", "dvc push"),
                ("gitml upload (no-op)", "dvc push (no-op)"),
                ("gitml download", "dvc fetch"),
            ):
                print(f"{ours} / {theirs}: {results[ours] / results[theirs]:.2f}")
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
