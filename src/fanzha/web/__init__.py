"""The web application: pages in Simplified Chinese and the JSON API under /api/v1."""
