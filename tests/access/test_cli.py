"""gitml get / import / update / ls, and imports through status, pull and
checkout, on two real repositories."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitml.store.hashing import hash_bytes
from tests.conftest import Cli, git, run_gitml
from tests.testing.registry_repo import CSV_V1, CSV_V2, Repos


@pytest.fixture
def consumer(repos: Repos, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(repos.consumer)
    return repos.consumer


def test_get_copies_a_file_untracked(repos: Repos, consumer: Path, cli: Cli) -> None:
    res = cli("get", "../registry", "data/customers.csv", "--rev", "churn@v1")
    assert (consumer / "customers.csv").read_bytes() == CSV_V1
    commit = git(repos.registry, "rev-parse", "v1").strip()
    assert (
        res.out == f"copied data/customers.csv (9 B) at {commit[:12]} → {consumer}/customers.csv\n"
    )
    assert not (consumer / "customers.csv.gitml").exists()
    assert git(consumer, "status", "--porcelain", "--", "customers.csv") == "?? customers.csv\n"


def test_get_a_folder_and_refusal_to_overwrite(repos: Repos, consumer: Path, cli: Cli) -> None:
    cli("get", "../registry", "data/imgs", "-o", "imgs")
    assert sorted(p.name for p in (consumer / "imgs").iterdir()) == ["a.txt", "b.txt", "c.txt"]
    (consumer / "imgs" / "a.txt").write_bytes(b"mine\n")
    res = cli("get", "../registry", "data/imgs", "-o", "imgs", expect=1)
    assert res.err == (
        f"error: would overwrite {consumer}/imgs/a.txt\nhint: use --force, or another -o PATH\n"
    )
    assert (consumer / "imgs" / "a.txt").read_bytes() == b"mine\n"
    cli("get", "../registry", "data/imgs", "-o", "imgs", "--force")
    assert (consumer / "imgs" / "a.txt").read_bytes() == b"a\n"


def test_import_records_the_source_and_stages_the_pointer(
    repos: Repos, consumer: Path, cli: Cli
) -> None:
    res = cli("import", "../registry", "data/customers.csv", "-o", "data/customers.csv",
              "--rev", "v1")  # fmt: skip
    commit = git(repos.registry, "rev-parse", "v1").strip()
    assert res.out == (
        f"imported data/customers.csv (9 B) from ../registry at {commit[:12]} → "
        "data/customers.csv.gitml\nNext: git commit -m '...' (the pointer is staged)\n"
    )
    assert (consumer / "data" / "customers.csv").read_bytes() == CSV_V1
    assert (consumer / "data" / "customers.csv.gitml").read_text() == (
        'gitml: 1\nkind: file\npath: "customers.csv"\nhash: blake3\n'
        f"oid: {hash_bytes(CSV_V1)}\nsize: 9\n"
        'source_url: "../registry"\nsource_path: "data/customers.csv"\nsource_rev: "v1"\n'
        f"source_commit: {commit}\n"
    )
    staged = git(consumer, "diff", "--cached", "--name-only").split()
    assert "data/customers.csv.gitml" in staged and "data/.gitignore" in staged
    assert "data/customers.csv" not in staged


def test_import_refuses_an_existing_pointer_and_unsafe_urls(
    repos: Repos, consumer: Path, cli: Cli
) -> None:
    cli("import", "../registry", "data/customers.csv")
    res = cli("import", "../registry", "data/customers.csv", expect=1)
    assert res.err == (
        "error: customers.csv.gitml already exists\n"
        "hint: gitml update customers.csv moves an import; --force replaces it\n"
    )
    res = cli("import", "ext::sh -c touch% /tmp/pwned", "data/customers.csv", expect=2)
    assert res.err == (
        "error: repository URL 'ext::sh -c touch% /tmp/pwned' uses a git remote helper, "
        "not allowed\n"
    )
    assert not Path("/tmp/pwned").exists()


def test_status_update_and_rev_pinning(repos: Repos, consumer: Path, cli: Cli) -> None:
    cli("import", "../registry", "data/customers.csv", "-o", "customers.csv")
    cli("import", "../registry", "data/imgs", "-o", "imgs", "--rev", "v1")
    git(consumer, "commit", "-q", "-m", "imports")
    old = git(repos.registry, "rev-parse", "HEAD").strip()
    (repos.registry / "data" / "customers.csv").write_bytes(b"id,x\n9,9\n")
    run_gitml(repos.registry, "add", "data/customers.csv", check=True)
    git(repos.registry, "commit", "-q", "-m", "v3")
    run_gitml(repos.registry, "push", check=True)
    new = git(repos.registry, "rev-parse", "HEAD").strip()
    res = cli("status")
    assert res.out == (
        "       clean  customers.csv\n"
        "       clean  imgs\n"
        f"source moved  customers.csv  (../registry: its default branch is at {new[:12]}, "
        f"imported {old[:12]}; gitml update customers.csv)\n"
    )
    res = cli("update")
    assert res.out == (
        f"customers.csv: updated to {new[:12]} (9 B)\n"
        f"imgs: up to date (../registry at {git(repos.registry, 'rev-parse', 'v1').strip()[:12]})\n"
    )
    assert (consumer / "customers.csv").read_bytes() == b"id,x\n9,9\n"
    cli("update", "imgs", "--rev", "v2")
    assert sorted(p.name for p in (consumer / "imgs").iterdir()) == ["a.txt", "b.txt", "c.txt"]
    assert 'source_rev: "v2"' in (consumer / "imgs.gitml").read_text()
    res = cli("update", "nothing-here", expect=2)
    assert res.err.startswith("error: ")


def test_update_keeps_unsaved_changes_to_imported_data(
    repos: Repos, consumer: Path, cli: Cli
) -> None:
    cli("import", "../registry", "data/customers.csv", "--rev", "v1")
    (consumer / "customers.csv").write_bytes(b"edited\n")
    res = cli("update", "--rev", "v2", expect=1)
    assert "would overwrite unsaved changes in customers.csv" in res.err
    assert (consumer / "customers.csv").read_bytes() == b"edited\n"
    cli("update", "--rev", "v2", "--force")
    assert (consumer / "customers.csv").read_bytes() == CSV_V2


def test_a_source_that_moved_away_is_a_clear_error(repos: Repos, consumer: Path, cli: Cli) -> None:
    cli("import", "../registry", "data/customers.csv")
    shutil.move(repos.registry, repos.registry.with_name("moved"))
    res = cli("update", expect=3)
    assert res.err == (
        f"error: ../registry: no such repository ({repos.registry} does not exist)\n"
    )


def test_a_fresh_clone_pulls_imports_from_their_source(
    repos: Repos, consumer: Path, cli: Cli, tmp_path: Path
) -> None:
    cli("import", "../registry", "data/customers.csv", "-o", "customers.csv")
    cli("import", "../registry", "data/imgs/a.txt", "-o", "a.txt")
    git(consumer, "commit", "-q", "-m", "imports")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(consumer), str(clone))
    shutil.rmtree(repos.registry / ".gitml" / "cache")  # only its remote has the data
    res = run_gitml(clone, "pull", check=True)
    assert "restored 2 imports from their sources: a.txt, customers.csv" in res.stdout
    assert (clone / "customers.csv").read_bytes() == CSV_V2
    assert (clone / "a.txt").read_bytes() == b"a\n"


def test_ls_text_and_json(repos: Repos, consumer: Path, cli: Cli) -> None:
    res = cli("ls", "../registry", "data", "--rev", "v1", "--json")
    doc = json.loads(res.out)
    assert doc["schema"] == "gitml.ls/1"
    assert doc["commit"] == git(repos.registry, "rev-parse", "v1").strip()
    assert [(e["path"], e["kind"], e["size"], e["tracked"]) for e in doc["entries"]] == [
        ("data/.gitignore", "git", (repos.registry / "data" / ".gitignore").stat().st_size, False),
        ("data/customers.csv", "file", 9, True),
        ("data/imgs", "dir", 4, True),
    ]
    assert doc["models"] == [
        {"name": "churn", "version": "v2.0.0", "commit": doc["models"][0]["commit"],
         "stages": {"prod": "v2.0.0"}}
    ]  # fmt: skip
    res = cli("ls", "../registry", "-R")
    lines = res.out.splitlines()
    assert lines[0].startswith("../registry at HEAD (")
    assert [line.split()[0] for line in lines[2:-1]] == [
        ".gitattributes", "data/.gitignore", "data/customers.csv", "data/imgs/a.txt",
        "data/imgs/b.txt", "data/imgs/c.txt", "gitml.yaml", "metrics.json",
        "models/.gitignore", "models/model.skops", "params.yaml",
    ]  # fmt: skip
    assert lines[-1] == "model churn@v2.0.0 (prod=v2.0.0)"
    res = cli("ls", "../registry", "nope", expect=2)
    assert res.err.startswith("error: nope does not exist at HEAD in ../registry\n")


def test_checkout_writes_a_data_path_of_any_version_elsewhere(
    repos: Repos, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(repos.registry)
    res = cli("checkout", "data/customers.csv@v1", "-o", str(tmp_path / "old.csv"))
    assert (tmp_path / "old.csv").read_bytes() == CSV_V1
    assert (repos.registry / "data" / "customers.csv").read_bytes() == CSV_V2
    assert res.code == 0
    cli("checkout", "data/imgs/b.txt@HEAD~1", "-o", str(tmp_path / "b.txt"))
    assert (tmp_path / "b.txt").read_bytes() == b"b\n"
    res = cli("checkout", "metrics.json@v1", "-o", str(tmp_path / "m.json"), expect=2)
    assert res.err.startswith("error: metrics.json is in git, not tracked by gitml\n")


def test_status_reports_an_unreachable_source_and_goes_on(
    repos: Repos, consumer: Path, cli: Cli
) -> None:
    cli("import", "../registry", "data/customers.csv")
    shutil.move(repos.registry, repos.registry.with_name("elsewhere"))
    res = cli("status")
    assert res.out == "       clean  customers.csv\n"
    assert res.err == (
        "warning: cannot check the source of customers.csv: ../registry: no such repository "
        f"({repos.registry} does not exist)\n"
    )
