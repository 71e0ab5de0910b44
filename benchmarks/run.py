"""gitml vs DVC benchmark: one command, same data, fresh repositories, medians.

    .venv/bin/python benchmarks/run.py [--scale 0.1] [--repeat 3]
        [--only many|big|pipeline|chunks|rows|review] [--remotes]

See docs/PERFORMANCE.md for the method. Both tools run as subprocesses (their start-up
counts); nothing here imports gitml or dvc. A failing step is recorded as an error and
the run goes on; every child has a timeout and the whole run has a time budget.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bench_cli import METHOD_NOTES, parse_args
from bench_data import Dataset, build, modify_one, verify
from bench_env import (
    cmd_version,
    fs_type,
    host_summary,
    load_average,
    log,
    make_env,
    start_background_cleanup,
    start_s3,
    wait_previous_cleanup,
)
from bench_pipeline import run_pipeline
from bench_proc import USE_GNU_TIME, Sample, measure
from bench_report import Results, build_rows, render, write_json
from bench_tools import Dvc, Gitml, SetupError, Shell, Tool, git_commit

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
WALK = HERE / "walk.py"
RACY_WAIT = 1.5  # seconds between writing the data and `add` (mtime racy-clean rule)


@dataclass
class Ctx:
    args: argparse.Namespace
    workdir: Path
    tools: list[Tool]
    python: str
    base_env: dict[str, str]
    deadline: float
    started: float
    results: Results = field(default_factory=Results)
    notes: list[str] = field(default_factory=list)
    s3_endpoint: str | None = None
    drop_ok: bool | None = None
    load_at_start: str = field(default_factory=lambda: load_average())

    @property
    def runs(self) -> Path:
        return self.workdir / "runs"

    @property
    def trash(self) -> Path:
        return self.workdir / "trash"

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    def env_for(self, rundir: Path) -> dict[str, str]:
        env = dict(self.base_env)
        env["DVC_SITE_CACHE_DIR"] = str(rundir / "dvc-site-cache")
        return env

    def dvc_repeats(self, ds: Dataset) -> int:
        if self.args.dvc_repeat is not None:
            return min(int(self.args.repeat), int(self.args.dvc_repeat))
        if ds.kind == "many" and ds.scale >= 0.5:
            return 1
        return int(self.args.repeat)

    def stamp(self) -> str:
        s = int(time.monotonic() - self.started)
        return f"[{s // 60:02d}:{s % 60:02d}]"


def drop_caches(ctx: Ctx) -> None:
    """Optional (--drop-caches): ask the kernel to drop the page cache before a step."""
    if not ctx.args.drop_caches or ctx.drop_ok is False:
        return
    try:
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
        ctx.drop_ok = True
    except OSError as exc:
        ctx.drop_ok = False
        ctx.notes.append(f"- --drop-caches was asked for but failed ({exc}); caches stayed warm.")


@dataclass
class Repeat:
    """One repeat of one dataset: fresh repos, the tools still healthy, a Shell."""

    ctx: Ctx
    ds: Dataset
    rep: int
    rundir: Path
    env: dict[str, str]
    sh: Shell
    tools: list[Tool]
    repos: dict[str, Path] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)
    label: str = ""

    def step(
        self,
        op: str,
        side: str,
        argv: Sequence[str],
        cwd: Path,
        *,
        ok_codes: tuple[int, ...] = (0,),
        check: Callable[[], str | None] | None = None,
    ) -> Sample:
        ctx = self.ctx
        load1 = os.getloadavg()[0]
        if side in self.broken:
            sample = Sample(None, None, f"not run: {self.broken[side]}")
        elif ctx.out_of_time():
            sample = Sample(None, None, "not run: time budget used up")
        else:
            os.sync()
            drop_caches(ctx)
            prefix = ctx.logs / f"{self.label}-{side}-{op}"
            sample = measure(
                argv,
                cwd=cwd,
                env=self.env,
                timeout=ctx.args.timeout,
                log_prefix=prefix,
                ok_codes=ok_codes,
            )
            if sample.ok and check is not None:
                problem = check()
                if problem:
                    sample = Sample(None, sample.peak_kib, f"wrong result: {problem}")
        ctx.results.add(op, self.ds.kind, side, self.rep, sample, load1)
        if sample.ok:
            peak = (sample.peak_kib or 0) / 1024
            log(
                f"{ctx.stamp()} {self.label} {side:8s} {op:14s} {sample.seconds:8.2f} s"
                f" {peak:7.0f} MiB"
            )
        else:
            log(f"{ctx.stamp()} {self.label} {side:8s} {op:14s} ERROR {sample.error}")
        return sample

    def each_tool(
        self,
        op: str,
        argv_of: Callable[[Tool], list[str]],
        *,
        ok_codes: tuple[int, ...] = (0,),
        check: Callable[[Tool], str | None] | None = None,
        breaks: bool = False,
    ) -> None:
        for tool in self.tools:

            def chk(t: Tool = tool) -> str | None:
                return check(t) if check else None

            s = self.step(
                op, tool.name, argv_of(tool), self.repos[tool.name], ok_codes=ok_codes, check=chk
            )
            if breaks and not s.ok and tool.name not in self.broken:
                self.broken[tool.name] = f"{op} failed"

    def setup(self, what: str, tool: Tool, fn: Callable[[], object]) -> None:
        """Run an unmeasured setup action; a failure marks the tool broken for this repeat."""
        if tool.name in self.broken:
            return
        try:
            fn()
        except (SetupError, OSError) as exc:
            self.broken[tool.name] = f"{what} failed: {exc}"
            log(f"{self.ctx.stamp()} {self.label} {tool.name:8s} setup: {self.broken[tool.name]}")

    def trash(self, path: Path) -> None:
        """Move a tree out of the way (instant); it is deleted with the run folder."""
        if path.exists():
            dest = self.rundir / "trash" / f"{time.monotonic_ns()}-{path.name}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            path.rename(dest)


def rm_tree(ctx: Ctx, path: Path, *, defer: bool = False) -> None:
    """Delete a tree now, or (``defer``) move it to the trash deleted after the run.

    Deleting 100,000 files takes 20 s to minutes on this disk (ext4 mounted with
    ``discard``), so trees of small files are deleted once, in the background, after
    the report is written, never while something is measured.
    """
    if not path.exists():
        return
    if defer:
        ctx.trash.mkdir(parents=True, exist_ok=True)
        path.rename(ctx.trash / f"{time.monotonic_ns()}-{path.name}")
        return
    subprocess.run(["rm", "-rf", "--", str(path)], check=False, timeout=max(ctx.args.timeout, 600))


def new_repeat(ctx: Ctx, ds: Dataset, rep: int, name: str, tools: list[Tool]) -> Repeat:
    rundir = ctx.runs / name
    rm_tree(ctx, rundir)
    rundir.mkdir(parents=True)
    env = ctx.env_for(rundir)
    sh = Shell(env, ctx.args.timeout, ctx.logs / name)
    r = Repeat(ctx, ds, rep, rundir, env, sh, tools, label=name)
    for tool in tools:
        repo = rundir / tool.name
        repo.mkdir()
        r.repos[tool.name] = repo
    return r


def copy_data(r: Repeat, *, measure_first: bool) -> None:
    """Copy the dataset into each repo as ``data/``; the first copy is the cp -r baseline."""
    src = str(r.ds.path)
    for i, tool in enumerate(r.tools):
        dest = str(r.repos[tool.name] / "data")
        if i == 0 and measure_first:
            r.step(
                "cp",
                "baseline",
                ["sh", "-c", 'cp -r -- "$1" "$2" && sync', "sh", src, dest],
                r.rundir,
            )
        if not os.path.exists(dest):
            r.sh.run(["cp", "-r", "--", src, dest], r.rundir, "copy data")
    os.sync()
    time.sleep(RACY_WAIT)


def commit(r: Repeat, message: str) -> None:
    """Commit the pointer files (not measured; a failure is noted, not fatal)."""
    for tool in r.tools:
        if tool.name in r.broken:
            continue
        try:
            git_commit(r.sh, r.repos[tool.name], message)
        except SetupError as exc:
            note = f"- {r.label} {tool.name}: git commit failed: {exc}"
            r.ctx.notes.append(note)
            log(note)


def status_says(r: Repeat, op: str, *, modified: bool) -> Callable[[Tool], str | None]:
    """Check that a status run reported the change (or reported none)."""

    def check(tool: Tool) -> str | None:
        text = ""
        for ext in ("out", "err"):
            path = r.ctx.logs / f"{r.label}-{tool.name}-{op}.{ext}"
            if path.exists():
                text += path.read_text(errors="replace").lower()
        if ("modified" in text) != modified:
            return "status did not report the change" if modified else "status reported a change"
        return None

    return check


def pre_commit_clean(r: Repeat) -> None:
    """gitml's pre-commit hook with an unrelated file staged and no tracked data changed,
    next to a `gitml status` of the same tree (the forgotten-add check is that scan)."""
    tool = next((t for t in r.tools if t.name == "gitml"), None)
    if tool is None or tool.name in r.broken:
        return
    repo = r.repos[tool.name]
    (repo / "README.bench").write_text("unrelated change\n")
    r.sh.run(["git", "add", "README.bench"], repo, "stage an unrelated file")
    r.step("gitml_status", "baseline", tool.status(), repo, ok_codes=(0, 1))
    r.step("pre_commit_clean", "gitml", [*tool.cmd, "hook", "pre-commit"], repo)


def run_main_repeat(ctx: Ctx, ds: Dataset, rep: int) -> None:
    tools = [t for t in ctx.tools if not (t.name == "dvc" and rep >= ctx.dvc_repeats(ds))]
    if not tools:
        return
    r = new_repeat(ctx, ds, rep, f"{ds.kind}-r{rep}", tools)
    for tool in tools:
        r.setup("init", tool, partial(tool.init, r.sh, r.repos[tool.name], "copy"))
    copy_data(r, measure_first=True)
    first = r.repos[tools[0].name]

    def data_ok(modified: bool) -> Callable[[Tool], str | None]:
        return lambda t: verify(r.repos[t.name] / "data", ds, modified=modified)

    r.each_tool("add", lambda t: t.add(), breaks=True)
    commit(r, "track data")
    r.step("walk", "baseline", [ctx.python, str(WALK), str(first / "data")], r.rundir)
    r.each_tool(
        "status_clean",
        lambda t: t.status(),
        ok_codes=(0, 1),
        check=status_says(r, "status_clean", modified=False),
    )
    pre_commit_clean(r)
    for tool in tools:
        modify_one(r.repos[tool.name] / "data", ds)
    r.each_tool(
        "status_one",
        lambda t: t.status(),
        ok_codes=(0, 1),
        check=status_says(r, "status_one", modified=True),
    )
    r.each_tool("readd", lambda t: t.readd(), breaks=True)
    commit(r, "one change")
    for tool in tools:
        r.trash(r.repos[tool.name] / "data")
    r.each_tool("checkout", lambda t: t.checkout(), check=data_ok(True))

    if ctx.args.remotes:
        run_remote(r, "", lambda t: str(r.rundir / f"remote-{t.name}"), None, data_ok(True))
    if ctx.s3_endpoint:
        endpoint = ctx.s3_endpoint

        def s3_url(t: Tool) -> str:
            return f"s3://bench-{t.name}/{r.label}"

        run_remote(r, "_s3", s3_url, endpoint, data_ok(True))
    if not ctx.args.keep:
        rm_tree(ctx, r.rundir, defer=ds.kind == "many")


def run_remote(
    r: Repeat,
    suffix: str,
    url_of: Callable[[Tool], str],
    endpoint: str | None,
    check: Callable[[Tool], str | None],
) -> None:
    """push, no-op push, then pull into an empty cache and workspace."""
    for tool in r.tools:
        repo = r.repos[tool.name]
        if not (repo / "data").exists():  # checkout failed: put the data back for push
            restore = partial(r.sh.run, [*tool.checkout(), "--force"], repo, "checkout")
            r.setup("restore data", tool, restore)

        def add_remote(t: Tool = tool, p: Path = repo) -> None:
            url = url_of(t)
            if endpoint is None:
                Path(url).mkdir(parents=True, exist_ok=True)
            t.add_remote(r.sh, p, "s3" if endpoint else "local", url, endpoint)

        r.setup("remote add", tool, add_remote)
    r.each_tool(f"push{suffix}", lambda t: t.push())
    r.each_tool(f"push_noop{suffix}", lambda t: t.push())
    for tool in r.tools:
        r.trash(tool.cache_dir(r.repos[tool.name]))
        r.trash(r.repos[tool.name] / "data")
    r.each_tool(f"pull{suffix}", lambda t: t.pull(), check=check)


def run_hardlink_repeat(ctx: Ctx, ds: Dataset, rep: int) -> None:
    r = new_repeat(ctx, ds, rep, f"{ds.kind}-hardlink-r{rep}", list(ctx.tools))
    for tool in r.tools:
        r.setup("init", tool, partial(tool.init, r.sh, r.repos[tool.name], "hardlink"))
    copy_data(r, measure_first=False)
    r.each_tool(
        "add_hardlink",
        lambda t: t.add(),
        check=lambda t: verify(r.repos[t.name] / "data", ds, modified=False),
    )
    if not ctx.args.keep:
        rm_tree(ctx, r.rundir)


def run_help(ctx: Ctx) -> None:
    ds = Dataset("-", 0, 0, ctx.workdir, 0, 0)
    n = max(5, int(ctx.args.repeat))
    r = new_repeat(ctx, ds, 0, "help", [])
    for rep in range(n + 1):  # the first round warms the page cache and is not kept
        r.rep = rep - 1
        for tool in ctx.tools:
            argv = tool.help()
            if rep == 0:
                measure(
                    argv,
                    cwd=r.rundir,
                    env=r.env,
                    timeout=60,
                    log_prefix=ctx.logs / f"help-warm-{tool.name}",
                )
            else:
                r.step("help", tool.name, argv, r.rundir)
        if rep:
            r.step("python", "baseline", [ctx.python, "-c", "pass"], r.rundir)
    rm_tree(ctx, r.rundir)


def run_compare(ctx: Ctx, kinds: list[str], names: list[str]) -> str:
    """Issue 13's sections (row diff vs a pyarrow join, review) as Markdown."""
    from bench_rows import run_review, run_rows

    lines: list[str] = []
    for kind, fn in (("rows", run_rows), ("review", run_review)):
        if kind not in kinds or "gitml" not in names or ctx.out_of_time():
            continue
        a = ctx.args
        try:
            lines += fn(shlex.split(a.gitml), ctx.workdir, a.scale, a.seed, ctx.base_env,
                        a.timeout, ctx.logs)  # fmt: skip
        except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
            lines += [f"## {kind} (issue 13)", "", f"error: {exc}", ""]
        log(f"{ctx.stamp()} {kind} done")
    return "\n".join(lines)


def machine_facts(ctx: Ctx, datasets: list[Dataset]) -> dict[str, Any]:
    env = ctx.base_env
    tools = {t.name: t for t in ctx.tools}
    head = cmd_version(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], env)
    a = ctx.args
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": host_summary(),
        "filesystem": fs_type(ctx.workdir),
        "python": sys.version.split()[0],
        "dvc": cmd_version([*tools["dvc"].cmd, "--version"], env) if "dvc" in tools else "—",
        "gitml": (cmd_version([*tools["gitml"].cmd, "--version"], env) if "gitml" in tools else "—")
        + f" (repo HEAD {head})",
        "git": cmd_version(["git", "--version"], env),
        "scale": a.scale,
        "repeats": f"{a.repeat} (DVC on 'many': {ctx.dvc_repeats(datasets[0])})"
        if datasets and datasets[0].kind == "many"
        else str(a.repeat),
        "datasets": ", ".join(
            f"{d.kind}: {d.nfiles} files, {d.nbytes / 1e6:.0f} MB" for d in datasets
        ),
        "seed": a.seed,
        "load average at start (1/5/15 min)": ctx.load_at_start,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir: Path = args.workdir.resolve()
    started = time.monotonic()
    tools: list[Tool] = []
    names = [n.strip() for n in args.tools.split(",") if n.strip()]
    for n in names:
        if n == "gitml":
            tools.append(Gitml(shlex.split(args.gitml)))
        elif n == "dvc":
            tools.append(Dvc(shlex.split(args.dvc)))
        else:
            raise SystemExit(f"unknown tool {n!r}")
    shutil.rmtree(workdir / "logs", ignore_errors=True)
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    ctx = Ctx(
        args,
        workdir,
        tools,
        sys.executable,
        make_env(workdir),
        deadline=started + args.budget,
        started=started,
    )
    ctx.logs.mkdir(parents=True, exist_ok=True)
    wait_previous_cleanup(workdir)
    if args.s3:
        try:
            ctx.s3_endpoint = start_s3(ctx.base_env, [f"bench-{t.name}" for t in tools])
        except ImportError as exc:
            ctx.notes.append(f"- S3 section skipped: {exc}")

    kinds = args.only or ["many", "big", "chunks", "rows", "review"]
    datasets: list[Dataset] = []
    for kind in ["many", "big"]:
        if kind in kinds:
            t0 = time.monotonic()
            datasets.append(build(kind, args.scale, args.seed, workdir / "data"))
            log(
                f"{ctx.stamp()} dataset {kind}: {datasets[-1].nfiles} files, "
                f"{datasets[-1].nbytes / 1e6:.0f} MB ({time.monotonic() - t0:.1f} s)"
            )

    run_help(ctx)
    if not args.only or "pipeline" in args.only:
        run_pipeline(ctx, new_repeat, rm_tree)
    for ds in datasets:
        for rep in range(args.repeat):
            if ctx.out_of_time():
                break
            run_main_repeat(ctx, ds, rep)
            if ds.kind == "big":
                run_hardlink_repeat(ctx, ds, rep)

    chunk_section = ""
    if "chunks" in kinds and "gitml" in names and not ctx.out_of_time():
        from bench_chunks import run as run_chunks

        try:
            chunk_section = run_chunks(
                shlex.split(args.gitml),
                workdir,
                args.scale,
                args.seed,
                ctx.base_env,
                args.timeout,
                ctx.logs,
            )
        except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
            chunk_section = f"## Chunk dedup (issue 14)\n\nerror: {exc}\n"
        log(f"{ctx.stamp()} chunk dedup done")

    compare_section = run_compare(ctx, kinds, names)

    facts = machine_facts(ctx, datasets)
    facts["load average at end"] = load_average()
    loads = [r.load1 for r in ctx.results.records if r.load1 is not None]
    if loads:
        facts["1-min load average during measured steps"] = (
            f"{min(loads):.1f} to {max(loads):.1f} (median {statistics.median(loads):.1f})"
        )
    facts["wall time of this run"] = f"{time.monotonic() - started:.0f} s"
    notes = list(METHOD_NOTES) + ctx.notes
    if not USE_GNU_TIME:
        notes.append(
            "- /usr/bin/time (GNU) was not found: peaks come from the harness's wait4 and "
            "include the harness's own RSS as a floor."
        )
    if ctx.out_of_time():
        notes.append("- The time budget (--budget) ran out: some steps were not run.")
    rows = build_rows(ctx.results)
    text = render(facts, rows, ctx.results, notes)
    for section in (chunk_section, compare_section):
        if section:
            text = text.rstrip("\n") + "\n\n" + section
    out: Path = args.out or (workdir / "results.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    write_json(out.with_suffix(".json"), facts, rows, ctx.results)
    print(text)
    log(f"written {out} and {out.with_suffix('.json')}")
    start_background_cleanup(workdir, ctx.trash)
    return 0


if __name__ == "__main__":
    sys.exit(main())
