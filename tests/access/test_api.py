"""The notebook API on two real repositories: open, read, params, metrics,
model_path, load_model, get_url, ls; revisions and registry refs everywhere."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import gitml
from gitml.errors import (
    CorruptObjectError,
    NotARepoError,
    ObjectMissingError,
    RegistryError,
    RemoteError,
    UsageError,
)
from gitml.store.hashing import hash_bytes
from tests.conftest import git
from tests.testing.registry_repo import CSV_V1, CSV_V2, Repos


def _no_local_cache(repos: Repos) -> None:
    """The registry's own cache gone: objects can only come from its remote."""
    shutil.rmtree(repos.registry / ".gitml" / "cache")


@pytest.mark.parametrize(
    ("rev", "expected"),
    [("churn@v1", CSV_V1), ("churn@v1.0.0", CSV_V1), ("churn#prod", CSV_V2),
     ("churn@latest", CSV_V2), ("v1", CSV_V1), ("main~1", CSV_V1), (None, CSV_V2)],
)  # fmt: skip
def test_open_reads_any_revision_of_another_repository(
    repos: Repos, rev: str | None, expected: bytes
) -> None:
    _no_local_cache(repos)
    with gitml.open("data/customers.csv", rev=rev, repo=str(repos.registry),
                    cwd=str(repos.consumer)) as f:  # fmt: skip
        assert f.read() == expected


def test_objects_land_in_the_callers_cache_so_a_second_read_is_free(repos: Repos) -> None:
    _no_local_cache(repos)
    assert gitml.read("data/customers.csv", rev="v1", repo=repos.registry,
                      cwd=repos.consumer) == CSV_V1  # fmt: skip
    shutil.rmtree(repos.store)
    assert gitml.read("data/customers.csv", rev="v1", repo=repos.registry,
                      cwd=repos.consumer) == CSV_V1  # fmt: skip
    assert (repos.consumer / ".gitml" / "cache").is_dir()


def test_outside_any_repository_objects_go_to_the_user_cache(repos: Repos, tmp_path: Path) -> None:
    _no_local_cache(repos)
    elsewhere = tmp_path / "notebooks"
    elsewhere.mkdir()
    data = gitml.read("data/imgs/c.txt", repo="../registry", cwd=elsewhere)
    assert data == b"c\n"
    shared = Path.home() / ".cache" / "gitml" / "objects"
    assert (shared / hash_bytes(b"c\n")[:2] / hash_bytes(b"c\n")[2:]).is_file()


def test_text_mode_and_git_files(repos: Repos) -> None:
    text = gitml.read("metrics.json", rev="churn@v1", repo=repos.registry, mode="r",
                      cwd=repos.consumer)  # fmt: skip
    assert text == '{"auc": 0.8}'
    with gitml.open("data/customers.csv", rev="v2", repo=repos.registry, mode="r",
                    cwd=repos.consumer) as f:  # fmt: skip
        assert f.readlines() == ["id,x\n", "1,2\n", "3,4\n"]


def test_in_this_repository_rev_none_is_the_workspace_and_a_rev_is_committed(
    repos: Repos,
) -> None:
    (repos.registry / "data" / "customers.csv").write_bytes(b"unsaved\n")
    assert gitml.read("data/customers.csv", cwd=str(repos.registry)) == b"unsaved\n"
    assert gitml.read("data/customers.csv", rev="HEAD", cwd=repos.registry) == CSV_V2
    assert gitml.read("data/customers.csv", rev="HEAD~1", cwd=repos.registry) == CSV_V1
    assert gitml.read("data/imgs/a.txt", rev="churn@v1", cwd=repos.registry) == b"a\n"


def test_a_missing_path_names_the_revision_and_the_repository(repos: Repos) -> None:
    with pytest.raises(UsageError) as info:
        gitml.read("data/nope.csv", rev="v1", repo="../registry", cwd=repos.consumer)
    assert info.value.message == "data/nope.csv does not exist at v1 in ../registry"
    with pytest.raises(UsageError) as info:
        gitml.read("data/imgs/c.txt", rev="v1", repo="../registry", cwd=repos.consumer)
    assert info.value.message == (
        "data/imgs/c.txt does not exist at v1 in ../registry (data/imgs is tracked, without it)"
    )
    with pytest.raises(UsageError) as info:
        gitml.read("data/imgs", repo="../registry", cwd=repos.consumer)
    assert info.value.message == "data/imgs is a folder at HEAD"


def test_an_unknown_artifact_or_repository_is_a_clear_error(repos: Repos) -> None:
    with pytest.raises(RegistryError) as info:
        gitml.read("data/customers.csv", rev="chrun@v1", repo=repos.registry, cwd=repos.consumer)
    assert info.value.message == "no artifact 'chrun' in the registry"
    assert info.value.hint == "did you mean 'churn'? artifacts: churn"
    with pytest.raises(NotARepoError) as missing:
        gitml.read("a.csv", repo="../nowhere", cwd=repos.consumer)
    assert missing.value.message.startswith("../nowhere: no such repository")


def test_an_object_nobody_pushed_is_named_with_where_gitml_looked(repos: Repos) -> None:
    _no_local_cache(repos)
    shutil.rmtree(repos.store)
    with pytest.raises(RemoteError) as info:
        gitml.read("data/customers.csv", repo=repos.registry, cwd=repos.consumer)
    assert info.value.message.startswith(f"cannot fetch data/customers.csv from {repos.registry}")


def test_a_private_remote_without_credentials_is_a_clear_error(
    repos: Repos, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    _no_local_cache(repos)
    config = repos.registry / ".gitml" / "config.toml"
    config.write_text(
        '[core]\nremote = "private"\n\n[remote.private]\nurl = "s3://team-bucket/data"\n'
        'endpoint_url = "http://127.0.0.1:9"\n'
    )
    git(repos.registry, "commit", "-q", "-am", "private remote")
    with pytest.raises(RemoteError) as info:
        gitml.read("data/customers.csv", repo=repos.registry, cwd=repos.consumer)
    assert info.value.message == (
        f"cannot fetch data/customers.csv from {repos.registry}: list s3://team-bucket/data "
        "failed: no credentials (NoCredentialsError: Unable to locate credentials)"
    )
    assert info.value.hint is not None and info.value.hint.startswith("set AWS_ACCESS_KEY_ID")


def test_a_damaged_object_is_never_returned(repos: Repos) -> None:
    from gitml.store.objects import ObjectStore

    gitml.read("data/customers.csv", rev="v1", cwd=repos.registry)
    path = Path(ObjectStore(repos.registry / ".gitml" / "cache").path_of(hash_bytes(CSV_V1)))
    path.chmod(0o644)
    path.write_bytes(b"id,x\n1,3\n")
    with pytest.raises(CorruptObjectError):
        gitml.read("data/customers.csv", rev="v1", cwd=repos.registry)


def test_params_and_metrics_come_from_the_committed_files(repos: Repos) -> None:
    assert gitml.params("HEAD~1", cwd=repos.registry) == {"train.lr": 0.1}
    assert gitml.params(cwd=repos.registry) == {"train.lr": 0.2}
    assert gitml.metrics("churn@v1", cwd=repos.registry) == {"auc": 0.8}
    assert gitml.metrics("churn#prod", repo=repos.registry, cwd=repos.consumer) == {"auc": 0.9}


def test_model_path_takes_every_ref_the_cli_takes(repos: Repos) -> None:
    v1 = gitml.model_path("churn@v1", cwd=str(repos.registry))
    v2 = gitml.model_path("churn#prod", cwd=repos.registry)
    assert v2 == repos.registry / "models" / "model.skops"
    assert v1 != v2
    assert v1.read_bytes() == gitml.read("models/model.skops", rev="v1", cwd=repos.registry)
    assert gitml.model_path("churn", "v1", cwd=repos.registry) == v1


def test_load_model_loads_skops_from_any_repository(repos: Repos) -> None:
    _no_local_cache(repos)
    here = gitml.load_model("churn@v1", cwd=repos.registry)
    there = gitml.load_model("churn#prod", repo=repos.registry, cwd=repos.consumer)
    assert (here.C, there.C) == (1.0, 2.0)
    assert there.predict([[3.0]]).tolist() == [1]


def test_load_model_refuses_a_pickle_unless_trusted(repos: Repos) -> None:
    import pickle

    reg = repos.registry
    (reg / "models" / "old.pkl").write_bytes(pickle.dumps({"weights": [1, 2]}))
    from tests.testing.registry_repo import gitml as run

    run(reg, "add", "models/old.pkl")
    git(reg, "commit", "-q", "-m", "legacy model")
    run(reg, "register", "legacy", "--path", "models/old.pkl")
    with pytest.raises(UsageError) as info:
        gitml.load_model("legacy@latest", cwd=reg)
    assert info.value.message == (
        "models/old.pkl is a pickle: loading it runs whatever code the file holds"
    )
    assert gitml.load_model("legacy@latest", cwd=reg, trusted=True) == {"weights": [1, 2]}


def test_get_url_names_the_object_on_the_sources_remote(repos: Repos) -> None:
    url = gitml.get_url("data/customers.csv", rev="v1", repo=repos.registry, cwd=repos.consumer)
    oid = hash_bytes(CSV_V1)
    assert url == f"{repos.store}/objects/{oid[:2]}/{oid[2:]}"
    assert Path(url).read_bytes() == CSV_V1
    (repos.registry / "data" / "customers.csv").write_bytes(b"never pushed\n")
    from tests.testing.registry_repo import gitml as run

    run(repos.registry, "add", "data/customers.csv")
    git(repos.registry, "commit", "-q", "-m", "unpushed")
    with pytest.raises(UsageError) as info:
        gitml.get_url("data/customers.csv", cwd=repos.registry)
    assert info.value.message == (
        "data/customers.csv at HEAD has no URL of its own on remote store: not there"
    )


def test_ls_lists_files_tracked_data_and_models(repos: Repos) -> None:
    listing = gitml.ls(repos.registry, "data", rev="v2", cwd=repos.consumer)
    assert [(e.path, e.kind, e.size) for e in listing.entries] == [
        ("data/.gitignore", "git", (repos.registry / "data" / ".gitignore").stat().st_size),
        ("data/customers.csv", "file", len(CSV_V2)),
        ("data/imgs", "dir", 6),
    ]
    deep = gitml.ls(repos.registry, "data/imgs", rev="v1", cwd=repos.consumer)
    assert [(e.path, e.kind, e.size) for e in deep.entries] == [
        ("data/imgs/a.txt", "file", 2),
        ("data/imgs/b.txt", "file", 2),
    ]
    assert [(m.name, m.version, m.stages) for m in listing.models] == [
        ("churn", "v2.0.0", {"prod": "v2.0.0"})
    ]


def test_reading_a_large_file_streams_in_bounded_memory(repos: Repos, tmp_path: Path) -> None:
    import subprocess
    import sys

    big = repos.registry / "data" / "big.bin"
    with open(big, "wb") as fh:
        for i in range(96):
            fh.write(bytes([i]) * (1 << 20))
    from tests.testing.registry_repo import gitml as run

    run(repos.registry, "add", "data/big.bin")
    git(repos.registry, "commit", "-q", "-m", "big")
    script = (
        "import resource, sys, gitml\n"
        "import hashlib\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "h = hashlib.sha256()\n"
        "with gitml.open('data/big.bin', rev='HEAD', repo=sys.argv[1]) as f:\n"
        "    while block := f.read(1 << 20):\n"
        "        h.update(block)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(h.hexdigest(), (after - before) // 1024)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(repos.registry)],
                          cwd=tmp_path, capture_output=True, text=True, check=True)  # fmt: skip
    digest, grown_mib = proc.stdout.split()
    import hashlib

    assert digest == hashlib.sha256(big.read_bytes()).hexdigest()
    assert int(grown_mib) < 24  # the file is 96 MiB


def test_the_public_names_are_exactly_these() -> None:
    assert sorted(gitml.__all__) == [
        "__version__", "get", "get_url", "import_data", "import_status", "load_model", "ls",
        "metrics", "model_path", "open", "params", "read", "update",
    ]  # fmt: skip
    from gitml import (  # noqa: F401 - importable by name, as docs/API.md shows
        get,
        get_url,
        import_data,
        import_status,
        load_model,
        ls,
        metrics,
        model_path,
        open,
        params,
        read,
        update,
    )

    with pytest.raises(AttributeError):
        _ = gitml.not_a_public_name  # type: ignore[attr-defined]


def test_an_unknown_mode_is_refused(repos: Repos) -> None:
    with pytest.raises(UsageError):
        gitml.read("metrics.json", rev="HEAD", cwd=repos.registry, mode="w")  # type: ignore[call-overload]


def test_object_missing_everywhere_in_this_repository(repos: Repos) -> None:
    shutil.rmtree(repos.registry / ".gitml" / "cache")
    shutil.rmtree(repos.store)
    with pytest.raises(RemoteError):
        gitml.read("data/customers.csv", rev="v1", cwd=repos.registry)
    (repos.registry / ".gitml" / "config.toml").write_text("")
    with pytest.raises(ObjectMissingError) as info:
        gitml.read("data/customers.csv", rev="v1", cwd=repos.registry)
    assert info.value.message == (
        "data/customers.csv is not in the cache, and this repository has no data remote "
        "to fetch it from"
    )


def test_a_chunked_file_streams_from_a_chunked_remote(repos: Repos) -> None:
    from tests.testing.registry_repo import gitml as run

    reg = repos.registry
    run(reg, "config", "set", "cache.chunk_min_file", "1048576")
    data = b"".join(i.to_bytes(4, "little") * 64 for i in range(3 * 4096))  # 3 MiB
    (reg / "data" / "big.bin").write_bytes(data)
    run(reg, "add", "data/big.bin")
    git(reg, "commit", "-q", "-am", "a chunked file")
    run(reg, "push")
    _no_local_cache(repos)
    assert gitml.read("data/big.bin", repo=reg, cwd=repos.consumer) == data
    with pytest.raises(UsageError) as info:
        gitml.get_url("data/big.bin", repo=reg, cwd=repos.consumer)
    assert info.value.message == (
        "data/big.bin at HEAD has no URL of its own on remote store: stored as chunks "
        "(big files are deduplicated)"
    )
