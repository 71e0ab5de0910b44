"""remotes package."""
