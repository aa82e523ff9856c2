"""The backend's reverse proxy: browser applications the server runs, behind its authentication.

    tail = checked_tail(scope, "/workspaces/p/d/name/")      # RefusedPath for `..`, `//`, ...
    return await forward_http(request, "http://127.0.0.1:41234", tail, on_traffic=touch)
    await forward_socket(websocket, "ws://127.0.0.1:41234", tail, on_traffic=touch)

The upstream's scheme, host and port always come from the server's own records
(a workspace's code-server, the Dask dashboard), never from the request; the
request only chooses a path below its prefix, and a path that could climb out
of it is refused before anything is sent. `sessions` signs the links and
cookies that let a browser tab in without the bearer header.
"""

from .forward import HOP_BY_HOP, Passing, forward_http, forward_socket, problem, relative_location
from .paths import RefusedPath, checked_tail, target_url

__all__ = ["HOP_BY_HOP", "Passing", "RefusedPath", "checked_tail", "forward_http", "forward_socket", "problem",
           "relative_location", "target_url"]
