"""Reading versioned content from any revision of this or another repository.

``source.py`` opens another repository (a cached clone of its git history, its
tracked data remote); ``locate.py`` finds what a path is at a commit (a git
file, a tracked file, a file inside a tracked folder); ``fetching.py`` brings the
objects it needs into the caller's cache, verified; ``reader.py`` streams one
object, checking its hash; ``imports.py`` keeps import pointers (``gitml
import``/``update``); ``listing.py`` lists what a revision tracks (``gitml ls``).
"""
