"""``gitml report``: what one HTML page shows, gathered as plain data.

The points are the commits of a range (``A..B``, oldest first, at most
:data:`MAX_POINTS`) or the registered versions of a model (``--models NAME``,
in version order). For each point: its metrics and params, read like ``metrics
show`` (the committed files, the note only for a file not in the tree). Plus
the registry's stage history, the dataset review of the first point against
the last, and the guard results recorded for the last point. Rendering is in
:mod:`gitml.compare.html`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitml.compare.plots import PlotData, plot_data
from gitml.compare.review import review
from gitml.compare.sides import Side, note_of
from gitml.compare.values import read_values
from gitml.context import RepoContext
from gitml.errors import GitmlError, UsageError
from gitml.project.specplots import PlotSpec
from gitml.registry.revision import Resolver
from gitml.workspace.snapshot import Snapshot

MAX_POINTS = 200


@dataclass
class Point:
    label: str  # "a1b2c3d4" or "v2.0.0"
    commit: str
    rev: str  # how the review names it: the commit, or "churn@v2.0.0"
    subject: str = ""
    date: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)  # "file:key" -> value
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReportData:
    title: str
    points: list[Point] = field(default_factory=list)
    stage_history: list[dict[str, Any]] = field(default_factory=list)
    review: dict[str, Any] | None = None
    guards: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    plots: list[PlotData] = field(default_factory=list)  # gitml.yaml plots: at the last point

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "gitml.report/1",
            "title": self.title,
            "points": [vars(p) for p in self.points],
            "stage_history": self.stage_history,
            "review": self.review,
            "guards": self.guards,
            "warnings": self.warnings,
            "plots": [
                {"name": p.name, "template": p.template, "series": len(p.series),
                 "images": len(p.images), "problem": p.problem}
                for p in self.plots
            ],
        }  # fmt: skip


def _values(ctx: RepoContext, point: Point, warnings: list[str]) -> None:
    side = Side(point.rev, point.commit, Snapshot(ctx, "commit", point.commit))
    for kind, into in (("metrics", point.metrics), ("params", point.params)):
        found = read_values(ctx, side, kind)  # type: ignore[arg-type]
        warnings += found.warnings
        for name, fv in found.files.items():
            for key, value in fv.values.items():
                into[f"{name}:{key}"] = value


def _range_points(ctx: RepoContext, resolver: Resolver, spec: str) -> tuple[str, list[Point]]:
    if ".." in spec:
        start, _, end = spec.partition("..")
        if not start or not end or end.startswith("."):
            raise UsageError(f"cannot read {spec!r} as A..B", hint="gitml report v1..HEAD")
        a, b = resolver.resolve(start).commit, resolver.resolve(end).commit
        records = ctx.git.log_records(f"{a}..{b}", max_count=MAX_POINTS)
        base = ctx.git.log_records(a, max_count=1)
        records = records + base  # A itself is the first point
    else:
        b = resolver.resolve(spec).commit
        records = ctx.git.log_records(b, max_count=MAX_POINTS)
    points = [
        Point(r.sha[:8], r.sha, r.sha[:12], r.subject, r.author_time)
        for r in reversed(records[:MAX_POINTS])
    ]
    return f"commits {spec}", points


def _model_points(ctx: RepoContext, resolver: Resolver, name: str) -> tuple[str, list[Point]]:
    from gitml.registry.resolve import get_artifact

    artifact = get_artifact(resolver.state, name)
    versions = sorted(artifact.active_versions(), key=lambda v: v.version)[-MAX_POINTS:]
    if not versions:
        raise UsageError(f"{name} has no active version", hint=f"gitml register {name}")
    return f"model {name}", [
        Point(
            str(v.version),
            v.commit,
            f"{name}@{v.version}",
            v.registration.summary,
            v.registration.date,
        )
        for v in versions
    ]


def _stage_history(resolver: Resolver, only: str | None) -> list[dict[str, Any]]:
    out = []
    for name, artifact in sorted(resolver.state.artifacts.items()):
        if only is not None and name != only:
            continue
        for event in artifact.history:
            out.append({
                "artifact": name,
                "action": event.action,
                "version": str(event.version) if event.version is not None else "",
                "stage": getattr(event.event, "stage", "") or "",
                "date": event.date,
                "tagger": event.tagger,
                "tag": event.tag,
            })  # fmt: skip
    return sorted(out, key=lambda e: (e["date"], e["tag"]))


def _guard_results(ctx: RepoContext, commit: str) -> list[dict[str, Any]]:
    guards = note_of(ctx, commit).get("guards")
    results = guards.get("results") if isinstance(guards, dict) else None
    if not isinstance(results, list):
        return []
    order = {"fail": 0, "error": 1, "skip": 2, "pass": 3}
    rows = [r for r in results if isinstance(r, dict)]
    return sorted(rows, key=lambda r: order.get(str(r.get("status")), 4))


def gather(ctx: RepoContext, spec: str | None = None, *, model: str | None = None) -> ReportData:
    """The report's data for a commit range (default: HEAD's history) or a model."""
    if spec and model:
        raise UsageError("give a range or --models, not both", hint="gitml report --models churn")
    resolver = Resolver(ctx)
    if model is not None:
        title, points = _model_points(ctx, resolver, model)
    else:
        title, points = _range_points(ctx, resolver, spec or "HEAD")
    data = ReportData(title, points)
    for point in points:
        _values(ctx, point, data.warnings)
    data.stage_history = _stage_history(resolver, model)
    if len(points) >= 2:
        try:
            data.review = review(ctx, points[0].rev, points[-1].rev).to_dict()
        except GitmlError as exc:
            data.warnings.append(f"no dataset review: {exc.message}")
    if points:
        data.guards = _guard_results(ctx, points[-1].commit)
        data.plots = plot_data(ctx, points[-1].commit, _plot_specs(ctx, points[-1].commit, data))
    return data


def _plot_specs(ctx: RepoContext, commit: str, data: ReportData) -> tuple[PlotSpec, ...]:
    """``plots:`` as committed at ``commit``, else as gitml.yaml has them now
    (a project imported from DVC declares them only from the import on)."""
    from gitml.guards.commit import project_of

    try:
        committed = project_of(Snapshot(ctx, "commit", commit))
        return committed.plots or project_of(Snapshot.workspace(ctx)).plots
    except GitmlError as exc:
        data.warnings.append(f"no plots: {exc.message}")
        return ()
