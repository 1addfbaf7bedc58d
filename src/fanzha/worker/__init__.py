"""Background work on Huey: embedded SQLite queue for one machine, Redis for production."""
