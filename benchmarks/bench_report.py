"""Targets, medians and the Markdown/JSON report."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench_proc import Sample

MB = 1_000_000
MIB = 1 << 20
MEMORY_LIMIT_MB = 150


@dataclass(frozen=True, slots=True)
class Target:
    dvc: float | None = None  # gitml <= dvc * DVC
    base: float | None = None  # gitml <= base * baseline
    abs_s: float | None = None  # gitml <= abs_s seconds
    abs_mb: float | None = None  # gitml peak <= abs_mb MB

    def text(self, base_label: str) -> str:
        parts = []
        if self.dvc is not None:
            parts.append(f"≤ {self.dvc:g}× DVC")
        if self.base is not None:
            parts.append(f"≤ {self.base:g}× {base_label}")
        if self.abs_s is not None:
            parts.append(f"≤ {self.abs_s:g} s")
        if self.abs_mb is not None:
            parts.append(f"≤ {self.abs_mb:g} MB")
        return ", ".join(parts) or "—"


@dataclass(frozen=True, slots=True)
class Op:
    key: str
    label: str
    baseline: str | None  # key of the baseline measurement
    baseline_label: str


OPS: dict[str, Op] = {
    o.key: o
    for o in (
        Op("add", "add (cold, copy)", "cp", "cp -r"),
        Op("status_clean", "status (no change)", "walk", "walk"),
        Op("status_one", "status (one file modified)", "walk", "walk"),
        Op("readd", "re-add after one change", None, ""),
        Op("checkout", "checkout into empty workspace", "cp", "cp -r"),
        Op("add_hardlink", "add (cold, hardlink)", None, ""),
        Op("push", "push to local folder", "cp", "cp -r"),
        Op("push_noop", "push, nothing new", None, ""),
        Op("pull", "pull (empty cache and workspace)", "cp", "cp -r"),
        Op("push_s3", "push to S3 (moto)", None, ""),
        Op("push_noop_s3", "push to S3, nothing new", None, ""),
        Op("pull_s3", "pull from S3 (moto)", None, ""),
        Op("help", "`--help` start-up", "python", "python -c pass"),
        Op(
            "pre_commit_clean",
            "pre-commit, nothing tracked changed",
            "gitml_status",
            "gitml status (same tree)",
        ),
        Op("repro_j2", "repro -j 2, 4 independent stages", "repro_serial", "serial repro"),
    )
}

TARGETS: dict[tuple[str, str], Target] = {
    ("add", "many"): Target(dvc=0.15, base=1.5),
    ("add", "big"): Target(dvc=0.8, base=1.2),
    ("add_hardlink", "big"): Target(dvc=0.2),
    ("status_clean", "many"): Target(dvc=0.1, base=2),
    ("status_one", "many"): Target(dvc=0.1, base=2),
    ("readd", "many"): Target(dvc=0.1),
    ("checkout", "many"): Target(dvc=0.3, base=1.5),
    ("help", "-"): Target(abs_s=0.2),
    # The forgotten-add check is one stat-index scan: a commit costs at most a status more.
    ("pre_commit_clean", "many"): Target(base=1.2),
    ("repro_j2", "pipeline"): Target(base=0.6),
}
for _ds in ("many", "big"):
    for _suffix in ("", "_s3"):
        TARGETS[(f"push{_suffix}", _ds)] = Target(dvc=0.5)
        TARGETS[(f"pull{_suffix}", _ds)] = Target(dvc=0.5)
        TARGETS[(f"push_noop{_suffix}", _ds)] = Target(dvc=0.1)

ROW_ORDER = [
    ("many", ["add", "status_clean", "pre_commit_clean", "status_one", "readd", "checkout"]),
    ("big", ["add", "add_hardlink", "status_clean", "status_one", "readd", "checkout"]),
    ("many", ["push", "push_noop", "pull", "push_s3", "push_noop_s3", "pull_s3"]),
    ("big", ["push", "push_noop", "pull", "push_s3", "push_noop_s3", "pull_s3"]),
    ("-", ["help"]),
    ("pipeline", ["repro_j2"]),
]


@dataclass
class Record:
    op: str
    dataset: str
    side: str  # gitml | dvc | baseline key
    repeat: int
    seconds: float | None
    peak_kib: int | None
    error: str | None
    load1: float | None = None  # 1-minute load average when the step started


@dataclass
class Results:
    records: list[Record] = field(default_factory=list)

    def add(
        self, op: str, dataset: str, side: str, repeat: int, s: Sample, load1: float | None = None
    ) -> None:
        self.records.append(
            Record(op, dataset, side, repeat, s.seconds, s.peak_kib, s.error, load1)
        )

    def of(self, op: str, dataset: str, side: str) -> list[Record]:
        return [r for r in self.records if (r.op, r.dataset, r.side) == (op, dataset, side)]


@dataclass(frozen=True, slots=True)
class Cell:
    median: float | None
    n_ok: int
    n: int
    error: str | None
    peak_mib: float | None

    def text(self) -> str:
        if self.n == 0:
            return "—"
        if self.median is None:
            return "error"
        star = "*" if self.n_ok < self.n else ""
        return f"{self.median:.2f}{star}"


def cell(records: Iterable[Record]) -> Cell:
    recs = list(records)
    ok = [r.seconds for r in recs if r.error is None and r.seconds is not None]
    errors = [r.error for r in recs if r.error is not None]
    peaks = [r.peak_kib for r in recs if r.peak_kib is not None and r.error is None]
    return Cell(
        median=statistics.median(ok) if ok else None,
        n_ok=len(ok),
        n=len(recs),
        error=errors[0] if errors else None,
        peak_mib=max(peaks) / 1024 if peaks else None,
    )


def _fmt(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b <= 0:
        return None
    return a / b


def _met(
    t: Target | None, g: float | None, d: float | None, b: float | None, peak_mb: float | None
) -> str:
    if t is None:
        return ""
    fails, unknown = [], False
    checks: list[tuple[float | None, float | None, str]] = []
    if t.dvc is not None:
        checks.append((_ratio(g, d), t.dvc, "vs DVC"))
    if t.base is not None:
        checks.append((_ratio(g, b), t.base, "vs baseline"))
    if t.abs_s is not None:
        checks.append((g, t.abs_s, "time"))
    if t.abs_mb is not None:
        checks.append((peak_mb, t.abs_mb, "memory"))
    for value, limit, what in checks:
        if value is None or limit is None:
            unknown = True
        elif value > limit:
            fails.append(what)
    if fails:
        return "**NO** (" + ", ".join(fails) + ")"
    return "?" if unknown else "yes"


def build_rows(res: Results) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    present = {(r.op, r.dataset) for r in res.records}
    for dataset, ops in ROW_ORDER:
        for key in ops:
            if (key, dataset) not in present:
                continue
            op = OPS[key]
            g = cell(res.of(key, dataset, "gitml"))
            d = cell(res.of(key, dataset, "dvc"))
            b = cell(res.of(op.baseline, dataset, "baseline")) if op.baseline else None
            target = TARGETS.get((key, dataset))
            rows.append(
                {
                    "op": key,
                    "operation": op.label,
                    "dataset": dataset,
                    "gitml": g,
                    "dvc": d,
                    "baseline": b,
                    "baseline_label": op.baseline_label,
                    "target": target,
                    "met": _met(target, g.median, d.median, b.median if b else None, None),
                }
            )
        if dataset == "many" and "add" in ops and any(d == "many" for _, d in present):
            rows.append(_memory_row(res, dataset))
    return rows


def _memory_row(res: Results, dataset: str) -> dict[str, Any]:
    def peak(side: str) -> Cell:
        recs = [r for r in res.records if r.dataset == dataset and r.side == side]
        return cell(recs)

    g, d = peak("gitml"), peak("dvc")
    target = Target(abs_mb=MEMORY_LIMIT_MB)
    g_mb = g.peak_mib * MIB / MB if g.peak_mib is not None else None
    return {
        "op": "peak_memory",
        "operation": "peak memory, any step",
        "dataset": dataset,
        "gitml": Cell(None, 0, 0, None, g.peak_mib),
        "dvc": Cell(None, 0, 0, None, d.peak_mib),
        "baseline": None,
        "baseline_label": "",
        "target": target,
        "met": _met(target, None, None, None, g_mb),
    }


HEADER = (
    "| operation | dataset | gitml (s) | DVC (s) | ratio gitml/DVC | baseline (s) "
    "| gitml/baseline | peak MiB gitml | peak MiB DVC | target | met? |"
)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = [HEADER, "|" + "---|" * 11]
    for row in rows:
        g: Cell = row["gitml"]
        d: Cell = row["dvc"]
        b: Cell | None = row["baseline"]
        target: Target | None = row["target"]
        base_txt = "—" if b is None or b.n == 0 else f"{b.text()} ({row['baseline_label']})"
        lines.append(
            "| "
            + " | ".join(
                [
                    row["operation"],
                    row["dataset"],
                    g.text(),
                    d.text(),
                    _fmt(_ratio(g.median, d.median)),
                    base_txt,
                    _fmt(_ratio(g.median, b.median if b else None)),
                    _fmt(g.peak_mib, 0),
                    _fmt(d.peak_mib, 0),
                    target.text(row["baseline_label"] or "baseline") if target else "—",
                    row["met"] or "—",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def error_notes(res: Results) -> list[str]:
    """Each distinct error once, with the cells (operation/dataset/tool) it hit."""
    where: dict[str, list[str]] = {}
    for r in res.records:
        if r.error:
            cells = where.setdefault(r.error, [])
            name = f"{r.op}/{r.dataset}/{r.side}"
            if name not in cells:
                cells.append(name)
    return [f"- {', '.join(cells)}: {err}" for err, cells in where.items()]


def render(
    facts: Mapping[str, Any], rows: list[dict[str, Any]], res: Results, notes: list[str]
) -> str:
    out = ["# gitml vs DVC benchmark", ""]
    out += [f"- {k}: {v}" for k, v in facts.items()]
    out += ["", markdown_table(rows), ""]
    out += [
        "Times are medians of the repeats in seconds; `*` = some repeats failed "
        "(median of the rest); peak = max RSS of the largest process of the command's "
        "tree, max over repeats.",
        "",
    ]
    out += notes
    errs = error_notes(res)
    if errs:
        out += ["", "## Errors (first per cell)", "", *errs]
    return "\n".join(out) + "\n"


def write_json(
    path: Path, facts: Mapping[str, Any], rows: list[dict[str, Any]], res: Results
) -> None:
    def plain(row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in row.items():
            if isinstance(v, Cell | Target):
                out[k] = asdict(v)
            else:
                out[k] = v
        return out

    data = {
        "facts": dict(facts),
        "rows": [plain(r) for r in rows],
        "records": [asdict(r) for r in res.records],
    }
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")
