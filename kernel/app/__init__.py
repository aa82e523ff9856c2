"""Web apps served next to workflows: `App`, its `Input`s, and `load_apps` for a file's apps.

    import plait as union

    app = union.app.App(name="hello", args="panel serve main.py --port 8080",
                        include=["main.py"], limits=union.Resources(cpu="1", mem="1Gi"))

Declarations only: the backend's app service deploys and serves them, from the
spec (`App.to_spec()`).
"""

from __future__ import annotations

from .declaration import App, AppDeclarationError, Input
from .loading import AppNotFoundError, load_app, load_apps
from .spec import RESERVED_PORTS, spec_digest

__all__ = ["RESERVED_PORTS", "App", "AppDeclarationError", "AppNotFoundError", "Input", "load_app",
           "load_apps", "spec_digest"]
