"""Keep credentials out of messages, logs and tracebacks.

:func:`redact` removes, from any text:

* the password of URL userinfo (``scheme://user:pw@host`` -> ``scheme://user:***@host``);
* signature and credential query parameters of signed URLs (S3 presigned, GCS, Azure SAS);
* ``Authorization`` and security-token headers, in ``Name: value`` form and in the
  ``'Name': 'value'`` form of a printed dict;
* ``Credential=`` / ``Signature=`` fragments of an AWS SigV4 header anywhere;
* every secret value gitml knows about (:func:`register_secret`: values from
  ``config.local.toml`` and the usual AWS environment variables), wherever it appears.

:func:`install_log_redaction` applies :func:`redact` to every log record created in
the process (botocore logs request headers at DEBUG), so a dependency's logger never
writes a credential either.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import traceback
from typing import Any

MASK = "***"
_MIN_SECRET_LEN = 6
_SECRET_ENV = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_CONNECTION_STRING",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
)

_SECRET_PARAMS = (
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "signature",
    "sig",
    "token",
    "access_token",
    "sas_token",
    "awsaccesskeyid",
    "password",
    "secret",
    "key",
    "code",
)
_QUERY_RE = re.compile(
    r"(?i)([?&;](?:" + "|".join(re.escape(p) for p in _SECRET_PARAMS) + r")=)[^&#\s'\"<>]*"
)
# scheme://user:password@host  (password may contain anything but '@', '/' and blanks)
_USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^:/@\s'\"<>]*):[^@/\s'\"<>]*@")
_HEADER_NAMES = (
    r"(?:authorization|proxy-authorization|x-amz-security-token|x-amz-credential|cookie)"
)
# "Authorization: AWS4-HMAC-SHA256 Credential=..., Signature=..." up to the end of the line
_HEADER_LINE_RE = re.compile(r"(?im)^(\s*" + _HEADER_NAMES + r"\s*:\s*)\S.*$")
# 'Authorization': b'...'  /  "Authorization": "..."  (printed dicts)
_HEADER_DICT_RE = re.compile(
    r"(?i)(['\"]" + _HEADER_NAMES + r"['\"]\s*:\s*b?)(['\"])(?:(?!\2).)*\2"
)
# Inline "Authorization=..." or "Authorization: ..." not at line start (single line logs)
_HEADER_INLINE_RE = re.compile(r"(?i)(\b" + _HEADER_NAMES + r"\s*[:=]\s*)(?!\*\*\*)[^,;\n'\"]+")
# "Credential=AKIA.../...", "Signature=abc", and botocore.auth's "Signature:\n<hex>"
_SIGV4_RE = re.compile(r"(?i)\b((?:Credential|Signature)(?:=|:\s*))[^,\s&'\"]+")

_lock = threading.Lock()
_secrets: set[str] = set()
_secrets_pattern: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Remember a secret value so that :func:`redact` masks it wherever it appears."""
    global _secrets_pattern
    if not value or len(value) < _MIN_SECRET_LEN:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _secrets_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def register_env_secrets(env: dict[str, str] | None = None) -> None:
    """Register the secret values of the usual credential environment variables."""
    source = os.environ if env is None else env
    for name in _SECRET_ENV:
        register_secret(source.get(name))


def redact(text: str) -> str:
    """Return ``text`` with passwords, signatures, tokens and known secrets masked."""
    if not text:
        return text
    pattern = _secrets_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _USERINFO_RE.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    text = _QUERY_RE.sub(lambda m: m.group(1) + MASK, text)
    text = _HEADER_LINE_RE.sub(lambda m: m.group(1) + MASK, text)
    text = _HEADER_DICT_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}{m.group(2)}", text)
    text = _HEADER_INLINE_RE.sub(lambda m: m.group(1) + MASK, text)
    return _SIGV4_RE.sub(lambda m: m.group(1) + MASK, text)


def has_credentials(text: str) -> bool:
    """True if :func:`redact` would mask something in ``text`` (a URL password, a
    token or signature parameter, a known secret): such text must not be stored in
    the tracked config."""
    return redact(text) != text


_installed = False


def install_log_redaction() -> None:
    """Redact every log record created from now on, by any logger (idempotent).

    Wraps the process-wide log record factory, so records of botocore, s3fs, fsspec,
    urllib3, aiohttp... are cleaned before any handler sees them. Costs nothing for
    log calls below the enabled level (no record is created for them).
    """
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            # Format first, then redact the text: redacting a format string could
            # change its placeholders.
            record.msg = redact(record.getMessage())
            record.args = ()
            if record.exc_info and record.exc_info[1] is not None:
                text = "".join(traceback.format_exception(*record.exc_info))
                record.exc_text = redact(text).rstrip("\n")
        except Exception:  # never let redaction break logging; drop the details instead
            record.msg, record.args = "(log message withheld: could not redact it)", ()
        return record

    logging.setLogRecordFactory(factory)
