"""`make demo`: the whole gitml story on a real git repository in a temp folder.

Every step runs the real `gitml` command line, prints it, and checks the
outcome; the demo fails loudly (non-zero exit) if anything is off.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
GITML = [sys.executable, "-m", "gitml"]


class Demo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Demo",
            "GIT_AUTHOR_EMAIL": "demo@example.com",
            "GIT_COMMITTER_NAME": "Demo",
            "GIT_COMMITTER_EMAIL": "demo@example.com",
        }

    def run(self, *args: str, expect: int = 0, cwd: Path | None = None, show: bool = True) -> str:
        shown = " ".join(
            ("gitml" if a == "-m" else a) for a in args if a not in (sys.executable, "gitml")
        )
        if show:
            print(f"\n$ {shown}", flush=True)
        proc = subprocess.run(
            list(args), cwd=cwd or self.root, env=self.env, text=True, capture_output=True
        )
        output = (proc.stdout + proc.stderr).rstrip()
        if show and output:
            print(output, flush=True)
        if proc.returncode != expect:
            raise SystemExit(f"demo failed: `{shown}` exited {proc.returncode}, expected {expect}")
        return proc.stdout

    def gitml(self, *args: str, expect: int = 0, cwd: Path | None = None) -> str:
        return self.run(*GITML, *args, expect=expect, cwd=cwd)

    def git(self, *args: str, show: bool = True, cwd: Path | None = None) -> str:
        return self.run("git", *args, show=show, cwd=cwd)

    def python(self, *args: str, cwd: Path | None = None) -> str:
        return self.run(sys.executable, *args, cwd=cwd)


def digest(path: Path) -> str:
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(path)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"demo failed: {what}")
    print(f"  ✓ {what}", flush=True)


def chapter(title: str) -> None:
    print(f"\n{'=' * 70}\n{title}\n{'=' * 70}", flush=True)


def snapshots(demo: Demo) -> None:
    chapter("1. Snapshots: add, commit, change, status, diff, checkout")
    root = demo.root
    demo.git("init", "-q", "-b", "main")
    demo.gitml("init")
    demo.python("src/generate.py", "--rows", "3000", "--out", "data/raw/customers.parquet")
    demo.gitml("add", "data/raw")
    demo.git("commit", "-qm", "v1 data")
    v1 = digest(root / "data/raw")
    demo.python(
        "src/generate.py", "--rows", "3500", "--seed", "7", "--out", "data/raw/customers.parquet"
    )
    demo.gitml("status")
    demo.gitml("add", "data/raw")
    demo.git("commit", "-qm", "v2 data")
    demo.gitml("diff", "HEAD~1", "HEAD")
    demo.git("checkout", "HEAD~1", "--", "data/raw.gitml")
    demo.gitml("status")
    demo.gitml("checkout", "data/raw")
    check(digest(root / "data/raw") == v1, "data/raw is byte-identical to v1 again")
    demo.git("checkout", "HEAD", "--", "data/raw.gitml")
    demo.gitml("checkout", "data/raw")


def guards_demo(demo: Demo) -> None:
    chapter("2. Guards: a commit with bad data is blocked by the pre-commit hook")
    root = demo.root
    demo.python("src/prepare.py")
    demo.python("src/train.py")
    demo.gitml("add", "data/prepared", "models/churn.pkl")
    demo.git("add", "gitml.yaml", "params.yaml", "src", "checks", "metrics", "README.md")
    demo.git("commit", "-qm", "churn model v1 (guards pass)")
    demo.python(
        "src/generate.py",
        "--rows",
        "3600",
        "--seed",
        "11",
        "--corrupt",
        "--out",
        "data/raw/customers.parquet",
    )
    demo.gitml("add", "data/raw")
    head = demo.git("rev-parse", "HEAD", show=False)
    demo.run("git", "commit", "-m", "new data (corrupt)", expect=1)
    check(
        demo.git("rev-parse", "HEAD", show=False) == head,
        "the commit was blocked; HEAD did not move",
    )
    demo.python(
        "src/generate.py", "--rows", "3600", "--seed", "11", "--out", "data/raw/customers.parquet"
    )
    demo.gitml("add", "data/raw")
    demo.git("commit", "-qm", "new data (fixed)")
    demo.gitml("show")
    note = demo.run(*GITML, "show", "--json", show=False)
    check('"verified": true' in note, "the commit carries verified metadata in its git note")
    demo.gitml("log", "--metrics")
    del root


def registry_demo(demo: Demo) -> str:
    chapter("3. Pipeline and registry: repro, register v1, promote it to prod")
    demo.gitml("dag")
    demo.gitml("repro")
    demo.git("add", "-A")
    demo.git("commit", "-qm", "pipeline run", "--allow-empty")
    demo.gitml("register", "churn", "-m", "first model")
    demo.gitml("promote", "churn@v1", "prod")
    demo.gitml("models")
    return digest(demo.root / "models/churn.pkl")


def monitor_demo(demo: Demo, v1: str) -> None:
    chapter("4. Monitoring: drifted data arrives, accuracy drops, retrain, v2 registered")
    demo.python(
        "src/generate.py",
        "--rows",
        "2000",
        "--seed",
        "3",
        "--drift",
        "1.0",
        "--out",
        "incoming/drifted.parquet",
    )
    demo.gitml(
        "monitor",
        "churn",
        "--data",
        "incoming/drifted.parquet",
        "--metric",
        "accuracy",
        "--min",
        "0.8",
        expect=1,
    )
    demo.gitml(
        "monitor",
        "churn",
        "--data",
        "incoming/drifted.parquet",
        "--metric",
        "accuracy",
        "--min",
        "0.8",
        "--retrain",
        "--register",
        expect=10,
    )
    demo.gitml("models")
    check(digest(demo.root / "models/churn.pkl") != v1, "the workspace holds the retrained model")
    demo.gitml("checkout", "churn@v1", "-o", "restored-v1.pkl")
    check(
        digest(demo.root / "restored-v1.pkl") == v1,
        "gitml checkout churn@v1 restores v1 byte for byte",
    )
    (demo.root / "restored-v1.pkl").unlink()


def remotes_demo(demo: Demo) -> None:
    chapter("5. Remotes: push to a folder remote; a fresh clone restores everything")
    root = demo.root
    shared = root.parent / "team"
    shared.mkdir()
    demo.git("init", "-q", "--bare", "-b", "main", str(shared / "repo.git"), show=False)
    demo.git("remote", "add", "origin", str(shared / "repo.git"))
    demo.gitml("remote", "add", "origin", str(shared / "data"))
    demo.git("add", ".gitml/config.toml")
    demo.git("commit", "-qm", "data remote")
    demo.git("push", "-q", "origin", "main")
    demo.gitml("push")
    clone = root.parent / "clone"
    demo.git("clone", "-q", "-b", "main", str(shared / "repo.git"), str(clone))
    demo.gitml("pull", cwd=clone)
    for path in ("data/raw", "data/prepared", "models/churn.pkl"):
        check(digest(clone / path) == digest(root / path), f"{path} is byte-identical in the clone")
    demo.gitml("models", cwd=clone)
    demo.gitml("checkout", "churn@v1", "-o", "v1.pkl", cwd=clone)
    check((clone / "v1.pkl").exists(), "the clone restores churn@v1 from the remote alone")


def anywhere_demo(demo: Demo) -> None:
    chapter("6. From anywhere: another repository imports the data and loads the model")
    root = demo.root
    app = root.parent / "app"
    app.mkdir()
    demo.git("init", "-q", "-b", "main", cwd=app, show=False)
    demo.gitml("init", "--no-hooks", cwd=app)
    demo.gitml("ls", str(root), "data", cwd=app)
    demo.gitml("import", str(root), "data/raw", "--rev", "churn#prod", cwd=app)
    check(digest(app / "raw") == digest_at(demo, "churn#prod", "data/raw"),
          "the import is the data of the prod model's commit")  # fmt: skip
    check("source_commit:" in (app / "raw.gitml").read_text(), "its pointer records the source")
    demo.gitml("get", str(root), "models/churn.pkl", "--rev", "churn@v1", "-o", "v1.pkl", cwd=app)
    code = (
        "import sys, gitml, pyarrow.parquet as pq\n"
        "repo = sys.argv[1]\n"
        "listing = gitml.ls(repo, 'data/raw', rev='churn@v1', recursive=True)\n"
        "first = [e.path for e in listing.entries if e.kind == 'file'][0]\n"
        "with gitml.open(first, rev='churn@v1', repo=repo) as f:  # streamed, verified\n"
        "    rows = pq.read_table(f).num_rows\n"
        "print('metrics', sorted(gitml.metrics('churn#prod', repo=repo)), 'rows', rows)\n"
    )
    (app / "notebook.py").write_text(code)
    print(f"\n# notebook.py\n{code}", end="")
    out = demo.python("notebook.py", str(root), cwd=app)
    check("accuracy" in out and "rows" in out, "gitml.open and gitml.metrics read its versions")


def digest_at(demo: Demo, rev: str, path: str) -> str:
    """The digest of ``path`` as committed at ``rev`` (checked out elsewhere)."""
    out = demo.root.parent / "at-rev"
    shutil.rmtree(out, ignore_errors=True)
    demo.gitml("checkout", f"{path}@{rev}", "-o", str(out))
    return digest(out)


def main() -> None:
    keep = "--keep" in sys.argv
    tmp = Path(tempfile.mkdtemp(prefix="gitml-demo-"))
    root = tmp / "churn"
    shutil.copytree(
        HERE / "churn",
        root,
        ignore=shutil.ignore_patterns("data", "models", "metrics", "__pycache__"),
    )
    demo = Demo(root)
    print(f"Demo repository: {root}")
    try:
        snapshots(demo)
        guards_demo(demo)
        v1 = registry_demo(demo)
        monitor_demo(demo, v1)
        remotes_demo(demo)
        anywhere_demo(demo)
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("\nDemo complete: every check passed.")


if __name__ == "__main__":
    main()
