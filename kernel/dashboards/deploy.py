"""Deploy a dashboard as an app on the backend: its files, and `panel serve` as the command.

    info = deploy(from_notebook("report.ipynb"), remote, "report")
    info.url                                    # /apps/<project>/<domain>/report/

The dashboard is written into a fresh folder next to a generated declaring file
(`dashboard_app.py`) whose `plait.app.App` runs `panel serve app.py` on the
replica's port with the page at the root (`--index app`); that declaration is
loaded like any app file and deployed with `Remote.deploy_app`, so a dashboard
is an ordinary app: `plait get apps` lists it, `plait stop apps` stops it, and
an unchanged dashboard deployed again changes nothing.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .source import APP_FILE, DashboardSource

DECLARATION = "dashboard_app.py"


def app_name(text: str) -> str:
    """A valid app name from a notebook's stem or an execution id: `Sales Report.ipynb` -> `sales-report`."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63].strip("-")
    return name or "dashboard"


def declaration(name: str, files: list[str], title: str) -> str:
    include = ", ".join(repr(f) for f in sorted(files))
    return f'''"""The app that serves the dashboard {title!r}: written by plait.dashboards."""

import plait

dashboard = plait.app.App(
    name={name!r},
    args="panel serve {APP_FILE} --port 8080 --allow-websocket-origin=* --index app",
    port=8080,
    include=[{include}],
    min_replicas=0,
    max_replicas=1,
    scaledown_after=3600,
)
'''


def deploy(source: DashboardSource, remote: Any, name: str, *, wait: bool = True,
           on_status: Any = None) -> Any:
    """Deploy `source` as the app `name` through `remote` (a `plait.Remote`); its `AppInfo`."""
    from ..app import load_apps

    folder = Path(tempfile.mkdtemp(prefix="plait-dashboard-deploy-"))
    try:
        source.write(folder)
        files = [p.relative_to(folder).as_posix() for p in folder.rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")]
        (folder / DECLARATION).write_text(declaration(name, files, source.title), encoding="utf-8")
        [app] = load_apps(folder / DECLARATION)
        return remote.deploy_app(app, wait=wait, on_status=on_status)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
