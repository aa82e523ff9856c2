"""`%plait dashboard`: preview a notebook as a Panel dashboard from inside a notebook.

    %plait dashboard report.ipynb [--port P]   start `panel serve` in the background; shows a link
    %plait dashboard report.ipynb --deploy [--name N]   serve it as an app on the backend; a link
    %plait dashboard --stop                     stop the previews this kernel started

It is `plait dashboard NOTEBOOK` (`plait.dashboards.from_notebook`, then
`panel serve` on 127.0.0.1) with the server kept running beside the kernel
instead of in the foreground, so the notebook stays usable; the previews
stop with the kernel.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from html import escape
from pathlib import Path
from typing import Any

from .cells import CellError

USAGE = ("usage: %plait dashboard NOTEBOOK [--port P] | %plait dashboard NOTEBOOK --deploy [--name N] | "
         "%plait dashboard --stop")

_running: list[Any] = []  # the kernel's previews, newest last


def dashboard(shell: Any, args: list[str]) -> Any:
    """Start a preview of NOTEBOOK and show its link; `--stop` ends every preview of this kernel."""
    from IPython.display import HTML, display

    notebook, port, stop, deploy_as = _parse(args)
    if stop:
        stopped = stop_all()
        print(f"stopped {stopped} dashboard preview(s)" if stopped else "no dashboard preview is running")
        return None
    assert notebook is not None
    path = Path(notebook).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    if not path.is_file():
        raise CellError(f"%plait dashboard: no notebook at {path}; give the path of a .ipynb file")
    from ..dashboards import from_notebook, preview

    source = from_notebook(path)
    if deploy_as is not None:
        return _deploy(source, deploy_as or path.stem)
    folder = Path(tempfile.mkdtemp(prefix="plait-dashboard-"))
    running = preview(source.write(folder), port=port, workdir=path.parent)
    try:
        url = running.wait_ready()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _running.append((running, folder))
    if len(_running) == 1:
        atexit.register(stop_all)
    for note in source.notes:
        print(f"note: {note}")
    display(HTML(f'<a href="{escape(url)}" target="_blank" rel="noopener">{escape(source.title)}</a>: '
                 f"{escape(url)} (%plait dashboard --stop stops it)"))
    return None


def stop_all() -> int:
    """Stop every preview this kernel started; return how many were running."""
    count = 0
    while _running:
        running, folder = _running.pop()
        if running.process.poll() is None:
            count += 1
        running.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return count


def _deploy(source: Any, name: str) -> None:
    """Serve the dashboard as an app on the backend and show its link."""
    from IPython.display import HTML, display

    from ..dashboards import app_name, deploy
    from ..remote import Remote

    remote = Remote()
    name = app_name(name)
    info = deploy(source, remote, name, on_status=lambda i: print(f"[Status] {i.status}: {i.reason or ''}"))
    url = remote.app_url(info.name)
    display(HTML(f'<a href="{escape(url)}" target="_blank" rel="noopener">{escape(source.title)}</a>: app '
                 f"{escape(info.name)} on the backend (`plait stop apps --name {escape(info.name)}` stops it)"))


def _parse(args: list[str]) -> tuple[str | None, int | None, bool, str | None]:
    """(notebook, port, --stop, the app's name with --deploy: "" for the notebook's, None without)."""
    notebook: str | None = None
    port: int | None = None
    stop = False
    deploy_as: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--stop":
            stop = True
        elif arg == "--port":
            if i + 1 >= len(args) or not args[i + 1].isdigit() or not 1 <= int(args[i + 1]) <= 65535:
                raise CellError(f"%plait dashboard --port expects a port from 1 to 65535; {USAGE}")
            port = int(args[i + 1])
            i += 1
        elif arg == "--deploy":
            deploy_as = deploy_as or ""
        elif arg == "--name":
            if i + 1 >= len(args):
                raise CellError(f"%plait dashboard --name expects the app's name; {USAGE}")
            deploy_as = args[i + 1]
            i += 1
        elif arg == "--execution":
            raise CellError("%plait dashboard --execution: use `plait dashboard --execution ID` in a terminal; "
                            "in a notebook it makes a notebook's dashboard")
        elif arg.startswith("-"):
            raise CellError(f"%plait dashboard has no option {arg}; {USAGE}")
        elif notebook is None:
            notebook = arg
        else:
            raise CellError(f"%plait dashboard takes one NOTEBOOK, got {notebook!r} and {arg!r}; {USAGE}")
        i += 1
    if stop and (notebook or port or deploy_as is not None):
        raise CellError(f"%plait dashboard --stop takes nothing else; {USAGE}")
    if not stop and notebook is None:
        raise CellError(USAGE)
    return notebook, port, stop, deploy_as
