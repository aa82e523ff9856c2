"""`%plait debug EXECUTION NODE`: open a browser workspace on a failed node of the backend.

    %plait debug f3a9c2 n1                 create the workspace, wait for it, link to it
    %plait debug f3a9c2 n1 --name fix-n1   the workspace's name (default: the server's)

The workspace runs in the task's environment with its registered code, the
node's inputs and a `debug_<task>.py` that VS Code's debugger runs; this magic
calls the kernel's `plait.Remote().debug_node` and shows the link that opens
it (logged in, valid 10 minutes).
"""

from __future__ import annotations

from html import escape
from typing import Any

from .cells import CellError

USAGE = "usage: %plait debug EXECUTION NODE [--name NAME] [--no-wait] [--timeout SECONDS]"


def debug(shell: Any, args: list[str]) -> Any:
    """Create the debug workspace of a failed node and display its link."""
    from IPython.display import display

    from .remote_magics import _scope_options, client

    words, no_wait = [a for a in args if a != "--no-wait"], "--no-wait" in args
    found, positional = _scope_options("debug", words, ("name", "timeout"))
    if len(positional) != 2:
        raise CellError(f"%plait debug expects an EXECUTION and a NODE, got {len(positional)} "
                        f"word(s); {USAGE}")
    timeout = found.get("timeout", "300")
    try:
        seconds = float(timeout)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise CellError(f"%plait debug --timeout expects a number of seconds above 0, got {timeout!r}")
    execution, node = positional
    remote = client()
    print(f"creating a workspace to debug node {node} of execution {execution}...", flush=True)
    info = remote.debug_node(execution, node, name=found.get("name"), wait=not no_wait,
                             timeout=seconds, on_progress=_progress)
    if info.phase != "ACTIVE":
        print(f"workspace {info.name!r} is {info.phase}; once it is ACTIVE, "
              f"plait.Remote().workspace_url({info.name!r}) gives its link")
        return None
    url = remote.workspace_url(info.name, project=info.project, domain=info.domain)
    display(link(info.name, url, info.debug_script), raw=True)  # type: ignore[no-untyped-call]
    return None


def link(name: str, url: str, script: str | None) -> dict[str, str]:
    """A MIME bundle: an HTML link that opens a new browser tab, and the URL as text."""
    run = f" Open {script} and start it with Run and Debug." if script else ""
    text = f"workspace {name!r} is ready: {url}\n{run.strip()}".rstrip()
    html = (f"<div class='plait-debug-workspace'>Workspace <code>{escape(name)}</code> is ready: "
            f"<a href='{escape(url, quote=True)}' target='_blank' rel='noopener noreferrer'>"
            f"Open in VS Code</a>.{escape(run)}</div>")
    return {"text/plain": text, "text/html": html}


def _progress(info: Any) -> None:
    print(f"workspace {info.name!r}: {info.phase}", flush=True)
