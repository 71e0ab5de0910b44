"""Remote URL parsing/validation and redaction of secrets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gitml.errors import UsageError
from gitml.remotes import RemoteURL, check_endpoint_url, parse_url, redact, register_secret
from gitml.remotes.redact import install_log_redaction


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://bucket/prefix", RemoteURL("s3", "bucket", "prefix")),
        ("s3://bucket/a/b/", RemoteURL("s3", "bucket", "a/b")),
        ("s3://bucket", RemoteURL("s3", "bucket", "")),
        ("S3://my.bucket-1/x", RemoteURL("s3", "my.bucket-1", "x")),
        ("gs://bkt/data", RemoteURL("gs", "bkt", "data")),
        ("gcs://bkt/data", RemoteURL("gs", "bkt", "data")),
        ("az://container/models", RemoteURL("az", "container", "models")),
        ("ssh://host/srv/remote", RemoteURL("ssh", "host", "/srv/remote")),
        ("ssh://me@host:2222/srv/r", RemoteURL("ssh", "host", "/srv/r", user="me", port=2222)),
        ("sftp://host/~/store", RemoteURL("ssh", "host", "store")),
        ("ssh://[::1]:22/x", RemoteURL("ssh", "[::1]", "/x", port=22)),
        ("file:///srv/remote/", RemoteURL("file", "", "/srv/remote")),
        ("/srv/remote/../other", RemoteURL("file", "", "/srv/other")),
    ],
)
def test_accepted_forms(url: str, expected: RemoteURL) -> None:
    assert parse_url(url) == expected


def test_relative_and_home_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_url("../remote", base=tmp_path / "repo").path == str(tmp_path / "remote")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert parse_url("~/r").path == str(tmp_path / "r")


def test_display_round_trips() -> None:
    for url in ("s3://bkt/p", "gs://bkt", "ssh://u@h:2/srv/x", "ssh://h/~/x", "az://cnt/p/q"):
        parsed = parse_url(url)
        assert parsed.display() == url
        assert parse_url(parsed.display()) == parsed
    assert parse_url("s3://bkt/p").fs_root() == "bkt/p"
    assert parse_url("file:///x/y").display() == "/x/y"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("", "empty"),
        ("s3://bucket/a\nb", "control character"),
        ("s3://bucket/a\rb", "control character"),
        ("s3://bucket/a\x00b", "control character"),
        ("s3://bucket/a\tb", "control character"),
        ("-oProxyCommand=touch /tmp/x", "begins with '-'"),
        ("ssh://-oProxyCommand=x/srv", "'-'"),
        ("ssh://user@-host/srv", "'-'"),
        ("ssh://user@ho st/srv", "invalid host"),
        ("ftp://host/x", "unsupported scheme"),
        ("s3://bucket/a/../b", "'..'"),
        ("s3://bucket//b", "empty"),
        ("s3://bucket/p?x=1", "query"),
        ("s3://bucket/p#frag", "query"),
        ("s3://-bucket/p", "'-'"),
        ("s3://b/p", "invalid bucket"),
        ("s3://key:secret@bucket/p", "credentials"),
        ("ssh://host", "folder path"),
        ("ssh://host:99999/x", "invalid port"),
        ("file://otherhost/x", "names a host"),
        (" s3://bucket/p", "blanks"),
    ],
)
def test_refused(url: str, why: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_url(url)
    assert why in str(info.value)
    assert "\n" not in info.value.message and "\r" not in info.value.message


def test_password_in_url_is_refused_without_showing_it() -> None:
    with pytest.raises(UsageError) as info:
        parse_url("ssh://alice:hunter2secret@host/srv/data")
    assert "hunter2secret" not in str(info.value)
    assert "config.local.toml" in str(info.value)


def test_endpoint_url() -> None:
    assert check_endpoint_url("http://127.0.0.1:9000/") == "http://127.0.0.1:9000"
    assert check_endpoint_url("https://s3.example.com") == "https://s3.example.com"
    for bad in (
        "ftp://x",
        "http://u:p@host",
        "http://host/\n",
        "-http://x",
        "http://",
        "http://h?q",
    ):
        with pytest.raises(UsageError) as info:
            check_endpoint_url(bad)
        assert ":p@" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("https://user:pa55word@host/x", "pa55word"),
        ("ssh://me:s3cr3t!@h/srv", "s3cr3t!"),
        ("GET https://b.s3.amazonaws.com/k?X-Amz-Signature=abcdef0123&x=1", "abcdef0123"),
        ("?X-Amz-Credential=AKIAXXXX%2F2024&X-Amz-Security-Token=TOKENVALUE", "TOKENVALUE"),
        ("?X-Amz-Credential=AKIAXXXX%2F2024&foo=1", "AKIAXXXX"),
        ("https://acct.blob.core.windows.net/c/b?sv=2021&sig=AzureSig%3D&se=1", "AzureSig"),
        ("https://storage.googleapis.com/b/o?X-Goog-Signature=gsig123", "gsig123"),
        ("https://x/y?access_token=ya29.tok", "ya29.tok"),
        ("Authorization: AWS4-HMAC-SHA256 Credential=AKIA1/x, Signature=ff00ff", "ff00ff"),
        ("Authorization: Bearer eyJhbGciOi", "eyJhbGciOi"),
        (
            "headers={'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIA2/y, Signature=ee11'}",
            "ee11",
        ),
        ('{"Authorization": "Basic dXNlcjpwYXNz"}', "dXNlcjpwYXNz"),
        ("x-amz-security-token: FQoGZXIvYXdzE", "FQoGZXIvYXdzE"),
        ("... Credential=AKIA3/z, SignedHeaders=host, Signature=dd22 ...", "dd22"),
    ],
)
def test_redact(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert "***" in out


def test_redact_keeps_harmless_text() -> None:
    text = "upload to s3://bucket/prefix failed: SlowDown (HTTP 503): reduce your request rate"
    assert redact(text) == text
    assert redact("ssh://user@host/srv") == "ssh://user@host/srv"


def test_registered_secrets_are_masked_anywhere() -> None:
    register_secret("Zx9-very-secret-value")
    register_secret("abc")  # too short to mask safely: ignored
    assert redact("the key Zx9-very-secret-value leaked") == "the key *** leaked"
    assert redact("abc") == "abc"


def test_log_records_of_any_logger_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent
    register_secret("Q-log-secret-123")
    caplog.set_level(logging.DEBUG)
    logging.getLogger("botocore.endpoint").debug(
        "Sending %s with headers %r", "req", {"Authorization": "AWS4 Signature=cafe1234"}
    )
    logging.getLogger("some.lib").info("secret is Q-log-secret-123")
    try:
        raise ValueError("https://u:tracebackpw@h/x")
    except ValueError:
        logging.getLogger("other").exception("failed")
    assert "cafe1234" not in caplog.text
    assert "Q-log-secret-123" not in caplog.text
    assert "tracebackpw" not in caplog.text
    assert caplog.text.count("***") >= 3
