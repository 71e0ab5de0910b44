"""Loading a model file by its type, never unpickling unless trusted.

A pickle (``.pkl``, ``.pickle``, ``.joblib``) runs whatever code it holds when
loaded: whoever can push to the repository could run code on every machine
that loads the model. So pickles load only with ``trusted=True``. skops
(``.skops``, for scikit-learn) reads a zip of plain data and builds only the
types it is allowed to: the ones skops trusts by default, plus the names the
caller lists in ``trusted`` (``True``: whatever the file holds).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import IO, Any

from gitml.errors import UsageError

PICKLES = (".pkl", ".pickle", ".joblib")
_OTHER_HINT = "gitml.model_path(ref) gives a local file to load with your framework"


def load_stream(stream: IO[bytes], name: str, trusted: bool | Sequence[str]) -> Any:
    """The model in ``stream`` (a seekable binary file named ``name``)."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".skops":
        return _skops(stream, name, trusted)
    if suffix in PICKLES:
        if trusted is not True:
            raise UsageError(
                f"{name} is a pickle: loading it runs whatever code the file holds",
                "pass trusted=True only if you trust everyone who can push to that "
                "repository, or save the model with skops (.skops)",
            )
        if suffix == ".joblib":
            import joblib  # type: ignore[import-untyped]

            return joblib.load(stream)
        return pickle.load(stream)  # the caller said trusted=True
    raise UsageError(f"gitml has no loader for {suffix or 'files without a suffix'} ({name})",
                     _OTHER_HINT)  # fmt: skip


def _skops(stream: IO[bytes], name: str, trusted: bool | Sequence[str]) -> Any:
    try:
        import skops.io as sio  # type: ignore[import-untyped]
    except ImportError:
        raise UsageError(f"loading {name} needs skops", "pip install 'gitml[models]'") from None
    untrusted = [str(t) for t in sio.get_untrusted_types(file=stream)]
    if isinstance(trusted, bool):
        allowed = untrusted if trusted else []
    else:
        allowed = [str(t) for t in trusted]
    refused = [t for t in untrusted if t not in allowed]
    if refused:
        more = f" and {len(refused) - 5} more" if len(refused) > 5 else ""
        raise UsageError(
            f"{name} holds types skops does not trust by default: {', '.join(refused[:5])}{more}",
            "review them, then pass them as trusted=[...] (or trusted=True)",
        )
    stream.seek(0)
    return sio.load(stream, trusted=allowed)
