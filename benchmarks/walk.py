"""Baseline: the least a ``status`` must do, a bare ``os.scandir`` + ``lstat`` walk.

Run as its own process (``python benchmarks/walk.py DIR``) so interpreter start-up is
counted, as it is for the tools. Prints the number of files and bytes.
"""

from __future__ import annotations

import os
import sys


def walk(root: str) -> tuple[int, int]:
    files = 0
    nbytes = 0
    stack = [root]
    while stack:
        top = stack.pop()
        with os.scandir(top) as it:
            for entry in it:
                st = entry.stat(follow_symlinks=False)  # lstat
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    files += 1
                    nbytes += st.st_size
    return files, nbytes


if __name__ == "__main__":
    n, b = walk(sys.argv[1])
    print(f"{n} files, {b} bytes")
