"""The lab's forward of an app (`/plait/apps/<project>/<domain>/<name>/<path>`) builds the
backend's `/apps/...` URL from checked parts only: a path that would leave the app, or name
something that is not an app, is refused before anything is sent.

The routing is plain functions (`plait.lab.routes`); the handlers that put it on the wire are
tested against a stand-in backend in test_lab_proxy.py and a real one in test_browser_apps_tab.py.
"""

from __future__ import annotations

import pytest
from plait.lab.routes import Forward, Refusal, proxied_prefix, proxied_target


def test_an_apps_path_and_query_reach_the_backends_apps_prefix() -> None:
    found = proxied_target("apps", "default/development/echo/echo", "text=hi&token=jupyters&_xsrf=x")
    assert found == Forward("", "/apps/default/development/echo/echo", (("text", "hi"),))
    assert proxied_prefix(found) == "/apps/default/development/echo/"
    assert proxied_target("apps", "default/development/echo/").path == "/apps/default/development/echo/"
    assert proxied_target("apps", "p/d/board/static/@bokeh/x.js").path == "/apps/p/d/board/static/@bokeh/x.js"
    deep = proxied_target("apps", "p/d/board/ws/")
    assert isinstance(deep, Forward) and deep.path == "/apps/p/d/board/ws/"


def test_the_same_checks_serve_workspaces() -> None:
    found = proxied_target("workspaces", "default/development/my-ws/stable-1/x", "folder=%2Fhome")
    assert found == Forward("", "/workspaces/default/development/my-ws/stable-1/x", (("folder", "/home"),))


@pytest.mark.parametrize("path, status, says", [
    ("default/development/echo/..%2F..%2F..%2Fapi%2Fv1%2Fsecrets", 400, "holds `/` once decoded"),
    ("default/development/echo/../../api/v1/secrets", 400, "relative path step"),
    ("default/development/echo/%2E%2E/other", 400, "relative path step"),
    ("default/development/%2E%2E/x", 400, "the app name `%2E%2E`"),
    ("default/development/echo/a%5C..%5Cb", 400, "holds `\\`"),
    ("default/development/echo//127.0.0.1:22/x", 400, "empty path segment"),
    ("default/development/echo/a%00b", 400, "control"),
    ("default/development/echo/%252E%252E", 400, "holds `%`"),
    ("default/dev.x/echo/", 400, "the app domain `dev.x`"),
    ("default/development", 404, "names no app"),
])
def test_a_path_that_leaves_the_app_is_refused(path: str, status: int, says: str) -> None:
    found = proxied_target("apps", path)
    assert isinstance(found, Refusal), found
    assert found.status == status
    assert says in found.message
    assert found.message.startswith("/plait/apps/")


def test_only_the_known_kinds_are_forwarded() -> None:
    with pytest.raises(KeyError):
        proxied_target("api", "v1/secrets")
