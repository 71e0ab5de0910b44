"""git package."""
