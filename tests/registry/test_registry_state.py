"""Folding tags into the registry state, resolution and version numbering."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitml.errors import RegistryError, UsageError
from gitml.registry.grammar import parse_ref
from gitml.registry.model import RawTag, RegistryState
from gitml.registry.ops import (
    plan_assign,
    plan_deprecate,
    plan_deregister,
    plan_register,
    plan_unassign,
)
from gitml.registry.record import EventRecord, format_record
from gitml.registry.resolve import find_ref, next_version, resolve
from gitml.registry.semver import SemVer
from gitml.registry.state import fold_tags
from tests.registry.registry_helpers import Timeline, model, sha


def register(tl: Timeline, n: int, name: str = "churn", **kw: object) -> RegistryState:
    plan = plan_register(tl.state(), name, commit=sha(n), model=model(i=n), **kw)  # type: ignore[arg-type]
    return tl.apply(plan)


def v(state: RegistryState, ref: str) -> str:
    return str(resolve(state, ref).version)


def test_register_assign_and_resolve(timeline: Timeline) -> None:
    register(timeline, 1)
    register(timeline, 2)
    s = timeline.apply(plan_assign(timeline.state(), "churn@v1", "prod"))
    assert v(s, "churn#prod") == "v1.0.0"
    s = timeline.apply(plan_assign(s, "churn@v2", "prod"))
    art = s.artifacts["churn"]
    assert [str(x.version) for x in art.stages["prod"].active] == ["v2.0.0", "v1.0.0"]
    assert v(s, "churn#prod") == "v2.0.0"
    assert art.versions["v2.0.0"].stages == ("prod",)
    assert art.versions["v1.0.0"].record is not None
    assert art.versions["v1.0.0"].record.model.path == "models/churn.pkl"
    assert [e.tag for e in art.history] == [
        "churn@v1.0.0",
        "churn@v2.0.0",
        "churn#prod#1",
        "churn#prod#2",
    ]
    assert art.next_counter == s.next_counter("churn") == 3
    assert s.warnings == ()
    assert [e.action for e in art.stages["prod"].history] == ["assign", "assign"]
    assert art.stages["prod"].history[0].version == SemVer(1, 0, 0)


def test_demote_brings_back_previous_and_rollback(timeline: Timeline) -> None:
    register(timeline, 1)
    register(timeline, 2)
    s = timeline.apply(plan_assign(timeline.state(), "churn@v1", "prod"))
    s = timeline.apply(plan_assign(s, "churn@v2", "prod"))
    s = timeline.apply(plan_unassign(s, "churn", "prod"))  # demotes the current: v2
    assert v(s, "churn#prod") == "v1.0.0"
    s = timeline.apply(plan_unassign(s, "churn", "prod"))
    with pytest.raises(RegistryError, match="no version of 'churn' is in stage 'prod'"):
        resolve(s, "churn#prod")
    s = timeline.apply(plan_assign(s, "churn@v2.0.0", "prod"))
    s = timeline.apply(plan_assign(s, "churn@v1.0.0", "prod"))
    assert v(s, "churn#prod") == "v1.0.0"
    s = timeline.apply(plan_assign(s, "churn@v2.0.0", "prod"))  # rollforward: not current
    assert v(s, "churn#prod") == "v2.0.0"
    with pytest.raises(RegistryError, match="already the current prod"):
        plan_assign(s, "churn@v2.0.0", "prod")


def test_deregistration(timeline: Timeline) -> None:
    for n in (1, 2, 3):
        register(timeline, n)
    s = timeline.apply(plan_assign(timeline.state(), "churn@v2", "prod"))
    s = timeline.apply(plan_assign(s, "churn@v3", "prod"))
    s = timeline.apply(plan_deregister(s, "churn@v3.0.0"))
    art = s.artifacts["churn"]
    assert not art.versions["v3.0.0"].active
    assert art.versions["v3.0.0"].stages == ()
    assert v(s, "churn#prod") == "v2.0.0"  # the deregistered version left the stage
    assert v(s, "churn@latest") == "v2.0.0"
    with pytest.raises(RegistryError, match="deregistered"):
        resolve(s, "churn@v3.0.0")
    with pytest.raises(RegistryError, match="no registered release matches churn@v3"):
        resolve(s, "churn@v3")
    assert str(next_version(s, "churn")) == "v4.0.0"  # numbers are never reused
    with pytest.raises(RegistryError, match="registered and deregistered"):
        next_version(s, "churn", explicit="v3.0.0")
    with pytest.raises(RegistryError, match="deregistered"):
        plan_deregister(s, "churn@v3.0.0")
    with pytest.raises(UsageError, match="exact version"):
        plan_deregister(s, "churn@v2")


def test_counter_beats_clock_skew(timeline: Timeline) -> None:
    register(timeline, 1)
    register(timeline, 2)
    s = timeline.state()
    timeline.apply(plan_assign(s, "churn@v1", "prod"), date=2_000_000_000)  # clock ahead
    s = timeline.apply(plan_assign(timeline.state(), "churn@v2", "prod"), date=1_700_000_100)
    assert v(s, "churn#prod") == "v2.0.0"


def test_uncounted_events_are_placed_by_date(timeline: Timeline) -> None:
    register(timeline, 1)
    # A registration in the same second as the assignment stays before it.
    p = plan_register(timeline.state(), "churn", commit=sha(2), model=model())
    a = plan_assign(timeline.state(), "churn@v1", "prod")
    timeline.apply(a, date=1_800_000_000)
    s = timeline.apply(p, date=1_800_000_000)
    assert [e.tag for e in s.artifacts["churn"].history] == [
        "churn@v1.0.0",
        "churn@v2.0.0",
        "churn#prod#1",
    ]
    # GTO --simple stage tags (no counter) are ordered by date among counted ones.
    timeline.add("churn#staging", sha(2), date=1_800_000_010)
    timeline.add("churn#staging!#2", sha(2), date=1_800_000_020)
    s = timeline.state()
    assert "staging" not in {st for x in s.artifacts["churn"].versions.values() for st in x.stages}


def test_deprecation(timeline: Timeline) -> None:
    register(timeline, 1)
    s = timeline.apply(plan_assign(timeline.state(), "churn@v1", "prod"))
    s = timeline.apply(plan_deprecate(s, "churn", note="replaced by churn2"))
    art = s.artifacts["churn"]
    assert art.deprecated and art.deprecation is not None
    assert art.deprecation.tag == "churn@deprecated"
    assert art.deprecation.commit == sha(1)
    assert v(s, "churn@v1.0.0") == "v1.0.0"  # explicit versions stay readable
    assert v(s, "churn@v1") == "v1.0.0"
    for ref in ("churn@latest", "churn#prod"):
        with pytest.raises(RegistryError, match="deprecated"):
            resolve(s, ref)
    with pytest.raises(RegistryError, match="deprecated"):
        plan_register(s, "churn", commit=sha(9), model=model())
    with pytest.raises(RegistryError, match="deprecated"):
        plan_assign(s, "churn@v1.0.0", "staging")
    with pytest.raises(RegistryError, match="deprecated"):
        plan_deprecate(s, "churn")
    # GTO semantics: any later event revives the artifact (e.g. `gto register`).
    timeline.add("churn@v5.0.0", sha(5), "Registering artifact churn version v5.0.0")
    s = timeline.state()
    assert not s.artifacts["churn"].deprecated
    # ... and deprecating again needs the counted tag name.
    plan = plan_deprecate(s, "churn")
    assert plan.tag == "churn@deprecated#2"


def test_foreign_and_malformed_tags_are_warnings() -> None:
    tags = [
        RawTag("v1.0.0", sha(1)),  # an ordinary release tag: silent
        RawTag("release-3", sha(1)),
        RawTag("churn@v1.0.0", sha(1), "a", 1, "Registering artifact churn version v1.0.0"),
        RawTag("churn@v2.0.0", sha(2), annotated=False),  # lightweight: GTO ignores it
        RawTag("churn#prod#9", sha(2), annotated=False),
        RawTag("churn@v01.0.0", sha(1)),
        RawTag("churn@created", sha(1)),
        RawTag("churn#prod#2", "not-a-sha"),
        RawTag("x@y@z", sha(1)),
        RawTag("churn#prod#3", sha(7)),  # no version at that commit
        RawTag("churn@v4.0.0!", sha(4)),  # never registered
        RawTag("churn@v5.0.0", sha(5), target_type="tree"),  # not a commit
        RawTag("churn@v6.0.0", sha(6), tagger_time=None),  # no tagger date: date 0
    ]
    s = fold_tags(tags)
    warned = {w.tag for w in s.warnings}
    assert warned == {
        "churn@v2.0.0",
        "churn#prod#9",
        "churn@v01.0.0",
        "churn@created",
        "churn#prod#2",
        "x@y@z",
        "churn#prod#3",
        "churn@v4.0.0!",
        "churn@v5.0.0",
    }
    assert all(str(w).startswith("tag ") for w in s.warnings)
    art = s.artifacts["churn"]
    assert list(art.versions) == ["v1.0.0", "v6.0.0"]
    assert art.versions["v6.0.0"].registration.date == 0
    assert art.versions["v1.0.0"].record is None  # GTO's free-text message
    assert art.stages["prod"].current is None
    assert s.next_counter("churn") == 10  # lightweight counters count, like GTO
    # The lightweight tag still blocks its name.
    with pytest.raises(RegistryError, match="already exists"):
        next_version(s, "churn", explicit="v2.0.0")


def test_stage_tag_mapping_by_commit() -> None:
    def event_msg(version: str) -> str:
        return format_record("Promote", EventRecord("assign", "churn", version, "prod"))

    tags = [
        RawTag("churn@v1.0.0", sha(1), tagger_time=1),
        RawTag("churn@v2.0.0", sha(1), tagger_time=2),  # two versions on one commit (foreign)
        RawTag("churn#prod#1", sha(1), tagger_time=3, message=event_msg("v1.0.0")),
        RawTag("churn#prod#2", sha(1), tagger_time=4),  # ambiguous, no record -> warning
    ]
    s = fold_tags(tags)
    assert v(s, "churn#prod") == "v1.0.0"
    assert [w.tag for w in s.warnings] == ["churn#prod#2"]


def test_record_must_match_tag(timeline: Timeline) -> None:
    plan = plan_register(timeline.state(), "churn", commit=sha(1), model=model())
    timeline.add("churn@v7.0.0", sha(1), plan.message)  # record says v1.0.0
    s = timeline.state()
    assert s.artifacts["churn"].versions["v7.0.0"].record is None
    assert "record does not match" in s.warnings[0].message


def test_short_versions_and_latest(timeline: Timeline) -> None:
    for n, ver in enumerate(["v3.0.0", "v3.1.0", "v3.1.5", "v3.2.0-rc.1", "v4.0.0-rc.1"], 1):
        register(timeline, n, version=ver)
    s = timeline.state()
    assert v(s, "churn@v3") == "v3.1.5"  # the pre-release v3.2.0-rc.1 is skipped
    assert v(s, "churn@v3.1") == "v3.1.5"
    assert v(s, "churn@v3.0") == "v3.0.0"
    assert v(s, "churn@v3.2.0-rc.1") == "v3.2.0-rc.1"
    assert v(s, "churn@latest") == "v4.0.0-rc.1"  # as GTO: pre-releases included
    with pytest.raises(RegistryError, match="no registered release matches churn@v4") as err:
        resolve(s, "churn@v4")
    assert "v4.0.0-rc.1" in str(err.value.hint)
    assert str(next_version(s, "churn")) == "v5.0.0"
    assert str(next_version(s, "churn", "minor")) == "v4.1.0"
    assert str(next_version(s, "churn", "patch")) == "v4.0.1"


def test_first_versions_and_explicit() -> None:
    empty = fold_tags([])
    assert str(next_version(empty, "churn")) == "v1.0.0"
    assert str(next_version(empty, "churn", "minor")) == "v0.1.0"
    assert str(next_version(empty, "churn", "patch")) == "v0.0.1"
    assert str(next_version(empty, "churn", explicit="v2.5.0")) == "v2.5.0"
    with pytest.raises(UsageError):
        next_version(empty, "churn", explicit="2.5.0")
    with pytest.raises(UsageError):
        next_version(empty, "bad..name")


def test_errors_list_what_exists(timeline: Timeline) -> None:
    register(timeline, 1)
    register(timeline, 2, name="fraud")
    s = timeline.apply(plan_assign(timeline.state(), "churn@v1", "prod"))
    with pytest.raises(RegistryError) as err:
        resolve(s, "nope@v1")
    assert err.value.hint == "artifacts: churn, fraud"
    with pytest.raises(RegistryError) as err:
        resolve(s, "churn@v9.0.0")
    assert err.value.hint == "registered versions: v1.0.0"
    with pytest.raises(RegistryError) as err:
        resolve(s, "churn#staging")
    assert err.value.hint == "stages: prod=v1.0.0"
    with pytest.raises(RegistryError) as err:
        resolve(fold_tags([]), "churn@latest")
    assert err.value.hint == "no artifacts yet"


def test_find_ref_decides_registry_or_path(timeline: Timeline) -> None:
    register(timeline, 1)
    s = timeline.state()
    assert find_ref(s, "churn@v1") == parse_ref("churn@v1")
    assert find_ref(s, "churn#prod") == parse_ref("churn#prod")
    assert find_ref(s, "data@v1") is None  # no such artifact: PATH@REV
    assert find_ref(s, "churn@HEAD~1") is None
    assert find_ref(s, "models/churn.pkl@main") is None


def test_monorepo_names(timeline: Timeline) -> None:
    s = register(timeline, 1, name="mono/a:churn")
    assert s.artifacts["mono/a:churn"].versions["v1.0.0"].tag == "mono/a=churn@v1.0.0"
    s = timeline.apply(plan_assign(s, "mono/a:churn@latest", "prod"))
    assert s.artifacts["mono/a:churn"].stages["prod"].history[0].tag == "mono/a=churn#prod#1"
    assert v(s, "mono/a:churn#prod") == "v1.0.0"


# ---------------------------------------------------------------- property

tag_names = st.one_of(
    st.sampled_from(
        [
            "c@v1.0.0",
            "c@v2.0.0",
            "c@v2.0.0!",
            "c@v1.0.0!#4",
            "c@deprecated",
            "c#p#1",
            "c#p!#2",
            "c#p#3",
            "c#q#5",
            "c#p",
            "c#p!",
            "c@v1.0.0#7",
            "d@v1.0.0",
            "d#p#1",
            "v1",
            "x@@",
            "c#p#01",
        ]
    ),
    st.text(alphabet="cd@#!v1.0p", max_size=10),
)
raw_tags = st.builds(
    RawTag,
    tag_names,
    st.sampled_from([sha(1), sha(2), sha(3), "zz"]),
    st.just("t"),
    st.integers(0, 5),
    st.sampled_from(["", "```json\n{}\n```", "```json\n[\n```"]),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(raw_tags, max_size=25, unique_by=lambda t: t.name))
def test_fold_never_crashes_and_is_consistent(tags: list[RawTag]) -> None:
    s = fold_tags(tags)
    assert s.tag_names == {t.name for t in tags}
    again = fold_tags(list(reversed(tags)))  # the order of listing is irrelevant
    assert again.artifacts == s.artifacts
    assert sorted(map(str, again.warnings)) == sorted(map(str, s.warnings))
    for art in s.artifacts.values():
        assert art.next_counter == s.next_counter(art.name) >= 1
        for stage in art.stages.values():
            for ver in stage.active:
                assert ver.active and stage.stage in ver.stages
            assert stage.current is (stage.active[0] if stage.active else None)
        for ref in (f"{art.name}@latest", f"{art.name}#p", f"{art.name}@v1"):
            try:
                resolve(s, ref)
            except RegistryError:
                pass


def test_same_second_deregister_then_deprecate(timeline: Timeline) -> None:
    # `deprecate churn@v1` then `deprecate churn` within one second (CI saw this):
    # the tag names sort the other way round, the artifact must still be deprecated.
    register(timeline, 1)
    register(timeline, 2)
    s = timeline.apply(plan_deregister(timeline.state(), "churn@v1.0.0"), date=1_900_000_000)
    s = timeline.apply(plan_deprecate(s, "churn"), date=1_900_000_000)
    art = s.artifacts["churn"]
    assert [e.tag for e in art.history][-2:] == ["churn@v1.0.0!", "churn@deprecated"]
    assert art.deprecated
