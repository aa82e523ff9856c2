"""The HTTP API of the plait backend: `create_app(settings, db, storage, executor)`."""

from .app import create_app

__all__ = ["create_app"]
