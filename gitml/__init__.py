"""gitml: Git-native data and model versioning.

The public, typed library API lives in :mod:`gitml.api`; the CLI is a thin
layer over it.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
