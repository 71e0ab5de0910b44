"""Stands in for ``python -m gitml hook NAME ARGS`` in tests/git/test_hooks.py.

It runs the real chaining (:func:`gitml.git.hookchain.run_chained`: loop guard,
the previous hook) with gitml's work replaced by a line in a log, so a test sees
which hooks ran, in which order, with which arguments and stdin.
Usage: fake_hook_python.py LOG -m gitml hook NAME ARGS...
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gitml.git.hookchain import run_chained


def main() -> int:
    log, argv = sys.argv[1], sys.argv[2:]

    def work(refs: bytes | None) -> int:
        with open(log, "a") as fh:
            fh.write("gitml " + " ".join(argv) + "\n")
            for line in (refs or b"").decode().splitlines():
                fh.write(f"stdin: {line}\n")
        return int(os.environ.get("FAKE_GITML_STATUS", "0"))

    return run_chained(argv[3], argv[4:], work)


if __name__ == "__main__":
    sys.exit(main())
