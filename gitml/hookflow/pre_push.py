"""The pre-push hook: upload the data the pushed commits point at, before git pushes them."""

from __future__ import annotations

from gitml.context import RepoContext
from gitml.errors import RemoteError


def pre_push(ctx: RepoContext, git_remote: str, lines: list[str]) -> str:
    """Upload the objects the pushed commits' pointers need (``lines``: what git
    gives the hook on stdin). Returns a message; raises (blocking the push) when a
    configured remote cannot take them."""
    from gitml.git.index import blobs_in_history
    from gitml.remotes.workflow import expand, remote_for
    from gitml.workspace.pointer import POINTER_SUFFIX, parse_pointer

    if not ctx.config.remotes:
        return "no gitml data remote configured: data stays local (gitml remote add NAME URL)"
    shas = [ln.split()[1] for ln in lines if len(ln.split()) == 4 and set(ln.split()[1]) != {"0"}]
    if not shas:
        return ""
    blobs = blobs_in_history(ctx.git, POINTER_SUFFIX, [*shas, "--not", f"--remotes={git_remote}"])
    data = ctx.git.read_blobs(blobs)
    pointers = {f"{n}@{s[:8]}": parse_pointer(data[s], source=n) for s, n in blobs.items()}
    needed, _missing = expand(ctx, pointers)
    rem = remote_for(ctx, None)
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
