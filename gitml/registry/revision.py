"""The one revision resolver: any text a user gives for "which version?" -> a commit.

``HEAD~2``, a branch, a tag, a commit id, ``churn@v1``, ``churn@v1.2.0``,
``churn@latest`` and ``churn#prod`` all name a commit. A registry reference wins
when its artifact is registered (as ``checkout`` decides); otherwise git reads
the text. Text that is shaped like a registry reference but names no artifact and
no git revision is reported as a registry mistake, with the artifacts that exist
(``no artifact 'chrun' in the registry`` / ``did you mean 'churn'?``).

It lives in the registry package because registry references need the registry
state; the operations (``gitml.api``) and the comparison features resolve their
arguments here and hand plain commit ids to the layers below.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from gitml.context import RepoContext
from gitml.errors import GitError, RegistryError
from gitml.project.names import show
from gitml.registry.grammar import Ref, looks_like_registry_ref, parse_ref
from gitml.registry.model import RegistryState


@dataclass(frozen=True, slots=True)
class Revision:
    """A resolved revision: the user's text, the commit, and the registry
    version when the text was a registry reference."""

    text: str
    commit: str
    artifact: str | None = None
    version: str | None = None  # "v1.2.0" for registry references

    @property
    def label(self) -> str:
        """How output names it: the user's text (``churn@v1``, ``HEAD~2``)."""
        return self.text


class Resolver:
    """Resolves many revisions with one registry read (lazily, only when one looks
    like a registry reference)."""

    def __init__(self, ctx: RepoContext, state: RegistryState | None = None) -> None:
        self.ctx = ctx
        self._state = state

    @property
    def state(self) -> RegistryState:
        if self._state is None:
            from gitml.registry.service import read_state

            self._state = read_state(self.ctx)
        return self._state

    def resolve(self, text: str) -> Revision:
        if looks_like_registry_ref(text):
            ref = parse_ref(text)
            if ref.artifact in self.state.artifacts:
                return self._registry(text, ref)
            sha = self.ctx.git.try_rev_parse(text)
            if sha is not None:
                return Revision(text, sha)
            raise _no_artifact(self.state, ref.artifact)
        sha = self.ctx.git.try_rev_parse(text)
        if sha is None:
            raise GitError(
                f"unknown revision {show(text)}",
                hint="give a commit, branch, tag, HEAD~N, NAME@vX.Y.Z, NAME@latest or NAME#STAGE",
            )
        return Revision(text, sha)

    def _registry(self, text: str, ref: Ref) -> Revision:
        from gitml.registry.resolve import resolve

        version = resolve(self.state, ref)
        return Revision(text, version.commit, ref.artifact, str(version.version))


def _no_artifact(state: RegistryState, name: str) -> RegistryError:
    names = sorted(state.artifacts)
    close = difflib.get_close_matches(name, names, n=1)
    listing = f"artifacts: {', '.join(names[:10])}" if names else "no artifact is registered yet"
    hint = f"did you mean {show(close[0])}? {listing}" if close else listing
    return RegistryError(f"no artifact {show(name)} in the registry", hint=hint)


def resolve_revision(ctx: RepoContext, text: str, state: RegistryState | None = None) -> Revision:
    """The commit ``text`` names (see the module docstring)."""
    return Resolver(ctx, state).resolve(text)
