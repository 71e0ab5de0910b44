"""The one error hierarchy of gitml.

Every error carries a one-line ``message`` (what is wrong), an optional ``hint``
(what to do) and an ``exit_code``. The CLI has one funnel that prints
``message`` and ``hint`` and exits with ``exit_code``; nothing else in gitml
decides how an error is shown. A failed guard is a *result*, never an error.

Exit codes (documented in README.md):
  0 ok, 1 check failed / refused to act, 2 usage, 3 repo or config error,
  4 remote error, 130 interrupted.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_REPO = 3
EXIT_REMOTE = 4
EXIT_INTERRUPTED = 130


class GitmlError(Exception):
    """Base of every error gitml raises on purpose."""

    exit_code: int = EXIT_REPO

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(GitmlError):
    """The command line or an API argument is wrong."""

    exit_code = EXIT_USAGE


class NotARepoError(GitmlError):
    """Not inside a git work tree, or gitml is not initialised there."""


class ConfigError(GitmlError):
    """A config file, gitml.yaml or gitml.lock is malformed."""


class GitError(GitmlError):
    """A git command failed."""


class PointerError(GitmlError):
    """A pointer file (``*.gitml``) is malformed or unsupported."""


class SizeMismatchError(PointerError):
    """A pointer (or its manifest) records another size than its object has, and
    the object's bytes match its name: the pointer is wrong, the object is
    good and is left where it is. ``actual``/``expected``: the two sizes."""

    def __init__(self, message: str, hint: str | None = None, *, actual: int, expected: int):
        super().__init__(message, hint)
        self.actual = actual
        self.expected = expected


class PointerConflictError(PointerError):
    """A pointer file holds unresolved merge conflict markers (``<<<<<<<``)."""


class ManifestError(GitmlError):
    """A directory manifest is malformed."""


class UnsafePathError(GitmlError):
    """A path from untrusted input (pointer, manifest, tag, remote) is refused."""


class ObjectMissingError(GitmlError):
    """An object is not in the cache (nor where it was looked for)."""

    exit_code = EXIT_CHECK_FAILED


class CorruptObjectError(GitmlError):
    """An object's bytes do not match its name; it has been quarantined."""

    exit_code = EXIT_CHECK_FAILED


class IndexReadOnlyError(GitmlError):
    """The stat index (``.gitml/index``) cannot be written."""


class WorkspaceConflictError(GitmlError):
    """Acting would destroy unsaved work; nothing was changed."""

    exit_code = EXIT_CHECK_FAILED


class RefusedError(GitmlError):
    """gitml refused to act: acting could lose data nothing else holds (gc), or
    it needs a confirmation that was not given."""

    exit_code = EXIT_CHECK_FAILED


class UnconfirmedDeleteError(RefusedError):
    """A delete that would lose data nothing else holds was not confirmed.
    ``preview`` is what it would have removed (gc's result), for a prompt."""

    def __init__(self, message: str, hint: str | None = None, *, preview: object = None) -> None:
        super().__init__(message, hint)
        self.preview = preview


class DamagedStateError(GitmlError):
    """A file or folder gitml keeps for itself (a journal, the cache's layout)
    is damaged or is not what gitml wrote there."""


class LockError(GitmlError):
    """The repository lock could not be taken."""


class InputError(GitmlError):
    """A file or folder given to gitml cannot be used (missing, FIFO, symlink...)."""

    exit_code = EXIT_USAGE


class GuardError(GitmlError):
    """A guard could not be evaluated at all (unreadable data, bad spec)."""


class RegistryError(GitmlError):
    """A registry operation was refused (unknown artifact, version exists...)."""

    exit_code = EXIT_CHECK_FAILED


class PipelineError(GitmlError):
    """A pipeline is malformed (cycle, two stages writing one output) or a stage failed."""

    exit_code = EXIT_CHECK_FAILED


class RemoteError(GitmlError):
    """A remote could not be reached, read or written."""

    exit_code = EXIT_REMOTE


class RefsRejectedError(RemoteError):
    """A git remote refused some refs (a tag that already exists with other
    content, a non-fast-forward notes ref). ``refs``: ``(ref, git's reason)``."""

    def __init__(
        self, message: str, hint: str | None = None, *, refs: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(message, hint)
        self.refs = refs or []


class InteropError(GitmlError):
    """Importing from another tool (DVC) failed."""


class MissingCredentialError(RemoteError):
    """A remote needs a credential that is in none of the places its ecosystem looks;
    the message names the variable or file to set."""
