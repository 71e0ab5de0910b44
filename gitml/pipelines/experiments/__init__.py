"""Experiments: pipeline runs with overridden params, kept as commits on hidden refs.

See docs/PIPELINES.md. ``params.py`` parses and applies ``-S`` overrides,
``refs.py`` names and lists experiment refs and their notes, ``run.py`` runs
one experiment in a temporary worktree, ``queue.py`` queues and runs many,
``manage.py`` applies, branches, removes, pushes and pulls them.
"""
