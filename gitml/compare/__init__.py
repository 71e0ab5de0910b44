"""Comparing versions: metrics and params diffs, row-level table diffs, dataset review.

Every function takes revisions as the user wrote them (``HEAD~1``, ``churn@v1``,
``churn#prod``) and resolves them with :mod:`gitml.registry.revision`; ``None``
is the workspace.
"""
