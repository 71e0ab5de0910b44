"""Real git, real GTO: GTO reads the tags gitml plans, and gitml reads GTO's tags.

The git side mimics ``gitml.git.tags``: tags are created with ``git tag -a`` (default
message clean-up) and listed with ONE ``git for-each-ref``. No ``artifacts.yaml`` or
``dvc.yaml`` is written: GTO discovers artifacts from tags alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gto.api
import pytest

from gitml.registry.model import RawTag, RegistryState, TagLike
from gitml.registry.ops import (
    TagPlan,
    conflict_error,
    plan_assign,
    plan_deprecate,
    plan_deregister,
    plan_register,
    plan_unassign,
)
from gitml.registry.record import ModelInfo, RegistrationRecord
from gitml.registry.state import fold_tags

if TYPE_CHECKING:
    from gitml.git.tags import TagInfo

    def _tag_info_is_tag_like(info: TagInfo) -> TagLike:
        return info  # mypy checks the contract between gitml.git.tags and the registry


GTO = Path(sys.executable).with_name("gto")
_SEP = "\x00\x1e\x00"
_FORMAT = (
    "%00".join(
        [
            "%(refname:strip=2)",
            "%(objecttype)",
            "%(*objectname)",
            "%(objectname)",
            "%(taggername) %(taggeremail)",
            "%(taggerdate:unix)",
            "%(contents)",
        ]
    )
    + "%00%1e%00"
)


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.clock = 1_700_000_000
        self.commits = 0
        self.env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Ann",
            "GIT_AUTHOR_EMAIL": "ann@example.com",
            "GIT_COMMITTER_NAME": "Ann",
            "GIT_COMMITTER_EMAIL": "ann@example.com",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(root.parent),
        }
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, date: int | None = None) -> str:
        env = self.env if date is None else {**self.env, "GIT_COMMITTER_DATE": f"{date} +0000"}
        done = subprocess.run(
            ["git", *args], cwd=self.root, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout

    def commit(self, content: str, path: str = "models/churn.pkl.gitml") -> str:
        file = self.root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(content)
        self.git("add", path)
        # Commits are older than every tag: GTO counts commit dates as events of the
        # artifact, so a commit dated after a deprecation tag would revive the artifact.
        self.commits += 1
        when = f"{1_600_000_000 + self.commits} +0000"
        self.git(
            "commit",
            "-q",
            "-m",
            f"model {content}",
            "--date",
            when,
            date=1_600_000_000 + self.commits,
        )
        return self.git("rev-parse", "HEAD").strip()

    def apply(self, plan: TagPlan) -> RegistryState:
        self.clock += 10
        self.git("tag", "-a", plan.tag, plan.rev, "-m", plan.message, date=self.clock)
        return self.state()

    def tags(self) -> list[RawTag]:
        out = self.git("for-each-ref", f"--format={_FORMAT}", "refs/tags")
        tags = []
        for chunk in out.split(_SEP)[:-1]:
            name, kind, peeled, obj, tagger, date, message = chunk.lstrip("\n").split("\x00")
            annotated = kind == "tag"
            tags.append(
                RawTag(
                    name, peeled if annotated else obj, tagger, int(date or 0), message, annotated
                )
            )
        return tags

    def state(self) -> RegistryState:
        return fold_tags(self.tags())


def gto_show(repo: Repo, *args: str) -> Any:
    done = subprocess.run(
        [str(GTO), "show", "--json", "-r", str(repo.root), *args],
        cwd=repo.root,
        env=repo.env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


def our_summary(state: RegistryState) -> dict[str, Any]:
    """Our state in the shape of ``gto show --json`` (stages with a version only)."""
    return {
        art.name: {
            "version": str(latest.version) if (latest := art.latest()) else None,
            "stages": {
                name: str(st.current.version) for name, st in art.stages.items() if st.current
            },
        }
        for art in state.artifacts.values()
        if not art.deprecated
    }


def gto_summary(shown: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {"version": d["version"], "stages": {k: v for k, v in d["stage"].items() if v}}
        for name, d in shown.items()
    }


def model(n: int) -> ModelInfo:
    return ModelInfo("models/churn.pkl", f"{n:064x}", 1000 * n)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    return Repo(root)


def test_gto_reads_what_gitml_writes(repo: Repo) -> None:
    c1, c2, c3 = (repo.commit(f"v{n}") for n in (1, 2, 3))
    s = repo.apply(plan_register(repo.state(), "churn", commit=c1, model=model(1)))
    s = repo.apply(plan_register(s, "churn", commit=c2, model=model(2), params={"lr": 0.1}))
    s = repo.apply(plan_register(s, "churn", commit=c3, model=model(3)))
    s = repo.apply(plan_assign(s, "churn@v1", "prod"))
    s = repo.apply(plan_assign(s, "churn@v2", "prod"))
    s = repo.apply(plan_assign(s, "churn@v1", "staging"))
    s = repo.apply(plan_assign(s, "churn@v3", "staging"))
    s = repo.apply(plan_unassign(s, "churn", "staging"))  # v3 leaves, v1 is back
    s = repo.apply(plan_deregister(s, "churn@v3.0.0"))
    s = repo.apply(plan_register(s, "mono/a:fraud", commit=c1, model=model(4)))
    s = repo.apply(plan_assign(s, "mono/a:fraud@latest", "prod"))
    s = repo.apply(plan_register(s, "old", commit=c2, model=model(5)))
    s = repo.apply(plan_deprecate(s, "old"))
    assert s.warnings == ()
    assert {t.name for t in repo.tags()} >= {"churn#staging!#5", "mono/a=fraud@v1.0.0"}

    repo.git("tag", "lonely@v1.0.0", c1)  # lightweight: GTO and gitml both skip it
    assert [w.tag for w in repo.state().warnings] == ["lonely@v1.0.0"]

    shown = gto_show(repo)
    assert "lonely" not in shown
    assert shown["churn"] == {
        "version": "v2.0.0",
        "stage": {"prod": "v2.0.0", "staging": "v1.0.0"},
        "registered": True,
        "active": True,
    }
    assert shown["mono/a:fraud"]["stage"]["prod"] == "v1.0.0"
    assert "old" not in shown  # deprecated artifacts are hidden, as ours are
    assert gto.api.show(str(repo.root), deprecated=True)["old"]["active"] is False
    assert gto_summary(shown) == our_summary(s)

    versions = {v["version"]: v for v in gto.api.show(str(repo.root), "churn")}
    assert versions["v2.0.0"]["commit_hexsha"] == c2
    assert "v3.0.0" not in versions  # deregistered
    # The record is in the message GTO shows; our parse of the same message agrees.
    message = versions["v2.0.0"]["registrations"][0]["message"]
    assert message.startswith("Register churn v2.0.0: models/churn.pkl (2.0 kB)")
    rec = s.artifacts["churn"].versions["v2.0.0"].record
    assert isinstance(rec, RegistrationRecord) and rec.params == {"lr": 0.1}

    # GTO's Python API agrees on shortcuts and history.
    assert [v["version"] for v in gto.api.show(str(repo.root), "churn#prod")] == ["v2.0.0"]
    assert [v["version"] for v in gto.api.show(str(repo.root), "churn@latest")] == ["v2.0.0"]
    events = gto.api.history(str(repo.root), "churn", ascending=True)
    ours = s.artifacts["churn"].history
    assert [e["event"] for e in events] == [
        {
            "register": "registration",
            "deregister": "deregistration",
            "assign": "assignment",
            "unassign": "unassignment",
        }[e.action]
        for e in ours
    ]


def test_gitml_reads_what_gto_writes(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_NOSYSTEM",
        "HOME",
    ):
        monkeypatch.setenv(key, repo.env[key])
    root = str(repo.root)
    c1, c2, c3 = (repo.commit(f"v{n}") for n in (1, 2, 3))

    def tick() -> None:  # GTO orders by tagger date (seconds): keep events apart
        time.sleep(1.05)

    gto.api.register(root, "churn", c1)  # GTO's first version: v0.0.1
    gto.api.register(root, "churn", c2, bump_major=True)
    gto.api.register(root, "churn", c3)  # default patch bump
    gto.api.register(root, "mono/x:fraud", c1)
    gto.api.register(root, "old", c1, version="v2.0.0-rc.1")
    gto.api.assign(root, "churn", "prod", version="v0.0.1")
    tick()
    gto.api.assign(root, "churn", "prod", version="v1.0.0")
    gto.api.assign(root, "churn", "staging", version="v1.0.1")
    gto.api.assign(root, "mono/x:fraud", "prod", version="v0.0.1")
    tick()
    gto.api.unassign(root, "churn", stage="staging", version="v1.0.1")
    gto.api.deregister(root, "churn", version="v1.0.1")
    gto.api.deprecate(root, "old")

    names = {t.name for t in repo.tags()}
    assert names == {
        "churn@v0.0.1",
        "churn@v1.0.0",
        "churn@v1.0.1",
        "churn@v1.0.1!",
        "churn#prod#1",
        "churn#prod#2",
        "churn#staging#3",
        "churn#staging!#4",
        "mono/x=fraud@v0.0.1",
        "mono/x=fraud#prod#1",
        "old@v2.0.0-rc.1",
        "old@deprecated",
    }
    s = repo.state()
    assert s.warnings == ()
    churn = s.artifacts["churn"]
    assert {k: v.active for k, v in churn.versions.items()} == {
        "v0.0.1": True,
        "v1.0.0": True,
        "v1.0.1": False,
    }
    assert churn.versions["v1.0.0"].commit == c2
    assert churn.versions["v1.0.0"].record is None  # GTO messages are free text
    assert [str(v.version) for v in churn.stages["prod"].active] == ["v1.0.0", "v0.0.1"]
    assert churn.stages["staging"].current is None
    assert churn.next_counter == 5
    assert s.artifacts["old"].deprecated
    assert str(s.artifacts["mono/x:fraud"].stages["prod"].current.version) == "v0.0.1"  # type: ignore[union-attr]
    assert gto_summary(gto_show(repo)) == our_summary(s)
    # And gitml continues GTO's numbering and counters.
    plan = plan_assign(s, "churn@v0.0.1", "prod")
    assert plan.tag == "churn#prod#5"
    nxt = plan_register(s, "churn", commit=repo.commit("v4"), model=model(4))
    assert nxt.tag == "churn@v2.0.0"


def test_through_gitml_git_tags(repo: Repo) -> None:
    """The real ``gitml.git.tags`` (one for-each-ref, atomic create) feeds the fold."""
    tags_mod = pytest.importorskip("gitml.git.tags")
    repo_mod = pytest.importorskip("gitml.git.repo")
    c1, c2 = repo.commit("v1"), repo.commit("v2")
    with repo_mod.GitRepo.discover(repo.root) as git_repo:

        def read() -> RegistryState:
            return fold_tags(tags_mod.list_tags(git_repo))

        plan = plan_register(read(), "churn", commit=c1, model=model(1), note="# not a comment")
        tags_mod.create_tag(git_repo, plan.tag, plan.rev, plan.message)
        before = read()
        mine = plan_register(before, "churn", commit=c2, model=model(2))
        theirs = plan_register(before, "churn", commit=c2, model=model(3))
        assert mine.tag == theirs.tag == "churn@v2.0.0"
        repo.git("tag", "-a", theirs.tag, theirs.rev, "-m", theirs.message)  # someone else
        with pytest.raises(tags_mod.TagExistsError):
            tags_mod.create_tag(git_repo, mine.tag, mine.rev, mine.message)
        err = conflict_error(mine, read())
        assert err.message.startswith("version v2.0.0 of churn already registered by Ann")
        state = read()
        rec = state.artifacts["churn"].versions["v1.0.0"].record
        assert rec is not None and rec.note == "# not a comment"
        tagger = state.artifacts["churn"].versions["v1.0.0"].registration.tagger
        assert tagger.endswith(">") and " <" in tagger  # "Name <email>"
