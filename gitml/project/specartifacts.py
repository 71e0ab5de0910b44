"""The ``artifacts:`` section of ``gitml.yaml``, validated strictly like ``guards:``.

An artifact is a thing the registry versions (a model, a dataset...). Its
``metrics:`` file links it to the model guards that read that file: a commit
that changes the artifact's pointer runs them even when the metrics did not
change. Cheap to import (no registry, no git).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitml.bounded import quote
from gitml.errors import GitmlError
from gitml.project.yamlnodes import (
    YamlMap,
    check_keys,
    expect_relpath,
    expect_str,
    expect_str_list,
    node_error,
)
from gitml.safepath import check_relpath

ARTIFACT_KEYS = ("path", "type", "metrics", "description", "labels")


@dataclass(frozen=True, slots=True)
class ArtifactSpec:
    name: str
    path: str  # the tracked model (or data) path, relative to the repo root
    type: str | None = None  # free text, as GTO: model, dataset, ...
    metrics: tuple[str, ...] = ()  # metrics files describing it
    description: str | None = None
    labels: tuple[str, ...] = ()
    line: int = 0

    @property
    def metrics_file(self) -> str | None:
        """The first metrics file: the one registrations record and guards compare."""
        return self.metrics[0] if self.metrics else None


def parse_artifacts(node: YamlMap) -> dict[str, ArtifactSpec]:
    """Validate the section (``node`` is its mapping; empty = none declared)."""
    from gitml.project.names import MAX_NAME_BYTES, artifact_problem

    out: dict[str, ArtifactSpec] = {}
    for name, body in node.items():
        problem = artifact_problem(name)
        if problem is None and len(name.encode()) > MAX_NAME_BYTES:
            problem = f"it is longer than {MAX_NAME_BYTES} bytes"
        if problem is not None:
            fixed = re.sub(r"[^a-zA-Z0-9/_-]+", "-", name).strip("-_/")[:MAX_NAME_BYTES]
            raise node_error(
                node,
                name,
                f"artifact name {quote(name)} is not valid: {problem}",
                f"did you mean {quote(fixed)}?" if fixed and fixed != name else None,
            )
        where = f"artifact {quote(name)}"
        if not isinstance(body, YamlMap):
            raise node_error(
                node, name, f"{where} must be a mapping", f"{name}: {{path: models/model.pkl}}"
            )
        check_keys(body, ARTIFACT_KEYS, where)
        path = expect_relpath(body, "path", where, required=True)
        assert path is not None
        out[name] = ArtifactSpec(
            name=name,
            path=path,
            type=expect_str(body, "type", where),
            metrics=_metrics(body, where),
            description=expect_str(body, "description", where),
            labels=expect_str_list(body, "labels", where) or (),
            line=node.line_of(name),
        )
    return out


def _metrics(body: YamlMap, where: str) -> tuple[str, ...]:
    out = []
    for item in expect_str_list(body, "metrics", where) or ():
        try:
            out.append(check_relpath(item.strip(), what="metrics file"))
        except GitmlError as exc:
            raise node_error(body, "metrics", f"{where}: {exc.message}") from None
    return tuple(out)
