"""The pipeline row: `gitml repro -j 2` of 4 independent stages vs the same run serially.

Each stage sleeps (5 s at --scale >= 0.1, never less than 0.5 s), so the row
measures gitml's scheduling, not the machine: serial is 4 stage-lengths plus
gitml's own work, `-j 2` should be 2 stage-lengths plus the same work
(target: <= 0.6x serial). Both runs use --force (the run cache would make the
second one free).
"""

from __future__ import annotations

from typing import Any

STAGES = 4
STAGE = (
    "  s{i}:\n"
    "    cmd: python -c \"import time; time.sleep({sec}); open('out-{i}.txt', 'w').write('{i}')\"\n"
    "    outs: [out-{i}.txt]\n"
)


def stage_seconds(scale: float) -> float:
    return min(5.0, max(0.5, 50.0 * scale))


def pipeline_yaml(seconds: float) -> str:
    return "stages:\n" + "".join(STAGE.format(i=i, sec=seconds) for i in range(STAGES))


def run_pipeline(ctx: Any, new_repeat: Any, rm_tree: Any) -> None:
    """Measure serial and `-j 2` repro, ``ctx.args.repeat`` times each (gitml only)."""
    from bench_data import Dataset
    from bench_tools import SetupError

    gitml = next((t for t in ctx.tools if t.name == "gitml"), None)
    if gitml is None:
        return
    seconds = stage_seconds(ctx.args.scale)
    ds = Dataset("pipeline", 0, 0, ctx.workdir, 0, 0)
    for rep in range(ctx.args.repeat):
        if ctx.out_of_time():
            break
        r = new_repeat(ctx, ds, rep, f"pipeline-r{rep}", [gitml])
        repo = r.repos["gitml"]
        try:
            r.sh.run(["git", "init", "-q"], repo, "git init")
            r.sh.run([*gitml.cmd, "init", "--no-hooks"], repo, "gitml init")
            (repo / "gitml.yaml").write_text(pipeline_yaml(seconds))
            r.sh.run([*gitml.cmd, "repro"], repo, "first repro")  # warm: imports, folders
        except SetupError as exc:
            ctx.notes.append(f"- pipeline r{rep}: setup failed: {exc}")
            continue
        r.step("repro_serial", "baseline", [*gitml.cmd, "repro", "--force"], repo)
        r.step("repro_j2", "gitml", [*gitml.cmd, "repro", "--force", "-j", "2"], repo)
        if not ctx.args.keep:
            rm_tree(ctx, r.rundir)
    ctx.notes.append(
        f"- pipeline: {STAGES} independent stages of {seconds:g} s each (sleep); "
        "the baseline is the same `gitml repro --force` without -j."
    )
