"""A dashboard served by a real `panel serve`, and its page read as a browser's Bokeh client reads it.

A Panel page's HTML carries no content: the browser opens a WebSocket and the
server sends the document (every widget and pane as a Bokeh model). `served`
pulls that document the same way, so tests see the widgets' labels and the
panes' text that a reader would see.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def served(app: Path, workdir: Path | None = None) -> Iterator[tuple[str, str, list[Any]]]:
    """Serve `app`; yield its URL, the page's HTML (HTTP 200) and the models of its document."""
    import panel.models  # noqa: F401 - registers Panel's model types with the Bokeh client
    import panel.models.tabulator  # noqa: F401
    from bokeh.client import pull_session
    from plait.dashboards import preview

    running = preview(app, workdir=workdir)
    try:
        url = running.wait_ready(timeout=90).replace("localhost", "127.0.0.1")
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
            html = response.read().decode()
        with pull_session(url=url) as session:
            models = list(session.document.models)
        yield url, html, models
    except BaseException:
        print(running.output())
        raise
    finally:
        running.stop()


def texts(models: list[Any]) -> str:
    """Every text the page's panes and widgets carry, joined (HTML-escaped as the server sends it)."""
    import html

    out = []
    for model in models:
        for attribute in ("title", "label", "text", "filename", "name"):
            value = getattr(model, attribute, None)
            if isinstance(value, str):
                out.append(html.unescape(value))
    return "\n".join(out)

