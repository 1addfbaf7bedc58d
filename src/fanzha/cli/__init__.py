"""The `fanzha` command."""
