"""gitml: Git-native data and model versioning.

The public, typed library API lives in :mod:`gitml.api`; the CLI is a thin
layer over it. The calls a notebook needs most are also here, loaded on first
use (PEP 562), so ``import gitml`` stays as cheap as it was::

    import gitml
    with gitml.open("data/customers.csv", rev="churn@v2") as f: ...
    model = gitml.load_model("churn#prod")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitml.version import __version__

_PUBLIC = (
    "get",
    "get_url",
    "import_data",
    "import_status",
    "load_model",
    "ls",
    "metrics",
    "model_path",
    "open",
    "params",
    "read",
    "update",
)
__all__ = ["__version__", *_PUBLIC]

if TYPE_CHECKING:
    from gitml.api.access import get_url as get_url
    from gitml.api.access import load_model as load_model
    from gitml.api.access import ls as ls
    from gitml.api.access import metrics as metrics
    from gitml.api.access import open as open
    from gitml.api.access import params as params
    from gitml.api.access import read as read
    from gitml.api.imports import get as get
    from gitml.api.imports import import_data as import_data
    from gitml.api.imports import import_status as import_status
    from gitml.api.imports import update as update
    from gitml.api.registry import model_path as model_path
else:

    def __getattr__(name: str) -> Any:
        if name not in _PUBLIC:
            raise AttributeError(f"module 'gitml' has no attribute {name!r}")
        from gitml import api

        return getattr(api, name)
