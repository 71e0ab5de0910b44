"""``metrics show``, ``metrics diff`` and ``params diff``: values side by side.

A row per (file, key). Deltas are numeric only where both sides are numbers
(booleans are not numbers); the percentage only where the old value is not 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from gitml.compare.sides import Side, open_side
from gitml.compare.values import Kind, VersionValues, read_values
from gitml.context import RepoContext
from gitml.registry.revision import Resolver

Change = Literal["added", "removed", "modified", "unchanged"]


@dataclass(frozen=True)
class ValueChange:
    file: str
    key: str
    old: Any
    new: Any
    change: Change
    delta: float | None = None
    pct: float | None = None


@dataclass
class ValuesDiff:
    kind: Kind
    old: Side
    new: Side
    changes: list[ValueChange] = field(default_factory=list)
    sources: dict[str, dict[str, str]] = field(default_factory=dict)  # file -> side -> source
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": f"gitml.{self.kind}-diff/1",
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "files": self.sources,
            "changes": [
                {
                    "file": c.file,
                    "key": c.key,
                    "old": c.old,
                    "new": c.new,
                    "change": c.change,
                    "delta": c.delta,
                    "pct": c.pct,
                }
                for c in self.changes
            ],
            "warnings": self.warnings,
        }


@dataclass
class ValuesShow:
    kind: Kind
    versions: list[VersionValues]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": f"gitml.{self.kind}-show/1",
            "revisions": [
                {
                    **v.side.to_dict(),
                    "files": {
                        name: {"source": f.source, "values": f.values}
                        for name, f in sorted(v.files.items())
                    },
                    "warnings": v.warnings,
                }
                for v in self.versions
            ],
        }


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def compare_value(file: str, key: str, old: Any, new: Any, *, missing_old: bool,
                  missing_new: bool) -> ValueChange:  # fmt: skip
    if missing_old:
        return ValueChange(file, key, None, new, "added")
    if missing_new:
        return ValueChange(file, key, old, None, "removed")
    if is_number(old) and is_number(new):
        delta = new - old
        pct = delta / abs(old) * 100.0 if old != 0 else None
        return ValueChange(file, key, old, new, "modified" if delta != 0 else "unchanged",
                           delta, pct)  # fmt: skip
    same = old == new and type(old) is type(new)
    return ValueChange(file, key, old, new, "unchanged" if same else "modified")


def diff_values(
    old: VersionValues, new: VersionValues, kind: Kind, *, all_rows: bool
) -> ValuesDiff:
    out = ValuesDiff(kind, old.side, new.side, warnings=old.warnings + new.warnings)
    for name in sorted(set(old.files) | set(new.files)):
        a, b = old.files.get(name), new.files.get(name)
        out.sources[name] = {
            "old": a.source if a else "missing",
            "new": b.source if b else "missing",
        }
        a_values = a.values if a else {}
        b_values = b.values if b else {}
        for key in sorted(set(a_values) | set(b_values)):
            row = compare_value(
                name,
                key,
                a_values.get(key),
                b_values.get(key),
                missing_old=key not in a_values,
                missing_new=key not in b_values,
            )
            if all_rows or row.change != "unchanged":
                out.changes.append(row)
    return out


def values_diff(
    ctx: RepoContext,
    kind: Kind,
    old_rev: str | None = "HEAD",
    new_rev: str | None = None,
    *,
    files: list[str] | None = None,
    all_rows: bool = False,
) -> ValuesDiff:
    """``kind`` at ``old_rev`` vs ``new_rev`` (None: the workspace). Files are
    the union of what each side declares, unless ``files`` names them."""
    resolver = Resolver(ctx)
    old_side = open_side(ctx, resolver, old_rev)
    new_side = open_side(ctx, resolver, new_rev)
    old = read_values(ctx, old_side, kind, files)
    new = read_values(ctx, new_side, kind, files)
    if not files:  # a file one side declares is read on the other side too
        union = sorted(set(old.files) | set(new.files))
        if set(old.files) != set(union):
            old = _reread(ctx, old, kind, union)
        if set(new.files) != set(union):
            new = _reread(ctx, new, kind, union)
    return diff_values(old, new, kind, all_rows=all_rows)


def _reread(ctx: RepoContext, got: VersionValues, kind: Kind, files: list[str]) -> VersionValues:
    again = read_values(ctx, got.side, kind, files)
    again.warnings = got.warnings + again.warnings
    return again


def values_show(
    ctx: RepoContext, kind: Kind, revs: list[str] | None = None, *, files: list[str] | None = None
) -> ValuesShow:
    """``kind`` at each revision (default: the workspace)."""
    resolver = Resolver(ctx)
    wanted: list[str | None] = list(revs) if revs else [None]
    sides = [open_side(ctx, resolver, rev) for rev in wanted]
    return ValuesShow(kind, [read_values(ctx, side, kind, files) for side in sides])
