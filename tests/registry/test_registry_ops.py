"""Planners: which tag, on which commit, with which message -- and their refusals."""

from __future__ import annotations

import pytest

from gitml.errors import RegistryError, UsageError
from gitml.registry.grammar import (
    Assignment,
    Deprecation,
    Deregistration,
    Registration,
    Unassignment,
)
from gitml.registry.ops import (
    conflict_error,
    plan_assign,
    plan_deprecate,
    plan_deregister,
    plan_register,
    plan_unassign,
)
from gitml.registry.record import EventRecord, GuardSummary, RegistrationRecord, parse_record
from gitml.registry.semver import SemVer
from tests.registry.registry_helpers import TagExistsError, Timeline, model, sha


def test_plan_register_full_record(timeline: Timeline) -> None:
    plan = plan_register(
        timeline.state(),
        "churn",
        commit=sha(1),
        model=model(size=1_234_567),
        data={"data/train.csv": "ef" * 32},
        params={"lr": 0.1},
        metrics={"auc": 0.93},
        guards=[GuardSummary("auc", True, "0.93 >= 0.9")],
        note="baseline",
    )
    assert plan.tag == "churn@v1.0.0"
    assert plan.rev == sha(1)
    assert plan.event == Registration("churn", SemVer(1, 0, 0))
    assert plan.version == SemVer(1, 0, 0)
    assert plan.message.startswith("Register churn v1.0.0: models/churn.pkl (1.2 MB)\n\n```json\n")
    record = parse_record(plan.message)
    assert isinstance(record, RegistrationRecord)
    assert record.commit == sha(1) and record.version == "v1.0.0"
    assert record.data == {"data/train.csv": "ef" * 32}
    assert record.guards == (GuardSummary("auc", True, "0.93 >= 0.9"),)
    s = timeline.apply(plan)
    assert s.artifacts["churn"].versions["v1.0.0"].record == record


def test_plan_register_bumps_and_refusals(timeline: Timeline) -> None:
    timeline.apply(plan_register(timeline.state(), "churn", commit=sha(1), model=model()))
    s = timeline.state()
    assert plan_register(s, "churn", commit=sha(2), model=model()).tag == "churn@v2.0.0"
    assert plan_register(s, "churn", commit=sha(2), model=model(), bump="minor").tag == (
        "churn@v1.1.0"
    )
    assert plan_register(s, "churn", commit=sha(2), model=model(), version="v1.0.1").tag == (
        "churn@v1.0.1"
    )
    with pytest.raises(RegistryError, match="already registered"):
        plan_register(s, "churn", commit=sha(2), model=model(), version="v1.0.0")
    with pytest.raises(RegistryError, match=r"already holds churn@v1\.0\.0"):
        plan_register(s, "churn", commit=sha(1), model=model())
    with pytest.raises(UsageError, match="full commit id"):
        plan_register(s, "churn", commit="HEAD", model=model())
    with pytest.raises(UsageError, match="invalid artifact name"):
        plan_register(s, "churn..x", commit=sha(3), model=model())
    with pytest.raises(UsageError, match="invalid version"):
        plan_register(s, "churn", commit=sha(3), model=model(), version="v1")
    # Another artifact may share the commit.
    assert plan_register(s, "fraud", commit=sha(1), model=model()).tag == "fraud@v1.0.0"


def test_plan_assign_and_unassign(timeline: Timeline) -> None:
    timeline.apply(plan_register(timeline.state(), "churn", commit=sha(1), model=model()))
    timeline.apply(plan_register(timeline.state(), "churn", commit=sha(2), model=model()))
    s = timeline.state()
    plan = plan_assign(s, "churn@v1", "staging", note="looks good\nto me")
    assert plan.tag == "churn#staging#1" and plan.rev == sha(1)
    assert plan.event == Assignment("churn", "staging", 1)
    assert plan.message.split("\n")[0] == "Promote churn v1.0.0 to staging: looks good to me"
    assert parse_record(plan.message) == EventRecord(
        "assign", "churn", "v1.0.0", "staging", "looks good\nto me"
    )
    s = timeline.apply(plan)
    # Promote whatever is in staging to prod.
    plan = plan_assign(s, "churn#staging", "prod", allowed_stages=["staging", "prod"])
    assert plan.tag == "churn#prod#2" and plan.rev == sha(1)
    s = timeline.apply(plan)
    with pytest.raises(UsageError, match="unknown stage"):
        plan_assign(s, "churn@v2", "qa", allowed_stages=["staging", "prod"])
    with pytest.raises(UsageError, match="invalid stage"):
        plan_assign(s, "churn@v2", "pro d")
    with pytest.raises(RegistryError, match="not registered"):
        plan_assign(s, "churn@v9.0.0", "prod")
    with pytest.raises(RegistryError, match="no artifact"):
        plan_assign(s, "nope@latest", "prod")
    plan = plan_unassign(s, "churn", "prod")
    assert plan.tag == "churn#prod!#3" and plan.rev == sha(1)
    assert plan.event == Unassignment("churn", "prod", 3)
    assert plan.message.startswith("Demote churn v1.0.0 from prod\n")
    with pytest.raises(RegistryError, match=r"churn@v2.0.0 is not in stage 'prod'"):
        plan_unassign(s, "churn", "prod", "churn@v2.0.0")
    with pytest.raises(RegistryError, match="is not in stage 'qa'"):
        plan_unassign(s, "churn", "qa")
    with pytest.raises(RegistryError, match="no artifact"):
        plan_unassign(s, "nope", "qa")


def test_plan_deprecate_and_deregister(timeline: Timeline) -> None:
    timeline.apply(plan_register(timeline.state(), "churn", commit=sha(1), model=model()))
    timeline.apply(plan_register(timeline.state(), "churn", commit=sha(2), model=model()))
    s = timeline.state()
    plan = plan_deregister(s, "churn@v1.0.0", note="leaked test data")
    assert (plan.tag, plan.rev) == ("churn@v1.0.0!", sha(1))
    assert plan.event == Deregistration("churn", SemVer(1, 0, 0))
    assert plan.message.startswith("Deregister churn v1.0.0: leaked test data\n")
    plan = plan_deprecate(s, "churn")
    assert (plan.tag, plan.rev) == ("churn@deprecated", sha(2))  # latest event's commit
    assert plan.event == Deprecation("churn")
    with pytest.raises(RegistryError, match="no artifact"):
        plan_deprecate(s, "nope")


def test_concurrent_registration_conflict(timeline: Timeline) -> None:
    timeline.apply(plan_register(timeline.state(), "churn", commit=sha(1), model=model()))
    before = timeline.state()
    mine = plan_register(before, "churn", commit=sha(2), model=model())
    theirs = plan_register(before, "churn", commit=sha(3), model=model())
    assert mine.tag == theirs.tag == "churn@v2.0.0"
    timeline.apply(theirs, tagger="bob <bob@example.com>")
    with pytest.raises(TagExistsError):
        timeline.apply(mine)  # git refuses: the tag exists
    err = conflict_error(mine, timeline.state())
    assert err.message.startswith(
        "version v2.0.0 of churn already registered by bob <bob@example.com> on "
    )
    assert "next version" in (err.hint or "")
    retry = plan_register(timeline.state(), "churn", commit=sha(2), model=model())
    assert retry.tag == "churn@v3.0.0"


def test_concurrent_promotion_conflict(timeline: Timeline) -> None:
    timeline.apply(plan_register(timeline.state(), "churn", commit=sha(1), model=model()))
    timeline.apply(plan_register(timeline.state(), "churn", commit=sha(2), model=model()))
    before = timeline.state()
    mine = plan_assign(before, "churn@v1", "prod")
    theirs = plan_assign(before, "churn@v2", "prod")
    assert mine.tag == theirs.tag == "churn#prod#1"
    timeline.apply(theirs, tagger="bob")
    err = conflict_error(mine, timeline.state())
    assert err.message.startswith("tag churn#prod#1 was created by bob on ")
    assert "stages of churn" in (err.hint or "")
    deprecation = plan_deprecate(before, "churn")
    assert "by someone else" in conflict_error(deprecation, before).message
