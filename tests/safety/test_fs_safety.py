"""Issue 11, filesystem safety: deletes that cannot escape, modes that stay put,
sizes that are not corruption, and one-line errors for damaged state.

Real files, real ``gitml`` subprocesses, a real racing thread.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gitml.errors import EXIT_CHECK_FAILED, EXIT_REMOTE, EXIT_REPO, EXIT_USAGE
from tests.conftest import Cli, git, run_gitml


def write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def clean_failure(proc_code: int, err: str) -> bool:
    """Exit 0, or a documented error code (gitml/errors.py) with a one-line
    ``error:`` (and maybe a hint), never a traceback."""
    if proc_code == 0:
        return True
    if proc_code not in (EXIT_CHECK_FAILED, EXIT_USAGE, EXIT_REPO, EXIT_REMOTE):
        return False
    lines = [line for line in err.splitlines() if line.strip()]
    return (
        bool(lines)
        and lines[0].startswith("error: ")
        and all(line.startswith(("error: ", "hint: ")) for line in lines)
        and "internal error" not in err
        and "Traceback" not in err
    )


# -- item 3: deletes go through O_NOFOLLOW folder descriptors --------------------

N_RACE = 1500


def _swapper(repo: Path, outside: Path, stop: threading.Event, mid_delete: bool) -> None:
    """Swap data/sub for a symlink to ``outside`` and back, again and again; with
    ``mid_delete`` only once the checkout has begun deleting (its first file is
    gone), else from the start (then the plan may meet the symlink first)."""
    sub, away = repo / "data" / "sub", repo / "data" / ".sub-away"
    first = sub / "f0000.txt"
    while mid_delete and first.exists() and not stop.is_set():
        pass
    while not stop.is_set():
        try:
            os.rename(sub, away)
        except OSError:
            continue
        try:
            os.symlink(outside, sub)
            time.sleep(0.0005)  # long enough for a path-based delete to go through it
            os.unlink(sub)
        except OSError:
            pass
        finally:
            try:
                os.rename(away, sub)
            except OSError:
                pass


@pytest.mark.parametrize("mid_delete", [True, False], ids=["mid-delete", "from-start"])
def test_checkout_deletes_never_follow_a_swapped_in_symlink(
    repo: Path, cli: Cli, tmp_path: Path, mid_delete: bool
) -> None:
    names = [f"f{i:04d}.txt" for i in range(N_RACE)]
    for name in names:
        write(repo / "data/sub" / name, f"workspace {name}\n")
    write(repo / "data/keep.txt", "kept\n")
    cli("add", "data")
    git(repo, "commit", "-qm", "with sub")
    shutil.rmtree(repo / "data/sub")
    cli("add", "data")
    git(repo, "commit", "-qm", "without sub")
    # the workspace has sub again (all of it in the cache), the pointer does not
    git(repo, "checkout", "HEAD~1", "--", "data.gitml")
    cli("checkout", "data")
    git(repo, "checkout", "HEAD", "--", "data.gitml")
    assert len(os.listdir(repo / "data/sub")) == N_RACE

    outside = tmp_path / "outside"
    for name in names:
        write(outside / name, f"precious {name}\n")
    stop = threading.Event()
    racer = threading.Thread(target=_swapper, args=(repo, outside, stop, mid_delete), daemon=True)
    racer.start()
    try:
        proc = run_gitml(repo, "checkout", "data")
    finally:
        stop.set()
        racer.join()
    assert sorted(os.listdir(outside)) == names
    for name in names:
        assert (outside / name).read_text() == f"precious {name}\n"
    assert clean_failure(proc.returncode, proc.stderr), proc.stderr
    assert not (repo / "data/sub").is_symlink()


def test_rm_refuses_a_symlinked_folder_before_touching_anything(
    repo: Path, cli: Cli, tmp_path: Path
) -> None:
    write(repo / "models/m.bin", "weights\n")
    cli("add", "models/m.bin")
    git(repo, "commit", "-qm", "model")
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "m.bin.gitml"
    shutil.copy(repo / "models/m.bin.gitml", victim)
    os.rename(repo / "models", tmp_path / "models-away")
    os.symlink(outside, repo / "models")
    result = cli("rm", "models/m.bin", expect=3)
    assert "symlinked directory" in result.err and clean_failure(result.code, result.err)
    assert victim.read_text().startswith("gitml: 1")  # old code deleted it
    assert git(repo, "diff", "--cached", "--name-only") == ""  # the pointer is still tracked


# -- journals: a failed checkout leaves none; a damaged one is a clean error ----


def _limited(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def run_limited(cwd: Path, limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    """gitml in a subprocess that cannot write a file past ``limit`` bytes (a full disk)."""
    return subprocess.run(
        [sys.executable, "-m", "gitml", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        preexec_fn=lambda: _limited(limit),
    )


def test_failed_checkout_cleans_its_journal_so_add_works(repo: Path, cli: Cli) -> None:
    write(repo / "data/small.txt", "small\n")
    write(repo / "data/big.bin", os.urandom(3 << 20))
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")
    shutil.rmtree(repo / "data")
    proc = run_limited(repo, 1 << 20, "checkout", "data")
    assert proc.returncode == 3, proc.stderr
    assert clean_failure(proc.returncode, proc.stderr)
    assert "cannot write data/big.bin" in proc.stderr
    assert "hint: free some disk space" in proc.stderr
    assert not (repo / ".gitml/checkout.journal").exists()
    assert not (repo / "data/big.bin").exists()  # nothing half-written stays
    # the next add works (the old code refused: "an interrupted gitml checkout ...")
    write(repo / "data/new.txt", "new\n")
    cli("add", "data")
    cli("checkout", "data@HEAD")
    assert (repo / "data/big.bin").stat().st_size == 3 << 20


def _journal_of(repo: Path, cli: Cli) -> bytes:
    write(repo / "data/a.txt", "a\n")
    cli("add", "data")
    git(repo, "commit", "-qm", "v1")
    oid = (repo / "data.gitml").read_text().split("oid: ")[1].split()[0]
    record = f'{{"kind": "dir", "oid": "{oid}", "size": 2, "subpath": "", "tracked": "data"}}'
    return f"gitml-checkout 2\n{record}\n".encode()


@pytest.mark.parametrize(
    "damage",
    [
        lambda good: b"\x00\xff\xfe garbage \x81",
        lambda good: good[: len(good) - 9],  # torn in the middle of its record
        lambda good: good.replace(b'"tracked"', b'"tracker"'),
        lambda good: b"gitml-checkout 2\n[1, 2]\n",
        lambda good: good.replace(b'"data"}', b'"../../etc"}'),
    ],
    ids=["binary", "truncated", "no-tracked", "not-a-record", "escaping-path"],
)
def test_damaged_checkout_journal_is_a_one_line_error_with_a_hint_that_works(
    repo: Path, cli: Cli, damage: object
) -> None:
    assert callable(damage)
    journal = repo / ".gitml/checkout.journal"
    journal.write_bytes(damage(_journal_of(repo, cli)))
    (repo / "data/a.txt").unlink()
    result = cli("checkout", "data", expect=3)
    assert clean_failure(result.code, result.err), result.err
    assert f"the checkout journal {journal} is damaged" in result.err
    assert f"(gitml holds the lock): rm {journal}, then gitml checkout" in result.err
    assert not (repo / "data/a.txt").exists()  # nothing written
    journal.unlink()  # the hint
    cli("checkout", "data")
    assert (repo / "data/a.txt").read_text() == "a\n"
    cli("add", "data")


# -- item 7: a wrong size is the pointer's fault, never corruption -------------


def _cache(repo: Path) -> Path:
    return repo / ".gitml" / "cache"


def set_link(repo: Path, mode: str) -> None:
    """Link mode from the local (trusted) config."""
    (repo / ".gitml" / "config.local.toml").write_text(f'[cache]\nlink = "{mode}"\n')


def _set_size(pointer: Path, size: int) -> None:
    lines = [
        f"size: {size}" if ln.startswith("size: ") else ln for ln in pointer.read_text().split("\n")
    ]
    pointer.write_text("\n".join(lines))


@pytest.mark.parametrize("link", ["copy", "hardlink"])
def test_wrong_size_in_a_pointer_names_the_pointer_and_keeps_the_object(
    repo: Path, cli: Cli, link: str
) -> None:
    from gitml.store.hashing import hash_bytes

    set_link(repo, link)
    data = b"weights v1\n"
    write(repo / "model.bin", data)
    write(repo / "copy.bin", data)  # another pointer sharing the object
    cli("add", "model.bin", "copy.bin")
    oid = hash_bytes(data)
    obj = _cache(repo) / oid[:2] / oid[2:]
    _set_size(repo / "model.bin.gitml", 99)  # a hand edit, a bad merge, a hostile clone
    (repo / "model.bin").unlink()
    (repo / "copy.bin").unlink()
    result = cli("checkout", "model.bin", expect=3)
    assert clean_failure(result.code, result.err), result.err
    assert (
        f"error: model.bin.gitml says model.bin is 99 bytes, object {oid[:12]} has {len(data)}: "
        "the pointer is wrong (the object is intact)"
    ) in result.err
    assert "hint: gitml add model.bin records the data again" in result.err
    assert obj.read_bytes() == data  # not quarantined (the old code moved it away)
    assert not (_cache(repo) / "quarantine").exists()
    assert not (repo / "model.bin").exists()
    cli("checkout", "copy.bin")  # the other pointer still works
    assert (repo / "copy.bin").read_bytes() == data


def test_a_good_object_in_quarantine_comes_back_on_checkout(repo: Path, cli: Cli) -> None:
    from gitml.store.hashing import hash_bytes
    from gitml.store.objects import ObjectStore

    write(repo / "data/a.txt", "a\n")
    write(repo / "data/b.txt", "b\n")
    cli("add", "data")
    store = ObjectStore(_cache(repo))
    good = hash_bytes(b"a\n")
    moved = store.quarantine(good)  # what the old size rule did to good objects
    manifest = (repo / "data.gitml").read_text().split("oid: ")[1].split()[0]
    store.quarantine(manifest)
    bad = hash_bytes(b"b\n")
    bad_copy = store.quarantine(bad)
    bad_copy.chmod(0o644)
    bad_copy.write_bytes(b"B\n")  # truly corrupt: must stay in quarantine
    shutil.rmtree(repo / "data")
    result = cli("checkout", "data", expect=1)  # b is missing for real
    assert "not in the cache" in result.err and "data/b.txt" in result.err
    assert store.has(good) and store.has(manifest) and not moved.exists()
    assert (store.object_path(good).stat().st_mode & 0o777) == 0o444
    assert bad_copy.read_bytes() == b"B\n"


def test_fsck_restores_good_quarantined_objects_and_keeps_bad_ones(repo: Path, cli: Cli) -> None:
    from gitml.store.hashing import hash_bytes
    from gitml.store.objects import ObjectStore

    write(repo / "model.bin", "weights\n")
    cli("add", "model.bin")
    store = ObjectStore(_cache(repo))
    oid = hash_bytes(b"weights\n")
    store.quarantine(oid)
    junk = _cache(repo) / "quarantine" / f"{'ab' * 32}.1.000000"
    junk.write_bytes(b"not what its name says")
    result = cli("fsck")
    assert f"restored {oid[:12]} from quarantine" in result.out
    assert store.object_path(oid).read_bytes() == b"weights\n"
    assert junk.exists()


# -- the cache's own layout: a fan-out folder replaced by a file ----------------


def test_fanout_folder_replaced_by_a_file_is_reported_not_a_crash(
    repo: Path, cli: Cli, tmp_path: Path
) -> None:
    from gitml.store.hashing import hash_bytes

    write(repo / "model.bin", "weights\n")
    cli("add", "model.bin")
    oid = hash_bytes(b"weights\n")
    fanout = _cache(repo) / oid[:2]
    os.rename(fanout, tmp_path / "fanout-away")
    fanout.write_text("a file where a folder should be\n")
    result = cli("fsck", expect=1)
    assert f"damaged cache: {fanout} is not a folder" in result.out
    assert "hint: move each out of the cache" in result.out
    (repo / "model.bin").unlink()
    hint = f"hint: move it out of the cache (mv {fanout} {fanout}.damaged), then gitml fsck"
    result = cli("checkout", "model.bin", expect=3)
    assert clean_failure(result.code, result.err), result.err
    assert f"error: the cache folder {fanout} is not a folder" in result.err
    assert hint in result.err
    other = b"other weights\n"
    other_oid = hash_bytes(other)
    (_cache(repo) / other_oid[:2]).unlink(missing_ok=True)
    if not (_cache(repo) / other_oid[:2]).exists():
        (_cache(repo) / other_oid[:2]).write_text("junk\n")
    write(repo / "other.bin", other)
    result = cli("add", "other.bin", expect=3)
    assert clean_failure(result.code, result.err), result.err
    assert f"the cache folder {_cache(repo) / other_oid[:2]} is not a folder" in result.err
    # the hint works
    os.rename(fanout, f"{fanout}.damaged")
    os.rename(tmp_path / "fanout-away", fanout)
    if fanout != _cache(repo) / other_oid[:2]:
        os.rename(_cache(repo) / other_oid[:2], tmp_path / "other-junk")
    cli("fsck")
    cli("checkout", "model.bin")
    cli("add", "other.bin")


# -- item 6: modes outside the cache never change; private files stay private ---


def _object(repo: Path, data: bytes) -> Path:
    from gitml.store.hashing import hash_bytes

    oid = hash_bytes(data)
    return _cache(repo) / oid[:2] / oid[2:]


@pytest.mark.parametrize("size", [100, 2 << 20])  # read whole / hashed through mmap
def test_hardlink_mode_never_chmods_an_inode_that_lives_outside(
    repo: Path, cli: Cli, tmp_path: Path, size: int
) -> None:
    set_link(repo, "hardlink")
    data = os.urandom(size)
    write(repo / "data/shared.bin", data)
    os.chmod(repo / "data/shared.bin", 0o640)
    outside = tmp_path / "elsewhere.bin"
    os.link(repo / "data/shared.bin", outside)  # the user's own second name
    write(repo / "data/own.bin", b"only here\n")
    cli("add", "data")
    assert os.stat(outside).st_mode & 0o777 == 0o640  # the old code made it 0444
    obj = _object(repo, data)
    assert os.stat(obj).st_ino != os.stat(outside).st_ino  # copied, not linked
    with open(outside, "r+b") as fh:  # the user edits their file later
        fh.write(b"edited")
    assert obj.read_bytes() == data  # the cache is not touched by it
    assert cli("fsck").code == 0
    # a file with no other name is still linked, as hardlink mode promises
    own = _object(repo, b"only here\n")
    assert os.stat(own).st_ino == os.stat(repo / "data/own.bin").st_ino


@pytest.mark.parametrize("link", ["copy", "hardlink"])
@pytest.mark.parametrize("size", [100, 2 << 20])
def test_a_private_file_gets_no_world_readable_copy_in_the_cache(
    repo: Path, cli: Cli, link: str, size: int
) -> None:
    set_link(repo, link)
    data = os.urandom(size)
    write(repo / "secret.bin", data)
    os.chmod(repo / "secret.bin", 0o600)
    write(repo / "group.bin", b"group readable\n")
    os.chmod(repo / "group.bin", 0o640)
    write(repo / "public.bin", b"public\n")
    os.chmod(repo / "public.bin", 0o644)
    cli("add", "secret.bin", "group.bin", "public.bin")
    assert os.stat(_object(repo, data)).st_mode & 0o777 == 0o400
    assert os.stat(_object(repo, b"group readable\n")).st_mode & 0o777 == 0o440
    assert os.stat(_object(repo, b"public\n")).st_mode & 0o777 == 0o444
    # checkout (copy mode) restores the documented workspace modes: 0644
    if link == "copy":
        (repo / "secret.bin").unlink()
        cli("checkout", "secret.bin")
        assert (repo / "secret.bin").read_bytes() == data
        assert os.stat(repo / "secret.bin").st_mode & 0o777 == 0o644


def test_a_private_copy_narrows_an_object_that_already_existed(repo: Path, cli: Cli) -> None:
    write(repo / "a/public.txt", "same bytes\n")
    cli("add", "a/public.txt")
    assert os.stat(_object(repo, b"same bytes\n")).st_mode & 0o777 == 0o444
    write(repo / "b/private.txt", "same bytes\n")
    os.chmod(repo / "b/private.txt", 0o600)
    cli("add", "b/private.txt")
    assert os.stat(_object(repo, b"same bytes\n")).st_mode & 0o777 == 0o400


# -- one-line errors: PATH_MAX, a full disk at the lock ---------------------------


def test_a_path_longer_than_path_max_is_refused_before_anything_is_written(
    repo: Path, cli: Cli
) -> None:
    from gitml.store.objects import ObjectStore

    deep = "/".join(["d" * 200] * 21) + "/f.txt"  # 4,000+ bytes: parts are fine, the whole is not
    store = ObjectStore(_cache(repo))
    with store.batch() as batch:
        blob = batch.add_bytes(b"evil\n")
        ok = batch.add_bytes(b"fine\n")
        records = sorted([(deep, blob), ("a.txt", ok)])
        raw = b"gitml-manifest 1\n" + b"".join(
            f"{oid} f 5 {path}".encode() + b"\0" for path, oid in records
        )
        oid = batch.add_bytes(raw)
    (repo / "data.gitml").write_text(
        f'gitml: 1\nkind: dir\npath: "data"\nhash: blake3\noid: {oid}\nsize: 10\nnfiles: 2\n'
    )
    git(repo, "add", "data.gitml")
    result = cli("checkout", "data", expect=3)
    assert clean_failure(result.code, result.err), result.err
    assert "error: data.gitml names a path of 4231 bytes" in result.err
    assert "longer than this system allows" in result.err
    assert "hint: check it out in a folder with a shorter path" in result.err
    assert not (repo / "data").exists()  # the old code wrote it, then status crashed on it
    assert not (repo / ".gitml/checkout.journal").exists()


def test_a_full_disk_while_writing_the_lock_holder_is_a_one_line_error(
    repo: Path, cli: Cli
) -> None:
    write(repo / "model.bin", "weights\n")
    for args in (["add", "model.bin"], ["checkout"]):
        proc = run_limited(repo, 0, *args)  # no byte can be written to any file
        assert proc.returncode == 3, proc.stderr
        assert clean_failure(proc.returncode, proc.stderr), proc.stderr
        assert f"error: cannot write the lock file {repo}/.gitml/lock: File too large" in (
            proc.stderr
        )
        assert "hint: free some disk space and run the command again" in proc.stderr
    cli("add", "model.bin")  # with room again, it works


def test_monitor_never_deletes_a_metrics_file_outside_the_repository(
    repo: Path, cli: Cli, tmp_path: Path
) -> None:
    from tests.pipelines.conftest import YAML, write_project

    victim = tmp_path / "victim.json"
    victim.write_text("someone else's file\n")
    write_project(repo, YAML.replace("metrics: metrics/eval.json", "metrics: ../victim.json"))
    cli("repro")
    write(repo / "incoming/batch.txt", "0.9 batch\n")
    args = ("monitor", "m", "--data", "incoming", "--metric", "accuracy", "--min", "0.5")
    result = cli(*args, expect=3)
    assert clean_failure(result.code, result.err), result.err
    assert "'../victim.json' has an empty, '.' or '..' part" in result.err
    assert victim.read_text() == "someone else's file\n"  # the old code deleted it first
