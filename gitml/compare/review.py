"""``gitml review``: what changed in each tracked dataset, from stored statistics only.

For every tracked dataset whose pointer differs between A and B: rows, columns
added/removed/retyped, and per column the null fraction, min/max/mean, the most
frequent values and PSI, all read from the two commits' notes
(``datasets:`` written by the post-commit hook, see :mod:`gitml.hookflow.datasets`;
a data guard's reference statistics of the same path also count). No data is
read or downloaded, so a review works in a clone with nothing pulled.

PSI from statistics alone: the old version's bins are its stored deciles; the
new version's share of each old bin is read off the new version's stored
deciles (its distribution function, linear between cut points). For categories,
the old top values plus "other". This is an estimate of the PSI the drift guard
computes from the data (exact for categories within the top values).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from gitml.compare.sides import Side, note_of, open_side
from gitml.context import RepoContext
from gitml.errors import UsageError
from gitml.registry.revision import Resolver

PSI_MODERATE = 0.1
PSI_DRIFT = 0.2


@dataclass
class DatasetReview:
    path: str
    status: str  # compared | added | removed | no-statistics
    old_oid: str | None
    new_oid: str | None
    reason: str = ""
    rows: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, Any] = field(default_factory=dict)
    column_stats: list[dict[str, Any]] = field(default_factory=list)

    @property
    def drifted(self) -> list[str]:
        return [c["column"] for c in self.column_stats if c.get("drift") == "drift"]


@dataclass
class Review:
    old: Side
    new: Side
    datasets: list[DatasetReview] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "gitml.review/1",
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "summary": {
                "changed": len(self.datasets),
                "without_statistics": sum(d.status == "no-statistics" for d in self.datasets),
                "drifted_columns": sum(len(d.drifted) for d in self.datasets),
            },
            "datasets": [
                {
                    "path": d.path,
                    "status": d.status,
                    "old_oid": d.old_oid,
                    "new_oid": d.new_oid,
                    "reason": d.reason,
                    "rows": d.rows,
                    "columns": d.columns,
                    "column_stats": d.column_stats,
                }
                for d in self.datasets
            ],
        }


def stored_stats(note: dict[str, Any], path: str, oid: str) -> dict[str, Any] | None:
    """The statistics a note holds for this version of ``path`` (None if none)."""
    entry = (note.get("datasets") or {}).get(path) if isinstance(note, dict) else None
    if isinstance(entry, dict) and entry.get("oid") == oid and isinstance(entry.get("stats"), dict):
        stats: dict[str, Any] = entry["stats"]
        return stats
    return None


def _new_share(old_cuts: list[float], new: dict[str, Any]) -> list[float]:
    """The new version's fraction in each old bin, from its stored deciles: its
    distribution function is 0 at its min, the cumulative bin fractions at its
    cut points, 1 at its max, and linear in between."""
    import numpy as np

    cuts, fractions = new.get("cuts") or [], new.get("fractions") or []
    lo, hi = new.get("min"), new.get("max")
    if not cuts or len(fractions) != len(cuts) + 1 or lo is None or hi is None:
        return []
    xs = np.maximum.accumulate(np.asarray([lo, *cuts, hi], dtype=float))
    ys = np.concatenate([[0.0], np.cumsum(np.asarray(fractions[:-1], dtype=float)), [1.0]])
    at = np.interp(np.asarray(old_cuts, dtype=float), xs, ys, left=0.0, right=1.0)
    edges = np.concatenate([[0.0], at, [1.0]])
    return [float(max(0.0, x)) for x in np.diff(edges)]


def estimated_psi(old: dict[str, Any], new: dict[str, Any]) -> float | None:
    """PSI of one column from two stored profiles (None when either lacks a distribution)."""
    from gitml.guards.stats import psi

    if old.get("kind") != new.get("kind"):
        return None
    if old.get("kind") == "numeric":
        cuts, fractions = old.get("cuts") or [], old.get("fractions") or []
        if not cuts or len(fractions) != len(cuts) + 1:
            return None
        share = _new_share(cuts, new)
        if len(share) != len(fractions):
            return None
        return round(psi(fractions, share), 6)
    if old.get("kind") == "categorical":
        top_old, top_new = old.get("top") or {}, new.get("top") or {}
        if not top_old or old.get("other") is None or new.get("other") is None:
            return None
        expected = [float(v) for v in top_old.values()] + [float(old["other"])]
        actual = [float(top_new.get(k, 0.0)) for k in top_old]
        actual.append(max(0.0, 1.0 - sum(actual)))
        return round(psi(expected, actual), 6)
    return None


def _flag(value: float | None) -> str:
    if value is None:
        return ""
    if value > PSI_DRIFT:
        return "drift"
    return "moderate" if value > PSI_MODERATE else "stable"


Compared = tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]


def compare_stats(old: dict[str, Any], new: dict[str, Any]) -> Compared:
    """(rows, columns, column_stats) of two statistics documents."""
    rows_old, rows_new = old.get("rows"), new.get("rows")
    rows: dict[str, Any] = {"old": rows_old, "new": rows_new, "delta": None, "pct": None}
    if isinstance(rows_old, int) and isinstance(rows_new, int):
        rows["delta"] = rows_new - rows_old
        rows["pct"] = round((rows_new - rows_old) / rows_old * 100, 4) if rows_old else None
    cols_old: dict[str, Any] = old.get("columns") or {}
    cols_new: dict[str, Any] = new.get("columns") or {}
    columns = {
        "added": [c for c in cols_new if c not in cols_old],
        "removed": [c for c in cols_old if c not in cols_new],
        "retyped": [
            {"column": c, "old": cols_old[c].get("type"), "new": cols_new[c].get("type")}
            for c in cols_old
            if c in cols_new and cols_old[c].get("type") != cols_new[c].get("type")
        ],
    }
    out = []
    for name in [c for c in cols_new if c in cols_old]:
        a, b = cols_old[name], cols_new[name]
        value = estimated_psi(a, b)
        entry: dict[str, Any] = {
            "column": name,
            "kind": b.get("kind"),
            "type": {"old": a.get("type"), "new": b.get("type")},
            "null_fraction": {"old": a.get("null_fraction"), "new": b.get("null_fraction")},
            "psi": value,
            "drift": _flag(value),
        }
        if b.get("kind") == "numeric":
            for stat in ("min", "max", "mean"):
                entry[stat] = {"old": a.get(stat), "new": b.get(stat)}
        elif b.get("kind") == "categorical":
            entry["top"] = {"old": _top(a), "new": _top(b)}
            entry["distinct"] = {"old": a.get("distinct"), "new": b.get("distinct")}
        out.append(entry)
    return rows, columns, out


def _top(profile: dict[str, Any], n: int = 3) -> dict[str, float]:
    top = profile.get("top") or {}
    return dict(list(top.items())[:n]) if isinstance(top, dict) else {}


def _guard_stats(note: dict[str, Any], project: Any, path: str) -> dict[str, Any] | None:
    """A data guard's reference statistics for exactly this path, if any."""
    stats = note.get("stats") if isinstance(note, dict) else None
    if not isinstance(stats, dict) or project is None:
        return None
    for name, guard in project.guards.guards.items():
        if guard.data is not None and guard.data.path == path and isinstance(stats.get(name), dict):
            found: dict[str, Any] = stats[name]
            return found
    return None


def _is_dataset(path: str, pointer: Any, notes: dict[str, Any], projects: dict[str, Any]) -> bool:
    """A table by its name (files), or one whose statistics a note or guard holds."""
    from gitml.guards.profile import is_tabular

    if pointer is not None and pointer.kind == "file":
        return is_tabular(path)
    for label in ("old", "new"):
        note = notes[label]
        if isinstance(note.get("datasets"), dict) and path in note["datasets"]:
            return True
        if _guard_stats(note, projects[label], path) is not None:
            return True
    return False


def review(ctx: RepoContext, old_rev: str | None = None, new_rev: str | None = None) -> Review:
    """The review of every tracked dataset that differs between ``old_rev``
    (default: the parent of ``new_rev``) and ``new_rev`` (default HEAD)."""
    from gitml.guards.commit import project_of

    resolver = Resolver(ctx)
    new_side = open_side(ctx, resolver, new_rev or "HEAD")
    if new_side.commit is None:
        raise UsageError(
            "a review compares commits: the workspace has no stored statistics",
            hint="commit first, or name two revisions: gitml review main HEAD",
        )
    if old_rev is None and ctx.git.try_rev_parse(f"{new_side.commit}~1") is None:
        raise UsageError(
            f"{new_side.label} has no parent commit to compare with",
            hint="name the two revisions: gitml review A B",
        )
    old_side = open_side(ctx, resolver, old_rev or f"{new_side.commit}~1")
    if old_rev is None:  # named after what the user gave: HEAD~1, churn@latest~1
        old_side = dataclasses.replace(old_side, label=f"{new_side.label}~1")
    if old_side.commit is None:
        raise UsageError("a review compares commits", hint="gitml review main HEAD")
    old_ptrs, new_ptrs = old_side.snapshot.pointers(), new_side.snapshot.pointers()
    notes = {"old": note_of(ctx, old_side.commit), "new": note_of(ctx, new_side.commit)}
    projects: dict[str, Any] = {}
    for label, side in (("old", old_side), ("new", new_side)):
        try:
            projects[label] = project_of(side.snapshot)
        except Exception:  # an invalid gitml.yaml only loses the guard fallback
            projects[label] = None
    out = Review(old_side, new_side)
    for path in sorted(set(old_ptrs) | set(new_ptrs), key=lambda p: p.encode()):
        a, b = old_ptrs.get(path), new_ptrs.get(path)
        if a is not None and b is not None and a.oid == b.oid:
            continue
        if not _is_dataset(path, a or b, notes, projects):
            continue  # a model file, a folder of images: not for a dataset review
        item = DatasetReview(path, "compared", a.oid if a else None, b.oid if b else None)
        found: dict[str, dict[str, Any] | None] = {}
        for label, pointer in (("old", a), ("new", b)):
            if pointer is None:
                found[label] = None
                continue
            found[label] = stored_stats(notes[label], path, pointer.oid) or _guard_stats(
                notes[label], projects[label], path
            )
        if a is None or b is None:
            item.status = "added" if a is None else "removed"
            there = found["new"] if a is None else found["old"]
            if there is not None:
                item.rows = {"old": None if a is None else there.get("rows"),
                             "new": there.get("rows") if a is None else None}  # fmt: skip
            out.datasets.append(item)
            continue
        missing = [lbl for lbl in ("old", "new") if found[lbl] is None]
        if missing:
            item.status = "no-statistics"
            sides = {"old": old_side, "new": new_side}
            item.reason = "; ".join(
                f"{sides[lbl].label} ({str(sides[lbl].commit)[:12]}) has "
                + ("no gitml note" if not notes[lbl] else "no statistics for this version")
                for lbl in missing
            )
            out.datasets.append(item)
            continue
        old_stats, new_stats = found["old"], found["new"]
        assert old_stats is not None and new_stats is not None
        item.rows, item.columns, item.column_stats = compare_stats(old_stats, new_stats)
        out.datasets.append(item)
    return out
