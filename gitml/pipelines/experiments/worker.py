"""One queued experiment in its own process.

``python -m gitml.pipelines.experiments.worker ROOT ENTRY``.

Started by :func:`gitml.pipelines.experiments.queue.run_all`; its output is
the experiment's log. Exit 0: ran and guards passed; 1: a stage failed or a
guard failed (recorded either way); 2: it could not be run (nothing recorded).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gitml.context import open_repo
from gitml.errors import GitmlError
from gitml.pipelines.experiments.queue import read_entry
from gitml.pipelines.experiments.run import run_experiment


def _echo(chunk: bytes) -> None:
    os.write(1, chunk)


def main(argv: list[str]) -> int:
    root, entry = Path(argv[0]), Path(argv[1])
    try:
        name, base, overrides, _when = read_entry(entry)
        ctx = open_repo(root)
        try:
            outcome = run_experiment(ctx, name, base, overrides, echo=_echo)
        finally:
            ctx.close()
            ctx.git.close()
    except GitmlError as exc:
        os.write(2, f"error: {exc.message}\n".encode())
        if exc.hint:
            os.write(2, f"hint: {exc.hint}\n".encode())
        return 2
    verdict = {None: "no guards", True: "guards passed", False: "guards FAILED"}[outcome.guards_ok]
    line = f"experiment {name}: {outcome.status}, {verdict}"
    os.write(
        1, (line + (f": {outcome.error.splitlines()[0]}" if outcome.error else "") + "\n").encode()
    )
    return 0 if outcome.status == "ok" and outcome.guards_ok is not False else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
