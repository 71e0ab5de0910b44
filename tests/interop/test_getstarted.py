"""import-dvc on a project shaped like DVC's example-get-started (tests/interop/getstarted.py),
each conversion checked by using it through gitml."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitml.workspace.pointer import parse_pointer
from tests.conftest import Cli, git
from tests.interop.getstarted import build


@pytest.fixture(scope="session")
def getstarted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("getstarted")
    build(base)
    return base


@pytest.fixture
def project(getstarted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> Path:
    """A private copy of the project (the registry and remotes are only read),
    imported with ``gitml import-dvc`` and committed; the cwd for the test."""
    root = tmp_path / "project"
    shutil.copytree(getstarted / "project", root, symlinks=True)
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(tmp_path / "dvc-site"))
    monkeypatch.chdir(root)
    git(root, "update-index", "--refresh", check=False)
    cli("init", "--no-hooks")
    return root


def _tag_commit(root: Path, tag: str) -> str:
    return git(root, "rev-parse", f"{tag}^{{commit}}").strip()


def test_every_feature_says_what_it_became(project: Path, cli: Cli, getstarted: Path) -> None:
    out = cli("import-dvc").out
    v1, v2 = _tag_commit(project, "text-classification@v1.0.0"), _tag_commit(project, "HEAD")
    pointer = parse_pointer((project / "data" / "data.xml.gitml").read_bytes(), source="p")
    assert pointer.source is not None
    lock = pointer.source.commit
    carried = [line for line in out.splitlines() if line.startswith("carried ")]
    assert carried == [
        f"carried import data/data.xml → import pointer ({getstarted / 'registry'} at "
        f"{lock[:12]}; gitml update moves it)",
        "carried frozen stage archive → stage archive, frozen",
        "carried artifact text-classification → artifacts: text-classification (model.pkl)",
        "carried metrics eval/metrics.json → metrics:",
        "carried plot Confusion-Matrix → plots: (gitml report)",
        "carried plot eval/plots/roc.json → plots: (gitml report)",
        "carried plot eval/importance.png → plots: (gitml report)",
        f"carried experiment seven → refs/gitml/exps/{v2[:12]}/seven (gitml exp show)",
        f"carried registered version text-classification@v1.0.0 → model.pkl at {v1[:12]} "
        f"(refs/gitml/dvc/{v1[:12]}…)",
        f"carried registered version text-classification@v2.0.0 → model.pkl at {v2[:12]} "
        f"(refs/gitml/dvc/{v2[:12]}…)",
    ]
    assert "not converted" not in out
    removed = next(line for line in out.splitlines() if line.startswith("removed from"))
    assert removed == (
        "removed from the git index (still on disk): data/data.xml.dvc, dvc.lock, dvc.yaml, "
        ".dvc/.gitignore, .dvc/config, .dvcignore"
    )
    left = git(project, "ls-files", "--", "*.dvc", "dvc.yaml", "dvc.lock", ".dvc", ".dvcignore")
    assert left == ""


def test_artifacts_and_registered_versions(project: Path, cli: Cli, tmp_path: Path) -> None:
    cli("import-dvc")
    git(project, "commit", "-q", "-m", "from DVC")
    cli("checkout", "text-classification@v1.0.0", "-o", str(tmp_path / "v1.pkl"))
    assert (tmp_path / "v1.pkl").read_bytes() == b"model 5 <posts>v1</posts>\n<posts>v1</posts>\n"
    cli("checkout", "text-classification#prod", "-o", str(tmp_path / "prod.pkl"))
    assert (tmp_path / "prod.pkl").read_bytes().startswith(b"model 6 ")
    show = json.loads(cli("models", "show", "text-classification", "--json").out)
    assert [(v["version"], v["metrics"]) for v in show["versions"]] == [
        ("v2.0.0", {"avg_prec": 0.46, "roc_auc": 0.56}),
        ("v1.0.0", {"avg_prec": 0.45, "roc_auc": 0.55}),
    ]
    yaml = (project / "gitml.yaml").read_text()
    assert (
        "artifacts:\n  text-classification:\n    path: model.pkl\n    type: model\n"
        "    description: Detect sentiment\n    labels: [nlp, classification]\n"
        "    metrics: [eval/metrics.json]\n"
    ) in yaml
    res = cli("gc", "--dry-run")
    assert res.out.startswith("would remove 0 objects")


def test_metrics_diff_and_report_with_the_plots(project: Path, cli: Cli, tmp_path: Path) -> None:
    cli("import-dvc")
    git(project, "commit", "-q", "-m", "from DVC")
    diff = json.loads(
        cli("metrics", "diff", "text-classification@v1.0.0", "text-classification#prod",
            "--json").out
    )  # fmt: skip
    rows = {(r["file"], r["key"]): (r["old"], r["new"]) for r in diff["changes"]}
    assert rows == {
        ("eval/metrics.json", "avg_prec"): (0.45, 0.46),
        ("eval/metrics.json", "roc_auc"): (0.55, 0.56),
    }, diff
    page = tmp_path / "report.html"
    cli("report", "--models", "text-classification", "-o", str(page))
    text = page.read_text()
    for name in ("Confusion-Matrix", "eval/plots/roc.json", "eval/importance.png"):
        assert f"data-plot='{name}'" in text
    assert "data:image/png;base64," in text


def test_update_moves_the_dvc_import(project: Path, cli: Cli, getstarted: Path) -> None:
    cli("import-dvc")
    pointer = parse_pointer((project / "data" / "data.xml.gitml").read_bytes(), source="p")
    assert pointer.source is not None
    assert pointer.source.url == str(getstarted / "registry")
    assert (project / "data" / "data.xml").read_text() == "<posts>v1</posts>\n"
    res = cli("update", "data/data.xml")
    newest = git(getstarted / "registry", "rev-parse", "HEAD").strip()
    assert res.out == f"data/data.xml: updated to {newest[:12]} (18 B)\n"
    assert (project / "data" / "data.xml").read_text() == "<posts>v2</posts>\n"


def test_experiments_and_frozen_stages(project: Path, cli: Cli) -> None:
    cli("import-dvc")
    git(project, "commit", "-q", "-m", "from DVC")
    shown = json.loads(cli("exp", "show", "--json").out)
    exps = shown["items"] if isinstance(shown, dict) else shown
    assert [(e["name"], e["status"], e["overrides"]) for e in exps] == [
        ("seven", "ok", {"train.n_est": 7})
    ]
    assert exps[0]["metrics"] == {"eval/metrics.json": {"avg_prec": 0.47, "roc_auc": 0.57}}
    res = cli("repro")
    assert "stage archive: frozen (not run)" in res.out
    assert (project / "archive.pkl").read_bytes().startswith(b"model 5 ")


def test_from_an_http_dvc_remote_with_no_dvc_cache(
    project: Path, cli: Cli, getstarted: Path, tmp_path: Path
) -> None:
    """Every object, old versions' models included, comes from DVC's HTTP remote."""
    from tests.testing.servers_http import HttpServer

    shutil.rmtree(project / ".dvc" / "cache")
    (project / "model.pkl").unlink()
    server = HttpServer(getstarted / "project-remote")
    try:
        (project / ".dvc" / "config.local").write_text(
            f"[core]\n    remote = web\n['remote \"web\"']\n    url = {server.url}\n"
        )
        out = cli("import-dvc", "--from-remote", "web").out
    finally:
        server.stop()
    assert "carried registered version text-classification@v1.0.0" in out
    git(project, "commit", "-q", "-m", "from DVC")
    cli("checkout", "text-classification@v1.0.0", "-o", str(tmp_path / "v1.pkl"))
    assert (tmp_path / "v1.pkl").read_bytes().startswith(b"model 5 ")
    assert (project / "model.pkl").read_bytes().startswith(b"model 6 ")


def test_a_clone_checks_out_the_dvc_made_versions(project: Path, cli: Cli, tmp_path: Path) -> None:
    from tests.conftest import run_gitml

    out = cli("import-dvc").out
    assert out.splitlines()[-1] == (
        "Then gitml push --all-commits shares the models of the older versions too"
    )
    git(project, "commit", "-q", "-m", "from DVC")
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(project, "remote", "add", "origin", str(bare))
    cli("remote", "add", "team", str(tmp_path / "store"), "--default")
    git(project, "commit", "-q", "-am", "data remote")
    cli("push", "--all-commits")
    git(project, "push", "-q", "origin", "main")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare), str(clone))
    run_gitml(clone, "pull", check=True)
    assert git(clone, "for-each-ref", "--format=%(refname)", "refs/gitml/dvc/").count("\n") == 2
    run_gitml(clone, "checkout", "text-classification@v1.0.0", "-o", str(tmp_path / "v1"),
              check=True)  # fmt: skip
    assert (tmp_path / "v1").read_bytes().startswith(b"model 5 ")


def test_a_clone_without_a_data_remote_pulls_the_dvc_import_from_its_source(
    project: Path, cli: Cli, tmp_path: Path
) -> None:
    from tests.conftest import run_gitml

    cli("import-dvc")
    git(project, "commit", "-q", "-m", "from DVC")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(project), str(clone))
    res = run_gitml(clone, "pull", "data/data.xml", check=True)
    assert "restored 1 imports from their sources: data/data.xml" in res.stdout
    assert (clone / "data" / "data.xml").read_text() == "<posts>v1</posts>\n"
