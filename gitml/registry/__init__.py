"""The model registry: versions and stages as git tags in GTO's grammar.

Pure domain layer, no git calls (``gitml.git.tags`` lists and creates the tags):

* ``grammar`` -- tag names and user references (``churn@v3``, ``churn#prod``);
  ``names`` -- name/stage rules; ``semver`` -- versions.
* ``record`` -- the JSON record in a tag message.
* ``state`` -- ``fold_tags(tags) -> RegistryState`` (model in ``model``).
* ``resolve`` -- ``resolve``, ``find_ref``, ``next_version``.
* ``ops`` -- planners returning the tag to create, and ``conflict_error``.

See docs/REGISTRY.md.
"""
