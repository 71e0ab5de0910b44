"""Credentials never appear in errors, tracebacks or logs; config secrets are used."""

from __future__ import annotations

import logging
import re
import traceback
from pathlib import Path

import pytest

from gitml.errors import RemoteError
from gitml.store.objects import ObjectStore
from tests.remotes.remote_helpers import MakeRemote, fill
from tests.servers import DUMMY_KEY, DUMMY_SECRET, Bucket

WRONG_KEY = "AKIAWRONGKEY00000001"
WRONG_SECRET = "wrong-secret-value-Kq2Zp9Lm"


def _all_text(err: BaseException) -> str:
    return "".join(traceback.format_exception(err)) + str(err) + repr(err)


def test_secrets_from_local_config_are_used(
    make_remote: MakeRemote, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    secrets = {"access_key_id": DUMMY_KEY, "secret_access_key": DUMMY_SECRET}
    handle = make_remote(secrets=secrets)
    oids = fill(store, 2)
    assert handle.remote.upload(store, oids).ok
    assert DUMMY_SECRET not in repr(handle.remote.backend.__dict__.get("fs", ""))


def test_auth_error_is_clean_and_redacted(
    s3_bucket: Bucket, make_s3: MakeRemote, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import moto.settings

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    handle = make_s3(secrets={"access_key_id": WRONG_KEY, "secret_access_key": WRONG_SECRET})
    oids = fill(store, 1)
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # moto checks keys
    with pytest.raises(RemoteError) as info:
        handle.remote.upload(store, oids)
    err = info.value
    assert "\n" not in err.message
    assert "InvalidAccessKeyId" in err.message or "403" in err.message, err.message
    assert err.hint and "credentials" in err.hint
    text = _all_text(err)
    assert WRONG_SECRET not in text
    assert not re.search(r"Signature=[0-9a-f]{8}", text)
    assert err.__cause__ is None and err.__suppress_context__


def test_secrets_echoed_by_the_server_are_redacted(
    make_s3: MakeRemote, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = make_s3(secrets={"access_key_id": DUMMY_KEY, "secret_access_key": DUMMY_SECRET})
    assert handle.proxy is not None
    echo = (
        f"denied; Authorization: AWS4-HMAC-SHA256 Credential={DUMMY_KEY}/x, Signature=0123abcd; "
        f"retry at https://b.s3.amazonaws.com/k?X-Amz-Signature=feedbeef99&X-Amz-Credential=a "
        f"with secret {DUMMY_SECRET} and https://me:pw12345@host/"
    )
    handle.proxy.fail_next(10, status=403, code="AccessDenied", message=echo)
    with pytest.raises(RemoteError) as info:
        handle.remote.list_oids()
    text = _all_text(info.value)
    for leaked in (DUMMY_SECRET, "0123abcd", "feedbeef99", "pw12345"):
        assert leaked not in text
    assert "AccessDenied" in info.value.message


def test_dependency_debug_logs_carry_no_signatures(
    make_remote: MakeRemote, store: ObjectStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    handle = make_remote(secrets={"access_key_id": DUMMY_KEY, "secret_access_key": DUMMY_SECRET})
    oids = fill(store, 2)
    assert handle.remote.upload(store, oids).ok
    assert handle.remote.list_oids() == set(oids)
    assert DUMMY_SECRET not in caplog.text
    assert not re.search(r"Signature(=|:\s*)[0-9a-f]{8}", caplog.text)
    if handle.kind == "s3":
        assert "Authorization" in caplog.text  # botocore did log its headers, masked


def test_password_url_never_reaches_config(tmp_path: Path) -> None:
    from gitml.config import RemoteConfig
    from gitml.errors import UsageError
    from gitml.remotes import Remote

    with pytest.raises(UsageError) as info:
        Remote.from_config(RemoteConfig(name="o", url="ssh://bob:Pa55-xyz@host/srv"))
    err = info.value
    assert "Pa55-xyz" not in f"{err} {err!r} {err.hint}"
