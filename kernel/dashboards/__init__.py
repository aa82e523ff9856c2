"""Panel dashboards from notebooks and from executions' outputs.

    source = plait.dashboards.from_notebook("report.ipynb")   # cells tagged `dashboard`
    source = plait.dashboards.from_execution(execution.outputs)
    source.write("site/")                                     # then: panel serve site/app.py

`plait dashboard NOTEBOOK` (and `%plait dashboard`) previews one with
`panel serve`; `--deploy` (and `deploy(source, remote, name)`) serves it as an
app on the backend; `plait.widgets` turns notebook parameters into widgets. Panel
is imported by the generated app and the widgets, never by these builders.
"""

from __future__ import annotations

from .deploy import app_name, deploy
from .execution import from_execution
from .notebook import DashboardError, from_notebook
from .preview import Preview, free_port, preview
from .source import DashboardSource

__all__ = ["DashboardError", "DashboardSource", "Preview", "app_name", "deploy", "free_port", "from_execution",
           "from_notebook", "preview"]
