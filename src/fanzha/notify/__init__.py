"""Notifications: the in-app bell and pluggable outward channels (log file, SMS gateway, webhook), with retries."""
