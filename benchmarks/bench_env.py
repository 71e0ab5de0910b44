"""The machine and the environment around a run: child env, facts, S3 server, cleanup."""

from __future__ import annotations

import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def make_env(workdir: Path) -> dict[str, str]:
    """The environment of every child: venv first on PATH, git identity, quiet DVC."""
    env = dict(os.environ)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    for who in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{who}_NAME"] = "gitml bench"
        env[f"GIT_{who}_EMAIL"] = "bench@example.invalid"
    # DVC: no analytics, no update check, a global config of our own.
    dvc_global = workdir / "dvc-global"
    dvc_global.mkdir(parents=True, exist_ok=True)
    (dvc_global / "config").write_text("[core]\n    analytics = false\n    check_update = false\n")
    env["DVC_GLOBAL_CONFIG_DIR"] = str(dvc_global)
    env["DVC_NO_ANALYTICS"] = "1"
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "VIRTUAL_ENV_PROMPT"):
        env.pop(var, None)
    return env


def cmd_version(argv: Sequence[str], env: dict[str, str]) -> str:
    """First line of a ``--version``-like command, or why it is unavailable."""
    try:
        out = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=60, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if out.returncode == 0 and text else f"unavailable (exit {out.returncode})"


def fs_type(path: Path) -> str:
    best, kind = "", "?"
    try:
        with open("/proc/mounts") as fh:
            for line in fh:
                parts = line.split()
                mnt = parts[1]
                if str(path).startswith(mnt) and len(mnt) > len(best):
                    best, kind = mnt, f"{parts[2]} ({parts[0]} on {mnt})"
    except OSError:
        pass
    return kind


def host_summary() -> str:
    cpu = "?"
    mem = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, "
        f"{mem} RAM, kernel {platform.release()}"
    )


def start_s3(env: dict[str, str], buckets: Iterable[str]) -> str:
    """Start moto's S3 server on 127.0.0.1 in this process; return its endpoint.

    Adds dummy credentials to ``env``. Raises ImportError without moto/boto3.
    """
    import boto3  # type: ignore[import-untyped]
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    creds = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.update(creds)
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for bucket in buckets:
        s3.create_bucket(Bucket=bucket)
    return endpoint


# After a mass delete, ext4 without a journal (this machine's root filesystem)
# skips recently freed inodes on every file creation for a few minutes: creating
# a file then cost 0.5-0.9 ms instead of 18 us here, which would put the previous
# run's cleanup into every figure of this one.
SETTLE_AFTER_DELETE_S = 300


def wait_previous_cleanup(workdir: Path) -> None:
    """A previous run's background delete must end, and its freed inodes age,
    before anything is measured."""
    pid_file = workdir / "trash.pid"
    deleted = False
    if pid_file.exists():
        try:
            pid = int(pid_file.read_text())
            os.kill(pid, 0)
            log(f"waiting for the previous run's cleanup (pid {pid}) to finish")
            deleted = True
            while True:
                os.kill(pid, 0)
                time.sleep(1)
        except (ValueError, ProcessLookupError, PermissionError):
            pass
        pid_file.unlink(missing_ok=True)
    for old in ("runs", "trash"):
        if (workdir / old).exists():
            log(f"deleting {workdir / old} left by an earlier run")
            subprocess.run(["rm", "-rf", "--", str(workdir / old)], check=False)
            deleted = True
    if deleted:
        log(f"letting the freed inodes age for {SETTLE_AFTER_DELETE_S} s (see bench_env.py)")
        time.sleep(SETTLE_AFTER_DELETE_S)


def start_background_cleanup(workdir: Path, trash: Path) -> None:
    """Delete ``trash`` in a detached ``rm -rf``; the next run waits for it."""
    if not trash.exists():
        return
    final = workdir / f"trash-{os.getpid()}"
    trash.rename(final)
    proc = subprocess.Popen(
        ["rm", "-rf", "--", str(final)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    (workdir / "trash.pid").write_text(str(proc.pid))
    proc.returncode = 0  # detached on purpose
    log(f"deleting the run folders in the background (pid {proc.pid})")
