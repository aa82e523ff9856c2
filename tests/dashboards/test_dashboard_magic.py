"""`%plait dashboard NOTEBOOK` in an IPython shell: a preview in the background, shown as a link.

The shell is a real IPython `InteractiveShell` with the plait extension loaded,
as a kernel has it; the link it shows must answer, and `--stop` must end it.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plait.notebook.cells import CellError

SERVABLE_ONLY = Path(__file__).resolve().parents[2] / "tests" / "resources" / "dashboards" / "servable_only.ipynb"


@pytest.fixture(scope="module")
def shell() -> Iterator[Any]:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "plait")
    yield shell
    from plait.notebook.dashboard_magics import stop_all

    stop_all()
    InteractiveShell.clear_instance()


def test_the_magic_shows_a_link_that_answers_and_stop_ends_it(shell: Any) -> None:
    import re

    from IPython.utils.capture import capture_output

    with capture_output() as shown:
        shell.run_line_magic("plait", f"dashboard {SERVABLE_ONLY}")
    (html,) = [o.data["text/html"] for o in shown.outputs if "text/html" in o.data]
    url = re.search(r'href="([^"]+)"', html)
    assert url and ">Inventory check</a>" in html and "%plait dashboard --stop stops it" in html
    with urllib.request.urlopen(url.group(1).replace("localhost", "127.0.0.1"), timeout=30) as response:
        assert response.status == 200
        assert "<title>Inventory check</title>" in response.read().decode()
    with capture_output() as stopped:
        shell.run_line_magic("plait", "dashboard --stop")
    assert stopped.stdout.strip() == "stopped 1 dashboard preview(s)"
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(url.group(1).replace("localhost", "127.0.0.1"), timeout=5)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("dashboard", r"usage: %plait dashboard NOTEBOOK \[--port P\] \| %plait dashboard NOTEBOOK --deploy"),
        ("dashboard missing.ipynb", "%plait dashboard: no notebook at .*missing.ipynb; give the path of a .ipynb"),
        ("dashboard a.ipynb --port 99999", "%plait dashboard --port expects a port from 1 to 65535"),
        ("dashboard a.ipynb --name", "%plait dashboard --name expects the app's name"),
        ("dashboard --stop --deploy", "%plait dashboard --stop takes nothing else"),
        ("dashboard a.ipynb b.ipynb", "%plait dashboard takes one NOTEBOOK, got 'a.ipynb' and 'b.ipynb'"),
    ],
)
def test_a_bad_line_says_what_to_write(line: str, message: str) -> None:
    from plait.notebook.dashboard_magics import dashboard

    with pytest.raises(CellError, match=message):
        dashboard(None, line.split()[1:])
