"""Everything gitml asks of git; the only package that runs git.

Modules (import the one you need; importing GitPython costs ~0.1-0.2 s, so
nothing is imported here):

* :mod:`gitml.git.repo` -- :class:`~gitml.git.repo.GitRepo`: discovery, listings,
  batch blob reads, index, config, history.
* :mod:`gitml.git.notes` -- metadata notes on ``refs/notes/gitml``.
* :mod:`gitml.git.tags` -- registry tags: list all in one process, create atomically.
* :mod:`gitml.git.transport` -- push/fetch of refs.
* :mod:`gitml.git.hooks` -- install/uninstall/status of gitml's hooks.
* :mod:`gitml.git.refname` -- ``git check-ref-format`` rules in Python.
* :mod:`gitml.git.environment` -- which git to run, ``clean_env()``.
"""
