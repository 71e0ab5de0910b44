"""Whatever gitml.yaml holds, loading it either works or raises ConfigError."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitml.errors import ConfigError
from gitml.project.file import parse_project

KEYS = [
    "guards", "artifacts", "stages", "params", "evaluate", "raw", "data", "format", "schema",
    "columns", "strict", "rows", "min", "max", "rules", "column", "mostly", "null_fraction",
    "range", "allowed", "regex", "unique", "change", "drift", "psi_max", "max_drop",
    "max_growth", "metrics", "thresholds", "no_regression", "against", "tolerance", "command",
    "timeout", "watch", "description", "accuracy", "tenure",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from([">= 0.8", "< 1", "int64", "parquet", "data/raw",
                                           "../x", "higher", "lower", "(", ".git/x", ""]),
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=5),
    ),
    max_leaves=10,
)
DOCS = st.dictionaries(st.sampled_from(KEYS[:5]) | st.text(max_size=5), VALUES, max_size=4)
RULE = st.dictionaries(st.sampled_from(KEYS[14:21]), VALUES, max_size=3)
GUARD = st.dictionaries(
    st.sampled_from(KEYS[5:]),
    st.one_of(VALUES, st.lists(RULE, max_size=3)),
    max_size=5,
)
GUARDS_DOCS = st.fixed_dictionaries(
    {"guards": st.dictionaries(st.sampled_from(["raw", "m"]), GUARD, max_size=2)}
)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def check(text: str | bytes) -> None:
    try:
        parse_project(text)
    except ConfigError:
        pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCS)
def test_structured_documents(doc: dict[str, Any]) -> None:
    check(yaml.dump(doc, Dumper=DUMPER, allow_unicode=True))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(GUARDS_DOCS)
def test_guard_documents(doc: dict[str, Any]) -> None:
    check(yaml.dump(doc, Dumper=DUMPER, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("guards:{}[]-,'\"&*!<>?| \n\t#%@`.0123456789ab~=")),
        max_size=80,
    )
)
def test_yamlish_text(text: str) -> None:
    check(text)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=60))
def test_random_bytes(data: bytes) -> None:
    check(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_guard_body_text(body: str) -> None:
    indented = "\n".join("    " + line for line in body.splitlines())
    check(f"guards:\n  g:\n{indented}\n")
