"""Writing a checkout's files, big ones on a few threads.

Big files spend their time in the kernel's copy and in BLAKE3, both outside
the GIL, so they are written side by side (see :func:`threads` for when, and
what was measured). The files are cut into runs of consecutive paths (at
most ``_RUN_BYTES`` bytes, so a big file is a run of its own), and a small
pool writes runs side by side, each with its own ``Folders`` (descriptors
are never shared between threads). The results are put back in path order;
the first error stops every worker before its next file and is raised.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from gitml.errors import CorruptObjectError, SizeMismatchError
from gitml.faults import fault_point
from gitml.progress import Reporter
from gitml.store.objects import ObjectStore
from gitml.store.stat_index import StatRow
from gitml.workspace.compare import Sized
from gitml.workspace.materialize import Folders
from gitml.workspace.pointer import pointer_name

_RUN_FILES = 128
_RUN_BYTES = 32 << 20
_MIN_PARALLEL = 2 * _RUN_FILES  # fewer files than this: one thread, no pool
Run = list[tuple[str, Sized]]  # (repo-relative path, object)


def threads(writes: dict[str, Sized]) -> int:
    """Workers: GITML_CHECKOUT_THREADS if set, else one per core (at most 4) when
    the files average 1 MiB or more, else 1.

    Big files spend their time in copy_file_range and BLAKE3, which release
    the GIL: on the 2-core reference machine two workers took 8 x 256 MiB
    from ~3.8-7.8 s to ~3.0-3.2 s. Small files are a dozen short system calls
    each, and every one hands the GIL over: two threads on 100,000 files took
    ~50% more CPU time (user and sys) for the same or a longer wall time
    (13.5-14.5 s against 12.4-14.6 s), three or four threads longer still.
    """
    env = os.environ.get("GITML_CHECKOUT_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    if not writes or sum(w.size for w in writes.values()) < len(writes) << 20:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def runs(tracked: str, writes: dict[str, Sized]) -> Iterator[Run]:
    """Consecutive files in runs of at most _RUN_BYTES bytes and 2 × _RUN_FILES
    files, cut where the folder changes once a run has _RUN_FILES / 2 files
    (two threads creating files in one folder wait for each other's lock)."""
    run: Run = []
    size = 0
    folder = ""
    for rel, want in writes.items():
        full = f"{tracked}/{rel}" if rel else tracked
        parent = full.rpartition("/")[0]
        if run and (
            size + want.size > _RUN_BYTES
            or len(run) >= 2 * _RUN_FILES
            or (parent != folder and len(run) >= _RUN_FILES // 2)
        ):
            yield run
            run, size = [], 0
        run.append((full, want))
        size += want.size
        folder = parent
    if run:
        yield run


class Writer:
    """Writes runs of files into the workspace below ``root``."""

    def __init__(self, store: ObjectStore, root: Path, link: str, tracked: str) -> None:
        self.store, self.root, self.link, self.tracked = store, root, link, tracked
        self.stop = threading.Event()

    def write_run(self, run: Run) -> list[StatRow]:
        """Write one run (new names directly, existing ones by temp + rename)."""
        store, link, stop = self.store, self.link, self.stop
        rows: list[StatRow] = []
        folders = Folders(self.root)
        try:
            for full, want in run:
                if stop.is_set():
                    break
                parent_rel, _, name = full.rpartition("/")
                dir_fd = folders.fd(parent_rel)
                try:
                    st = store.create(
                        want.oid, dir_fd, name, link=link, executable=want.executable,
                        size=want.size, display=full,
                    )  # fmt: skip
                    if st is None:  # something is there: replace it, never write through it
                        st = store.create(
                            want.oid, dir_fd, name, link=link, executable=want.executable,
                            size=want.size, display=full, replace=True,
                        )  # fmt: skip
                except SizeMismatchError as exc:
                    ptr = pointer_name(self.tracked)
                    raise SizeMismatchError(
                        f"{ptr} says {full} is {exc.expected} bytes, object {want.oid[:12]} "
                        f"has {exc.actual}: the pointer is wrong (the object is intact)",
                        f"gitml add {self.tracked} records the data again, or fix {ptr} "
                        f"(git checkout -- {ptr}, or redo the merge)",
                        actual=exc.actual,
                        expected=exc.expected,
                    ) from None
                except CorruptObjectError as exc:
                    raise CorruptObjectError(
                        f"{exc.message}; needed by {pointer_name(self.tracked)} for {full}",
                        "the object was moved to the quarantine folder; "
                        "gitml pull fetches a good copy",
                    ) from None
                assert st is not None
                fault_point("checkout.after-file")
                rows.append(StatRow.of(full, st, want.oid))
        except BaseException:
            stop.set()
            raise
        finally:
            folders.close()
        return rows


def write_files(
    store: ObjectStore,
    root: Path,
    link: str,
    tracked: str,
    writes: dict[str, Sized],
    reporter: Reporter,
) -> list[StatRow]:
    """Write every file of ``writes`` (relpath → object); stat rows in path order."""
    writer = Writer(store, root, link, tracked)
    all_runs = list(runs(tracked, writes))
    rows: list[StatRow] = []
    workers = threads(writes)
    if workers == 1 or len(writes) < _MIN_PARALLEL or len(all_runs) < 2:
        for run in all_runs:
            rows += writer.write_run(run)
            reporter.advance("checkout", len(run), 0)
        return rows
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gitml-checkout")
    try:
        futures: list[Future[list[StatRow]]] = [pool.submit(writer.write_run, r) for r in all_runs]
        for run, future in zip(all_runs, futures, strict=True):
            rows += future.result()
            reporter.advance("checkout", len(run), 0)
    except BaseException:
        writer.stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return rows
