"""Tag grammar, names, SemVer and user references (pure; GTO used as an oracle)."""

from __future__ import annotations

import subprocess

import pytest
import semver as pysemver
from gto.constants import ACTION, COUNTER, NAME, STAGE, VERSION, Action
from gto.tag import parse_name as gto_parse_name
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gitml.errors import GitmlError, RegistryError, UsageError
from gitml.project.names import (
    DIRNAME_PATTERN,
    NAME_PATTERN,
    artifact_problem,
    ref_format_problem,
    stage_problem,
    validate_artifact_name,
    validate_stage,
)
from gitml.registry.grammar import (
    Assignment,
    Deprecation,
    Deregistration,
    Ref,
    Registration,
    TagEvent,
    Unassignment,
    format_tag,
    looks_like_registry_ref,
    parse_ref,
    parse_tag,
)
from gitml.registry.semver import SemVer, match_short, match_version, parse_version

V = SemVer

# ---------------------------------------------------------------- examples


@pytest.mark.parametrize(
    ("tag", "event"),
    [
        ("churn@v1.0.0", Registration("churn", V(1, 0, 0))),
        ("churn@v1.2.3!", Deregistration("churn", V(1, 2, 3))),
        ("churn@deprecated", Deprecation("churn")),
        ("churn#prod#7", Assignment("churn", "prod", 7)),
        ("churn#prod!#8", Unassignment("churn", "prod", 8)),
        ("churn#prod", Assignment("churn", "prod")),  # GTO --simple
        ("churn@v1.0.0#3", Registration("churn", V(1, 0, 0), 3)),  # GTO without --simple
        ("churn@v1.0.0!#4", Deregistration("churn", V(1, 0, 0), 4)),
        ("churn@deprecated#5", Deprecation("churn", 5)),
        ("models/churn-v2_x@v10.20.30", Registration("models/churn-v2_x", V(10, 20, 30))),
        ("mono/dir.x=churn@v1.0.0", Registration("mono/dir.x:churn", V(1, 0, 0))),
        ("c@v1.0.0-rc.1+b.7", Registration("c", V(1, 0, 0, ("rc", "1"), ("b", "7")))),
        ("a#b#0", Assignment("a", "b", 0)),
    ],
)
def test_parse_and_format_examples(tag: str, event: TagEvent) -> None:
    assert parse_tag(tag) == event
    assert format_tag(event) == tag


@pytest.mark.parametrize(
    "tag",
    [
        "",
        "v1.0.0",
        "churn",
        "churn@",
        "churn@1.0.0",  # GTO requires the v
        "churn@V1.0.0",
        "churn@v1.0",  # short versions are references, never tags
        "churn@v01.0.0",
        "churn@v1.0.0-01",
        "churn@latest",
        "churn@created",  # GTO's creation tags carry no event
        "churn#prod#03",  # non-canonical counter
        "churn#prod#-1",
        "churn#prod!",  # fine: simple unassignment -> tested below, not here
        "-churn@v1.0.0",
        "churn-@v1.0.0",
        "ch urn@v1.0.0",
        "churn@v1.0.0\n",
        "ch..urn@v1.0.0",
        "x..y=churn@v1.0.0",  # git refuses '..'
        ".hidden/x=churn@v1.0.0",
        "a/.x=churn@v1.0.0",
        "a.lock/x=churn@v1.0.0",
        "a//b@v1.0.0",
        "churn@v1.0.0-x.lock",  # git refuses a component ending in .lock
        "churn#pr.od#1",
        "churn#prod#1#2",
        "churn@v1.0.0@v2.0.0",
        "churn@v١.0.0",  # non-ASCII digit: GTO's \\d takes it, we do not
        "ch\x00urn@v1.0.0",
    ],
)
def test_rejected_tags(tag: str) -> None:
    if tag == "churn#prod!":
        assert parse_tag(tag) == Unassignment("churn", "prod")
        return
    with pytest.raises(RegistryError):
        parse_tag(tag)


def test_format_refuses_invalid_fields() -> None:
    bad: list[TagEvent] = [
        Registration("bad name", V(1, 0, 0)),
        Assignment("churn", "pr od", 1),
        Assignment("churn", "prod", -1),
        Registration("churn", V(1, 0, 0, ("x", "lock"))),  # churn@v1.0.0-x.lock
        Deprecation("a..b:c"),
    ]
    for event in bad:
        with pytest.raises(UsageError):
            format_tag(event)


def test_validate_names() -> None:
    assert validate_artifact_name("models/churn") == "models/churn"
    assert validate_artifact_name("dir/sub:churn") == "dir/sub:churn"
    assert validate_stage("prod") == "prod"
    for bad in ["", "-a", "a-", "a..b:c", "a b", "a\x01", "a@b", "a#b", "x" * 151, ".x:y", "a//b"]:
        with pytest.raises(UsageError):
            validate_artifact_name(bad)
    for bad in ["", "p.rod", "prod/", "pr od", "x" * 151, "a:b"]:
        with pytest.raises(UsageError):
            validate_stage(bad)


# ---------------------------------------------------------------- semver


def test_semver_order_and_bump() -> None:
    order = [
        "v0.0.1",
        "v1.0.0-alpha",
        "v1.0.0-alpha.1",
        "v1.0.0-alpha.beta",
        "v1.0.0-beta",
        "v1.0.0-beta.2",
        "v1.0.0-beta.11",
        "v1.0.0-rc.1",
        "v1.0.0",
        "v1.0.1",
        "v1.10.0",
        "v2.0.0",
    ]
    parsed = [parse_version(v) for v in order]
    assert sorted(reversed(parsed)) == parsed
    assert [str(v) for v in parsed] == order
    assert V(1, 2, 3).bump("major") == V(2, 0, 0)
    assert V(1, 2, 3).bump("minor") == V(1, 3, 0)
    assert V(1, 2, 3).bump("patch") == V(1, 2, 4)
    assert V(2, 0, 0, ("rc", "1")).bump("patch") == V(2, 0, 1)
    assert match_short("v3") == (3,)
    assert match_short("v3.1") == (3, 1)
    assert match_short("v3.1.2") is None
    assert match_short("v03") is None
    with pytest.raises(UsageError):
        parse_version("1.0.0")


prerelease_ids = st.one_of(
    st.integers(0, 50).map(str), st.from_regex(r"[0-9]*[a-zA-Z-][0-9a-zA-Z-]*", fullmatch=True)
)
semvers = st.builds(
    SemVer,
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 5),
    st.lists(prerelease_ids, max_size=3).map(tuple),
    st.lists(st.from_regex(r"[0-9a-zA-Z-]+", fullmatch=True), max_size=2).map(tuple),
)


@settings(deadline=None)
@given(semvers, semvers)
def test_semver_precedence_matches_python_semver(a: SemVer, b: SemVer) -> None:
    expected = pysemver.Version.parse(str(a)[1:]).compare(str(b)[1:])
    if expected == 0:
        assert a.precedence_equal(b)
    else:
        assert (a < b) == (expected < 0)
        assert not a.precedence_equal(b)
    assert match_version(str(a)) == a


# ---------------------------------------------------------------- properties

GRAMMAR_ALPHABET = "ab01-_/.=@#!v+deprcatlkx "


def _gto_view(event: TagEvent) -> dict[str, object]:
    """Our event in the shape of gto.tag.parse_name's result."""
    name = event.artifact
    if isinstance(event, Registration | Deregistration):
        action = Action.REGISTER if isinstance(event, Registration) else Action.DEREGISTER
        view: dict[str, object] = {NAME: name, ACTION: action, VERSION: str(event.version)}
    elif isinstance(event, Assignment | Unassignment):
        action = Action.ASSIGN if isinstance(event, Assignment) else Action.UNASSIGN
        view = {NAME: name, ACTION: action, STAGE: event.stage}
    else:
        view = {NAME: name, ACTION: Action.DEPRECATE}
    if event.counter is not None:
        view[COUNTER] = event.counter
    return view


def _check_any_string(text: str) -> None:
    try:
        event = parse_tag(text)
    except RegistryError:
        gto = gto_parse_name(text, raise_on_fail=False)
        if gto and gto.get(ACTION) is not None:
            # GTO reads it but we refuse: only for reasons we document.
            why = ref_format_problem("refs/tags/" + text)
            assert why is not None or "#0" in text or text.isascii() is False or "\n" in text
        return
    except GitmlError as exc:  # pragma: no cover - would be a bug
        raise AssertionError(f"wrong error type for {text!r}: {exc!r}") from exc
    assert format_tag(event) == text
    assert ref_format_problem("refs/tags/" + text) is None
    assert gto_parse_name(text) == _gto_view(event)  # GTO reads it the same way


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=GRAMMAR_ALPHABET, max_size=30))
@example("a/b=c@v1.0.0#1")
@example("a=b=c@v1.0.0")
def test_any_grammar_like_string_parses_or_fails_cleanly(text: str) -> None:
    _check_any_string(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_string_parses_or_fails_cleanly(text: str) -> None:
    _check_any_string(text)


names = st.from_regex(NAME_PATTERN, fullmatch=True).filter(lambda n: artifact_problem(n) is None)
full_names = st.one_of(
    names,
    st.tuples(st.from_regex(DIRNAME_PATTERN, fullmatch=True), names)
    .map(lambda p: f"{p[0]}:{p[1]}")
    .filter(lambda n: artifact_problem(n) is None),
)
stages = st.from_regex(NAME_PATTERN, fullmatch=True).filter(lambda s: stage_problem(s) is None)
counters = st.none() | st.integers(0, 10**6)
events = st.one_of(
    st.builds(Registration, full_names, semvers, counters),
    st.builds(Deregistration, full_names, semvers, counters),
    st.builds(Deprecation, full_names, counters),
    st.builds(Assignment, full_names, stages, counters),
    st.builds(Unassignment, full_names, stages, counters),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(events)
def test_generated_events_round_trip(event: TagEvent) -> None:
    try:
        tag = format_tag(event)
    except UsageError:
        # Only a version git refuses (a pre-release ending in ".lock") may fail.
        assert isinstance(event, Registration | Deregistration)
        assert ".lock" in str(event.version)
        return
    assert parse_tag(tag) == event


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(events)
def test_git_accepts_every_tag_we_format(event: TagEvent) -> None:
    try:
        tag = format_tag(event)
    except UsageError:
        return
    done = subprocess.run(["git", "check-ref-format", f"refs/tags/{tag}"], check=False)
    assert done.returncode == 0, tag


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab/.@{}-~^:?*[\\ \x01\x7f", max_size=12))
def test_ref_format_problem_agrees_with_git(text: str) -> None:
    refname = f"refs/tags/{text}"
    done = subprocess.run(["git", "check-ref-format", refname], check=False)
    assert (ref_format_problem(refname) is None) == (done.returncode == 0), refname


# ---------------------------------------------------------------- references


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("churn@v3", Ref("churn", "short", prefix=(3,))),
        ("churn@v3.1", Ref("churn", "short", prefix=(3, 1))),
        ("churn@v3.1.2", Ref("churn", "version", version=V(3, 1, 2))),
        ("churn@v3.1.2-rc.1", Ref("churn", "version", version=V(3, 1, 2, ("rc", "1")))),
        ("churn@latest", Ref("churn", "latest")),
        ("churn@greatest", Ref("churn", "latest")),  # GTO's alias
        ("churn#prod", Ref("churn", "stage", stage="prod")),
        ("models/churn#prod", Ref("models/churn", "stage", stage="prod")),
        ("mono/x:churn@v1", Ref("mono/x:churn", "short", prefix=(1,))),
    ],
)
def test_parse_ref(text: str, ref: Ref) -> None:
    assert parse_ref(text) == ref
    assert looks_like_registry_ref(text)
    if text != "churn@greatest":
        assert str(ref) == text


@pytest.mark.parametrize(
    "text",
    [
        "churn",
        "churn@",
        "churn@HEAD",
        "churn@main",
        "churn@v3.x",
        "churn@3",
        "data/x.csv@HEAD~1",
        "churn#",
        "churn#pr od",
        "churn@v1#prod",
        "a..b:c@v1",
        "churn@abc1234",
        "churn#prod#3",
    ],
)
def test_not_registry_refs(text: str) -> None:
    assert not looks_like_registry_ref(text)
    with pytest.raises(UsageError):
        parse_ref(text)


@settings(deadline=None)
@given(st.text(alphabet="ab1.@#v-/:latesgrpod", max_size=20))
def test_parse_ref_any_string(text: str) -> None:
    try:
        ref = parse_ref(text)
    except UsageError:
        return
    assert parse_ref(str(ref)) == ref


JUNK = st.text(alphabet=GRAMMAR_ALPHABET + "\n\x00é١", max_size=3)


@st.composite
def mutated_tags(draw: st.DrawFn) -> str:
    """A valid tag with a random splice: exercises the edge of the grammar."""
    event = draw(events)
    try:
        text = format_tag(event)
    except UsageError:
        text = "churn@v1.0.0"
    i = draw(st.integers(0, len(text)))
    j = draw(st.integers(i, min(len(text), i + 3)))
    junk = draw(JUNK)
    return text[:i] + junk + text[j:]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(mutated_tags())
def test_mutated_tags_parse_or_fail_cleanly(text: str) -> None:
    _check_any_string(text)
