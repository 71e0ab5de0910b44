"""``python -m gitml``: the same entry point as the ``gitml`` script."""

from gitml.cli.app import main

main()
