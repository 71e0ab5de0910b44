"""The pre-push hook: upload the data the pushed commits point at, before git pushes them."""

from __future__ import annotations

from gitml.context import RepoContext
from gitml.errors import RemoteError


def pre_push(ctx: RepoContext, git_remote: str, lines: list[str]) -> str:
    """Upload the objects the pushed commits' pointers need (``lines``: what git
    gives the hook on stdin). Returns a message; raises (blocking the push) when a
    configured remote cannot take them."""
    from gitml.remotes.workflow import (
        check_folder_exists,
        expand,
        pointers_in_history,
        remote_for,
    )

    if not ctx.config.remotes:
        return "no gitml data remote configured: data stays local (gitml remote add NAME URL)"
    shas = [ln.split()[1] for ln in lines if len(ln.split()) == 4 and set(ln.split()[1]) != {"0"}]
    if not shas:
        return ""
    # a malformed pointer names no data: warned about and skipped, as push does
    pointers = pointers_in_history(ctx, [*shas, "--not", f"--remotes={git_remote}"])
    needed, _missing = expand(ctx, pointers)
    rem = remote_for(ctx, None)
    check_folder_exists(rem, create=False)  # a mistyped folder must not become a second store
    try:
        result = rem.upload(ctx.store, sorted(needed), jobs=ctx.config.jobs, reporter=ctx.reporter)
    finally:
        rem.close()
    if result.failed:
        raise RemoteError(
            f"{len(result.failed)} data objects could not be pushed",
            "gitml fsck; or push with --no-verify to skip data",
        )
    return f"pushed {len(result.transferred)} data objects" if result.transferred else ""
