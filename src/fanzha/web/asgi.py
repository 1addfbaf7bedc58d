"""ASGI entry point for uvicorn or any ASGI server: `fanzha.web.asgi:app`."""

from fanzha.web.app import create_app

app = create_app()
