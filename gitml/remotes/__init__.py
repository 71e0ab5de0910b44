"""Remotes: where cache objects are pushed to and pulled from.

Domain layer only (the CLI and ``gitml.api`` wire it up). Importing this package is
cheap: fsspec, s3fs and friends are imported when a remote is first built.

    from gitml.remotes import Remote
    remote = Remote.from_config(config.remotes["origin"], base=config.root)
    result = remote.upload(store, oids, jobs=config.jobs, reporter=reporter)

See docs/REMOTES.md.
"""

from gitml.remotes.connect import RemoteOptions
from gitml.remotes.redact import install_log_redaction, redact, register_secret
from gitml.remotes.remote import Remote, describe
from gitml.remotes.retry import RetryPolicy, is_transient
from gitml.remotes.transfer import Plan, TransferResult, plan_download, plan_upload
from gitml.remotes.url import RemoteURL, check_endpoint_url, parse_url

__all__ = [
    "Plan",
    "Remote",
    "RemoteOptions",
    "RemoteURL",
    "RetryPolicy",
    "TransferResult",
    "check_endpoint_url",
    "describe",
    "install_log_redaction",
    "is_transient",
    "parse_url",
    "plan_download",
    "plan_upload",
    "redact",
    "register_secret",
]
