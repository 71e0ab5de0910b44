"""What gitml's git hooks do: pre-commit verifies, post-commit records,
pre-push uploads, post-checkout/post-merge bring data in line."""
