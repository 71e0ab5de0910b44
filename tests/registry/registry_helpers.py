"""Helpers for the registry tests: an in-memory tag timeline.

``Timeline.apply(plan)`` does what the API layer does with a plan: create the tag
(failing if the name exists, like ``git tag``) with a tagger date one second after
the previous tag.
"""

from __future__ import annotations

from gitml.registry.model import RawTag, RegistryState
from gitml.registry.ops import TagPlan
from gitml.registry.record import ModelInfo
from gitml.registry.state import fold_tags


def sha(i: int) -> str:
    """A fake 40-hex commit id."""
    return f"{i:040x}"


def model(path: str = "models/churn.pkl", size: int = 1_234_567, i: int = 1) -> ModelInfo:
    return ModelInfo(path, f"{i:064x}", size)


class TagExistsError(Exception):
    pass


class Timeline:
    def __init__(self, start: int = 1_700_000_000) -> None:
        self.tags: list[RawTag] = []
        self.clock = start

    def state(self) -> RegistryState:
        return fold_tags(self.tags)

    def add(
        self,
        name: str,
        target: str,
        message: str = "",
        *,
        tagger: str = "alice",
        date: int | None = None,
        annotated: bool = True,
    ) -> None:
        if any(t.name == name for t in self.tags):
            raise TagExistsError(name)
        self.clock += 1
        when = self.clock if date is None else date
        self.tags.append(RawTag(name, target, tagger, when, message, annotated))

    def apply(self, plan: TagPlan, tagger: str = "alice", date: int | None = None) -> RegistryState:
        self.add(plan.tag, plan.rev, plan.message, tagger=tagger, date=date)
        return self.state()
