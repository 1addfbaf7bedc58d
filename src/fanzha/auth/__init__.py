"""Login, sessions, API tokens, CSRF and the permission checks routes depend on."""
