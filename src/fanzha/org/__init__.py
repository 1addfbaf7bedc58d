"""Organisation: the two area hierarchies, member units, users and roles."""
