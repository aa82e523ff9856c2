"""plait's Jupyter server extension: the lab panels' API under Jupyter's own login.

The browser talks to `/plait/api/...` on the Jupyter server with its usual
session (cookie or token, XSRF header); this extension forwards the call to the
plait backend with the backend's token, which never reaches the browser. When no
backend is configured (no `PLAIT_ENDPOINT`, no live `$PLAIT_HOME/server.json`)
the first call starts an embedded one, as the CLI and `plait.Remote` do.
"""

from __future__ import annotations

from typing import Any

from .handlers import setup_handlers


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "plait.lab"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "plait-jupyterlab"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    setup_handlers(server_app)
    server_app.log.info("plait: lab panels' API at /plait/api (backend: %s)",
                        "PLAIT_ENDPOINT" if _configured() else "found or started on first use")


def _configured() -> bool:
    import os

    return bool(os.environ.get("PLAIT_ENDPOINT"))
