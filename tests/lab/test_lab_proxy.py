"""The lab proxy forwards only what it means to, exactly as it means to.

A real JupyterLab with the `plait.lab` extension talks to a stand-in backend
that records every request reaching it (`standin.py`): each bypass of the
allow-list must be refused by the lab with nothing reaching the backend, and
each route the panels use must arrive as the matched template built it, with
the backend's token and without Jupyter's. Requests go out with `http.client`,
which sends the path byte for byte (httpx would resolve `..` itself).

The Dask dashboard's forward (`/plait/api/dask/...`, pages and WebSocket) is
tested here against the stand-in too; `test_server_extension.py` runs the same
routes through a real backend.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from lab_fixture import LabProcess, running_lab
from plait.lab.routes import ROUTES
from standin import DASHBOARD_PAGE, Standin, download_parts, standin_backend
from tornado import httpclient, websocket

pytestmark = pytest.mark.slow
SRC = Path(__file__).resolve().parents[2] / "jupyter_ext" / "src"


@pytest.fixture(scope="module")
def standin() -> Iterator[Standin]:
    with standin_backend(secrets.token_hex(16)) as upstream:
        yield upstream


@pytest.fixture(scope="module")
def lab(standin: Standin, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabProcess]:
    root = tmp_path_factory.mktemp("proxy-lab")
    env = {"PLAIT_ENDPOINT": standin.url, "PLAIT_TOKEN": standin.token}
    with running_lab(root / "lab", plait_home=root / "home", env=env) as started:
        yield started


@pytest.fixture
def upstream(standin: Standin) -> Standin:
    standin.clear()
    return standin


def send(lab: LabProcess, method: str, target: str, *, body: bytes | None = None, login: bool = True,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """`method target` to the lab with the request target exactly as given (`login`: Jupyter's token)."""
    parts = urlsplit(lab.base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        sent = {**(lab.auth if login else {}), **(headers or {})}
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        conn.request(method, target, body=body, headers=sent)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


# Each of these passed the allow-list before (it matched by prefix on the decoded
# path and pasted the path into the backend's URL) and reached the backend.
BYPASSES = [
    pytest.param("POST", "executions/..%2Fregister%3Fx=/abort", 400, id="issue: encoded .. and ? to POST /register"),
    pytest.param("POST", "executions/..%2F..%2Fapi%2Fv1%2Fregister/abort", 400, id="encoded slashes"),
    pytest.param("POST", "executions/../register/abort", 400, id="raw dot segments"),
    pytest.param("POST", "executions/%2E%2E/register/abort", 400, id="encoded dot segment"),
    pytest.param("GET", "executions/./abc", 400, id="dot segment"),
    pytest.param("GET", "executions/%252E%252E%252Fregister", 400, id="double encoding"),
    pytest.param("POST", "executions/%252E%252E%252Fregister/abort", 400, id="double encoding on a POST"),
    pytest.param("GET", "executions/..%5C..%5Cregister", 400, id="encoded backslashes"),
    pytest.param("GET", "executions/..\\..\\register", 400, id="raw backslashes"),
    pytest.param("GET", "executions/abc;jsessionid=1/nodes", 400, id="; parameter"),
    pytest.param("GET", "executions/abc%3Fphase=RUNNING", 400, id="encoded ? adds a query"),
    pytest.param("GET", "executions/abc%23x/nodes", 400, id="encoded # cuts the path"),
    pytest.param("GET", "executions/http:%2F%2F127.0.0.1:1%2Fx", 400, id="absolute URL in a segment"),
    pytest.param("GET", "executions//127.0.0.1:1/health", 400, id="host after an empty segment"),
    pytest.param("GET", "artifacts/..%2F..%2Fregister/versions", 400, id="encoded .. in an artifact name"),
    pytest.param("GET", "artifacts/m/versions/http:%2F%2F127.0.0.1:1%2Fx/lineage", 400,
                 id="absolute URL as an artifact version"),
    pytest.param("POST", "executions/abc/signals/..%2F..%2Fregister", 400, id="encoded .. in a signal name"),
    pytest.param("GET", "health/@127.0.0.1:1", 404, id="userinfo and port after a route"),
    pytest.param("GET", "executions/@127.0.0.1:1", 404, id="host and port as an execution id"),
    pytest.param("POST", "executions/%EF%BC%8E%EF%BC%8E%EF%BC%8Fregister/abort", 400, id="fullwidth dots and slash"),
    pytest.param("GET", "tasks/a%E2%80%AEb", 400, id="bidi override in a name"),
    pytest.param("GET", "executions/a%00b", 400, id="NUL in a segment"),
    pytest.param("GET", "executions/" + "a" * 10_000, 414, id="very long path"),
    pytest.param("GET", "executions/abc/abort", 404, id="GET on a POST route"),
    pytest.param("POST", "executions/abc/nodes/abort", 404, id="POST suffix on a GET route"),
    pytest.param("POST", "tasks/x/y/z/archive", 404, id="extra segments before archive"),
    pytest.param("GET", "executions/abc/nodes/n0/logs/extra", 404, id="extra segment after a route"),
]


@pytest.mark.parametrize("method, path, status", BYPASSES)
def test_a_bypass_of_the_allow_list_is_refused_and_reaches_nothing(
    lab: LabProcess, upstream: Standin, method: str, path: str, status: int
) -> None:
    code, _, body = send(lab, method, f"/plait/api/{path}", body=b"{}" if method == "POST" else None)
    assert code == status, body
    answer = json.loads(body)
    assert answer["error"] in ("bad_path", "not_found", "path_too_long")
    assert answer["message"].startswith(f"{method} /plait/api/") or "characters" in answer["message"]
    assert upstream.requests == []


def test_refusals_name_what_was_wrong_and_what_the_lab_takes(lab: LabProcess, upstream: Standin) -> None:
    code, _, body = send(lab, "POST", "/plait/api/executions/..%2Fregister%3Fx=/abort", body=b"{}")
    assert (code, json.loads(body)["message"]) == (400, (
        "POST /plait/api/executions/..%2Fregister%3Fx=/abort has the path segment `..%2Fregister%3Fx=`, "
        "which holds `/` `?` once decoded; the lab forwards paths of plain names, each percent-encoded "
        "once (no `.` or `..` segments, no encoded separators)"))
    code, _, body = send(lab, "POST", "/plait/api/workflows/x/versions", body=b"{}")
    assert (code, json.loads(body)["message"]) == (404, (
        "POST /plait/api/workflows/x/versions is not a route the lab panels use (this path takes GET); "
        "the backend's full API is reached with `plait.Remote` or the CLI"))
    code, _, body = send(lab, "GET", "/plait/api/tasks/%EF%BC%8E%EF%BC%8E")
    assert "changes under Unicode normalisation (to `..`)" in json.loads(body)["message"]
    assert upstream.requests == []


@pytest.mark.parametrize("method, path, status", [
    ("GET", "secrets", 404), ("POST", "secrets", 404), ("GET", "secrets?project=default", 404),
    ("PUT", "secrets", 404), ("DELETE", "secrets?name=API_KEY", 405),
    ("GET", "secrets/db/password", 404),
])
def test_the_secret_store_is_not_reachable_through_the_lab(
    lab: LabProcess, upstream: Standin, method: str, path: str, status: int
) -> None:
    body = b'{"name": "API_KEY", "value": "v"}' if method in ("POST", "PUT") else None
    code, _, answer = send(lab, method, f"/plait/api/{path}", body=body)
    assert code == status, answer
    assert upstream.requests == []
    assert not any(r.template[0] == "secrets" for r in ROUTES)


@pytest.mark.parametrize("method, status", [("PUT", 404), ("DELETE", 405), ("PATCH", 405)])
def test_methods_the_lab_does_not_forward_are_refused(
    lab: LabProcess, upstream: Standin, method: str, status: int
) -> None:
    code, _, _ = send(lab, method, "/plait/api/executions/abc", body=b"{}")
    assert code == status  # PUT is forwarded for a workspace's edit only
    assert upstream.requests == []


# What the panels send, and what the backend must receive: (method, lab target, backend path, query).
PANEL_CALLS = [
    ("GET", "health", "/api/v1/health", ""),
    ("GET", "projects", "/api/v1/projects", ""),
    ("GET", "workflows?project=default&name_contains=fit&archived=false&limit=50&offset=0",
     "/api/v1/workflows", "project=default&name_contains=fit&archived=false&limit=50&offset=0"),
    ("GET", "tasks/mod.fit_line?project=default&domain=development&version=v1",
     "/api/v1/tasks/mod.fit_line", "project=default&domain=development&version=v1"),
    ("GET", "launch_plans/nightly", "/api/v1/launch_plans/nightly", ""),
    ("GET", "workflows/mod.fit_line/versions?limit=20", "/api/v1/workflows/mod.fit_line/versions", "limit=20"),
    ("GET", "workflows/mod.fit_line/dag?version=v1", "/api/v1/workflows/mod.fit_line/dag", "version=v1"),
    ("GET", "tasks/mod.caf%C3%A9", "/api/v1/tasks/mod.caf%C3%A9", ""),  # a non-ASCII name, quoted once
    ("POST", "workflows/mod.fit_line/archive?project=default", "/api/v1/workflows/mod.fit_line/archive",
     "project=default"),
    ("POST", "launch_plans/nightly/unarchive", "/api/v1/launch_plans/nightly/unarchive", ""),
    ("GET", "executions?phase=RUNNING&phase=QUEUED&limit=200&offset=0&kind=workflow",
     "/api/v1/executions", "phase=RUNNING&phase=QUEUED&limit=200&offset=0&kind=workflow"),
    ("POST", "executions", "/api/v1/executions", ""),
    ("GET", "executions/abcdefghij0123456789", "/api/v1/executions/abcdefghij0123456789", ""),
    ("GET", "executions/abc/nodes", "/api/v1/executions/abc/nodes", ""),
    ("GET", "executions/abc/nodes/n2-n0-3/logs?attempt=1&offset=10&max_bytes=65536",
     "/api/v1/executions/abc/nodes/n2-n0-3/logs", "attempt=1&offset=10&max_bytes=65536"),
    ("POST", "executions/abc/abort", "/api/v1/executions/abc/abort", ""),
    ("POST", "executions/abc/relaunch", "/api/v1/executions/abc/relaunch", ""),
    ("POST", "executions/abc/recover", "/api/v1/executions/abc/recover", ""),
    ("GET", "executions/abc/signals", "/api/v1/executions/abc/signals", ""),
    ("POST", "executions/abc/signals/title", "/api/v1/executions/abc/signals/title", ""),
    ("GET", "data?uri=executions%2Fabc%2Fn0%2F1%2Fo0.pkl", "/api/v1/data", "uri=executions%2Fabc%2Fn0%2F1%2Fo0.pkl"),
    ("GET", "artifacts?name_contains=model&limit=50", "/api/v1/artifacts", "name_contains=model&limit=50"),
    ("GET", "artifacts/model/versions?partition=region%3Deu&partition=team%3Da&limit=20",
     "/api/v1/artifacts/model/versions", "partition=region%3Deu&partition=team%3Da&limit=20"),
    ("GET", "artifacts/model/versions/3f2a9c0d1e2b4a5c", "/api/v1/artifacts/model/versions/3f2a9c0d1e2b4a5c", ""),
    ("GET", "artifacts/model/versions/3f2a9c0d1e2b4a5c/lineage?depth=3",
     "/api/v1/artifacts/model/versions/3f2a9c0d1e2b4a5c/lineage", "depth=3"),
    ("GET", "executions/abc/artifacts", "/api/v1/executions/abc/artifacts", ""),
    ("GET", "workspaces?project=p&domain=development&active=true&archived=false&sort=updated",
     "/api/v1/workspaces", "project=p&domain=development&active=true&archived=false&sort=updated"),
    ("POST", "workspaces", "/api/v1/workspaces", ""),
    ("GET", "workspaces/my-ws?project=p&domain=development", "/api/v1/workspaces/my-ws",
     "project=p&domain=development"),
    ("PUT", "workspaces/my-ws?project=p", "/api/v1/workspaces/my-ws", "project=p"),
    ("POST", "workspaces/my-ws/start?project=p", "/api/v1/workspaces/my-ws/start", "project=p"),
    ("POST", "workspaces/my-ws/stop", "/api/v1/workspaces/my-ws/stop", ""),
    ("POST", "workspaces/my-ws/archive", "/api/v1/workspaces/my-ws/archive", ""),
    ("POST", "workspaces/my-ws/unarchive", "/api/v1/workspaces/my-ws/unarchive", ""),
    ("GET", "workspaces/my-ws/log?tail=200&project=p", "/api/v1/workspaces/my-ws/log", "tail=200&project=p"),
    ("POST", "executions/abc/nodes/n2-n0/debug", "/api/v1/executions/abc/nodes/n2-n0/debug", ""),
    ("GET", "apps?project=p&domain=development", "/api/v1/apps", "project=p&domain=development"),
    ("GET", "apps/echo?project=p", "/api/v1/apps/echo", "project=p"),
    ("POST", "apps/echo/start?project=p", "/api/v1/apps/echo/start", "project=p"),
    ("POST", "apps/echo/stop", "/api/v1/apps/echo/stop", ""),
    ("GET", "apps/echo/logs?replica=1&tail=200", "/api/v1/apps/echo/logs", "replica=1&tail=200"),
    ("GET", "apps/echo/events?limit=50&project=p", "/api/v1/apps/echo/events", "limit=50&project=p"),
]


@pytest.mark.parametrize("method, target, path, query", PANEL_CALLS)
def test_the_panels_routes_arrive_as_built_with_the_backends_token(
    lab: LabProcess, upstream: Standin, method: str, target: str, path: str, query: str
) -> None:
    body = b'{"kind": "workflow", "name": "mod.fit_line"}' if method in ("POST", "PUT") else None
    code, _, answer = send(lab, method, f"/plait/api/{target}", body=body)
    assert code == 200, answer
    [seen] = upstream.requests
    assert (seen.method, seen.path, seen.query) == (method, path, query)
    assert seen.headers["authorization"] == f"Bearer {upstream.token}"
    assert lab.token not in json.dumps(seen.headers) + seen.path + seen.query
    assert "cookie" not in seen.headers


@pytest.mark.parametrize("target, query", [
    ("executions?evil=1&limit=5", "limit=5"),
    ("executions/abc?phase=RUNNING", ""),  # a list's parameter on an item route
    ("executions?limit=5&1796520827982", "limit=5"),  # JupyterLab's cache-busting timestamp
    ("executions/abc/nodes/n0/logs?offset=3&uri=executions%2Fx&project=a", "offset=3"),
])
def test_only_the_routes_own_query_parameters_are_passed_on(
    lab: LabProcess, upstream: Standin, target: str, query: str
) -> None:
    code, _, _ = send(lab, "GET", f"/plait/api/{target}")
    assert code == 200
    [seen] = upstream.requests
    assert seen.query == query


def test_jupyters_token_and_xsrf_never_reach_the_backend(lab: LabProcess, upstream: Standin) -> None:
    # authenticated by the URL's token alone
    code, _, _ = send(lab, "GET", f"/plait/api/executions?limit=5&token={lab.token}&_xsrf=abc", login=False)
    assert code == 200
    [seen] = upstream.requests
    assert seen.query == "limit=5"
    assert lab.token not in json.dumps(seen.headers)


def test_a_post_with_a_cookie_still_needs_jupyters_xsrf_token(lab: LabProcess, upstream: Standin) -> None:
    with httpx.Client(base_url=lab.base) as browser:
        browser.get(f"/lab?token={lab.token}")  # logs in: a session cookie and an _xsrf cookie
        assert browser.cookies.get("_xsrf")
        refused = browser.post("/plait/api/executions", json={})
        assert refused.status_code == 403
        assert upstream.requests == []
        accepted = browser.post("/plait/api/executions", json={},
                                headers={"X-XSRFToken": browser.cookies["_xsrf"]})
        assert accepted.status_code == 200, accepted.text
    assert [r.path for r in upstream.requests] == ["/api/v1/executions"]


def _panel_routes() -> set[str]:
    """`METHOD template` of every `request(...)` in the extension's sources."""
    plurals = ("tasks", "workflows", "launch_plans")
    found: set[str] = set()
    for source in SRC.rglob("*.ts*"):
        text = source.read_text()
        for method, route in re.findall(r"request\(\s*'(get|post|put)',\s*([^,)]+)", text):
            route = route.strip()
            if route == "PLURAL[kind]":
                found |= {f"{method.upper()} {p}" for p in plurals}
            elif route.startswith("`${plural}"):
                found |= {f"{method.upper()} {p}{route[len('`${plural}'):-1]}" for p in plurals}
            else:
                found.add(f"{method.upper()} {route.strip(chr(39))}")
    return found


def test_every_route_the_panels_call_is_forwarded() -> None:
    called = _panel_routes()
    assert len(called) >= 15, called  # the scan finds the calls
    assert called - {str(r) for r in ROUTES} == set()


def test_the_route_table_matches_the_backends_routes_and_parameters() -> None:
    from plait.backend.server import openapi_document

    paths = openapi_document()["paths"]
    for route in ROUTES:
        operation = paths.get("/api/v1/" + "/".join(route.template), {}).get(route.method.lower())
        assert operation is not None, f"{route} is not a route of the backend"
        takes = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert route.query == takes, f"{route}: the lab passes {sorted(route.query)}, the backend takes {sorted(takes)}"


def test_health_and_info_point_the_dashboard_link_at_the_labs_forward(lab: LabProcess, upstream: Standin) -> None:
    health = httpx.get(lab.url("plait/api/health"), headers=lab.auth).json()
    assert health["dask_dashboard"] == "/plait/api/dask/status"
    info = httpx.get(lab.url("plait/info"), headers=lab.auth).json()
    assert info["health"]["dask_dashboard"] == "/plait/api/dask/status"


# ---------------------------------------------------------------- the Dask dashboard


def test_a_dashboard_page_comes_through_with_the_backends_token(lab: LabProcess, upstream: Standin) -> None:
    code, headers, body = send(lab, "GET", f"/plait/api/dask/status?token={lab.token}", login=False)
    assert (code, body.decode()) == (200, DASHBOARD_PAGE)
    assert headers["content-type"].startswith("text/html")
    assert "x-upstream-only" not in headers
    [seen] = upstream.requests
    assert (seen.method, seen.path, seen.query) == ("GET", "/api/v1/dask/status", "")
    assert seen.headers["authorization"] == f"Bearer {upstream.token}"
    assert lab.token not in json.dumps(seen.headers)


def test_dashboard_resources_and_their_queries_come_through(lab: LabProcess, upstream: Standin) -> None:
    code, _, _ = send(lab, "GET", "/plait/api/dask/static/js/bokeh.min.js?v=6acf&_xsrf=x")
    assert code == 200
    assert [(r.path, r.query) for r in upstream.requests] == [("/api/v1/dask/static/js/bokeh.min.js", "v=6acf")]


def test_the_dashboard_needs_the_jupyter_login(lab: LabProcess, upstream: Standin) -> None:
    code, headers, _ = send(lab, "GET", "/plait/api/dask/status", login=False)
    assert code == 302 and headers["location"].startswith("/login?next=")
    code, _, _ = send(lab, "GET", "/plait/api/dask/status", headers={"Authorization": "token wrong"})
    assert code == 302
    assert upstream.requests == []


def test_a_dashboard_redirect_stays_under_the_labs_forward(lab: LabProcess, upstream: Standin) -> None:
    code, headers, _ = send(lab, "GET", "/plait/api/dask/")
    assert (code, headers["location"]) == (301, "/plait/api/dask/status")


def test_a_workers_page_is_reached_by_its_encoded_address(lab: LabProcess, upstream: Standin) -> None:
    code, _, _ = send(lab, "GET", "/plait/api/dask/info/worker/tls%3A%2F%2F127.0.0.1%3A40123.html")
    assert code == 200
    [seen] = upstream.requests  # the address's `/` stays encoded: one segment, as the dashboard names it
    assert seen.path == "/api/v1/dask/info/worker/tls%3A%2F%2F127.0.0.1%3A40123.html"


@pytest.mark.parametrize("path", ["..%2F..%2Fregister", "../../register", "%2E%2E/health", "status/..%5Cx",
                                  "status//x", "status%3Fx=1", "info%2F..%2F..%2Fhealth", "info/x%2F%2E%2E%2Fy"])
def test_dashboard_paths_cannot_leave_the_dashboard(lab: LabProcess, upstream: Standin, path: str) -> None:
    code, _, body = send(lab, "GET", f"/plait/api/dask/{path}")
    assert code == 400, body
    assert json.loads(body)["error"] == "bad_path"
    assert upstream.requests == []


def _ws(lab: LabProcess, path: str, headers: dict[str, str], messages: list[str | bytes],
        subprotocols: list[str] | None = None) -> dict[str, object]:
    """Open the lab's WebSocket at `path`, send `messages`, collect the answers and the close code."""

    async def talk() -> dict[str, object]:
        request = httpclient.HTTPRequest(lab.base.replace("http", "ws", 1) + path, headers=headers)
        conn = await websocket.websocket_connect(request, subprotocols=subprotocols)
        answers: list[str | bytes | None] = []
        for message in messages:
            await conn.write_message(message, binary=isinstance(message, bytes))
            answers.append(await asyncio.wait_for(conn.read_message(), 10))
        if answers and answers[-1] is None:
            await asyncio.sleep(0.1)
        result = {"subprotocol": conn.selected_subprotocol, "answers": answers, "close_code": conn.close_code}
        conn.close()
        return result

    return asyncio.run(talk())


def test_the_dashboards_websocket_is_relayed_with_the_backends_token(lab: LabProcess, upstream: Standin) -> None:
    got = _ws(lab, "/plait/api/dask/status/ws?bokeh-session-id=s1", lab.auth, ["hello", b"\x00\x01", "close"],
              subprotocols=["bokeh", "session-token.abc"])
    assert got == {"subprotocol": "bokeh", "answers": ["hello", b"\x00\x01", None], "close_code": 4001}
    [seen] = upstream.websockets
    assert (seen.path, seen.query) == ("/api/v1/dask/status/ws", "bokeh-session-id=s1")
    assert seen.headers["authorization"] == f"Bearer {upstream.token}"
    assert seen.headers["sec-websocket-protocol"] == "bokeh,session-token.abc"
    assert lab.token not in json.dumps(seen.headers)


def test_the_dashboards_websocket_needs_the_jupyter_login(lab: LabProcess, upstream: Standin) -> None:
    for headers in ({}, {"Authorization": "token wrong"}):
        with pytest.raises(httpclient.HTTPClientError, match="403"):
            _ws(lab, "/plait/api/dask/status/ws", headers, ["hello"])
    assert upstream.websockets == []


def test_a_cookie_websocket_from_another_origin_is_refused(lab: LabProcess, upstream: Standin) -> None:
    with httpx.Client(base_url=lab.base) as browser:
        browser.get(f"/lab?token={lab.token}")
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    host = urlsplit(lab.base).netloc
    with pytest.raises(httpclient.HTTPClientError, match="403"):
        _ws(lab, "/plait/api/dask/status/ws", {"Cookie": cookie, "Origin": "http://evil.example"}, ["x"])
    assert upstream.websockets == []
    got = _ws(lab, "/plait/api/dask/status/ws", {"Cookie": cookie, "Origin": f"http://{host}"}, ["same origin"])
    assert got["answers"] == ["same origin"]


def test_a_post_the_backend_received_is_not_sent_again_when_the_connection_drops(
    lab: LabProcess, upstream: Standin
) -> None:
    """A second try could relaunch or abort twice: only GETs, and posts never sent, are repeated."""
    code, _, answer = send(lab, "POST", "/plait/api/executions/hangup-abc/relaunch", body=b"{}")
    assert code == 502, answer
    assert [r.path for r in upstream.requests] == ["/api/v1/executions/hangup-abc/relaunch"]
    upstream.clear()
    code, _, _ = send(lab, "GET", "/plait/api/executions/hangup-abc")
    assert code == 502
    assert [r.path for r in upstream.requests] == ["/api/v1/executions/hangup-abc"] * 2


# ---------------------------------------------------------------- a workspace's code-server

WS_BASE = "/plait/workspaces/default/development/my-ws"


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_a_workspace_request_of_any_method_reaches_only_its_workspace_with_the_backends_token(
    lab: LabProcess, upstream: Standin, method: str
) -> None:
    body = b'{"edit": 1}' if method in ("POST", "PUT", "PATCH") else None
    code, headers, answer = send(
        lab, method, f"{WS_BASE}/static/@vscode/file.js?v=1&folder=%2Fhome&token={lab.token}&_xsrf=x",
        body=body, login=False, headers={"Cookie": "session=browser-secret", "Origin": lab.base})
    assert code == 200, answer
    [seen] = upstream.requests
    assert (seen.method, seen.path, seen.query) == (
        method, "/workspaces/default/development/my-ws/static/@vscode/file.js", "v=1&folder=%2Fhome")
    assert seen.headers["authorization"] == f"Bearer {upstream.token}"
    assert "cookie" not in seen.headers and "origin" not in seen.headers
    assert lab.token not in json.dumps(seen.headers) + seen.query
    assert "upstream=" not in headers.get("set-cookie", "")  # the backend's cookies stay with the backend
    if method != "HEAD":
        assert json.loads(answer)["body_length"] == len(body or b"")


def test_a_large_upload_to_a_workspace_arrives_whole_in_either_framing(lab: LabProcess, upstream: Standin) -> None:
    data = secrets.token_bytes(6 * 1024 * 1024)
    code, _, answer = send(lab, "PUT", f"{WS_BASE}/upload", body=data,
                           headers={"Content-Type": "application/octet-stream"})
    assert code == 200, answer
    assert json.loads(answer)["body_sha256"] == hashlib.sha256(data).hexdigest()
    parts = urlsplit(lab.base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:  # chunked: the browser did not say how long the body is
        conn.request("POST", f"{WS_BASE}/upload", body=iter([data[:1000], data[1000:]]),
                     headers={**lab.auth, "Content-Type": "application/octet-stream"}, encode_chunked=True)
        response = conn.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["body_sha256"] == hashlib.sha256(data).hexdigest()
    finally:
        conn.close()


def test_a_large_download_from_a_workspace_arrives_whole(lab: LabProcess, upstream: Standin) -> None:
    code, headers, body = send(lab, "GET", f"{WS_BASE}/files/download")
    assert (code, headers["content-type"]) == (200, "application/octet-stream")
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(b"".join(download_parts())).hexdigest()
    assert len(body) == 8 * 1024 * 1024


@pytest.mark.parametrize("path, status", [
    ("default/development/my-ws/..%2F..%2F..%2Fapi%2Fv1%2Fsecrets", 400),
    ("default/development/my-ws/../../../api/v1/secrets", 400),
    ("default/development/my-ws/%2E%2E/other", 400),
    ("default/development/%2E%2E/x", 400),
    ("default/development/my-ws/a%5C..%5Cb", 400),
    ("default/development/my-ws/a\\b", 400),
    ("default/development/my-ws//127.0.0.1:22/x", 400),
    ("default/development/my-ws/a%00b", 400),
    ("default/development/my-ws/%252E%252E", 400),
    ("default/development/my%20ws/", 400),
    ("default/dev.x/my-ws/", 400),
    ("default/development", 404),
])
def test_workspace_paths_cannot_leave_the_workspace(lab: LabProcess, upstream: Standin, path: str,
                                                     status: int) -> None:
    code, _, body = send(lab, "GET", f"/plait/workspaces/{path}")
    assert code == status, body
    assert json.loads(body)["error"] in ("bad_path", "not_found")
    assert upstream.requests == []


def test_a_workspace_needs_the_jupyter_login(lab: LabProcess, upstream: Standin) -> None:
    code, headers, _ = send(lab, "GET", f"{WS_BASE}/", login=False)
    assert code == 302 and headers["location"].startswith("/login?next=")
    code, _, _ = send(lab, "POST", f"{WS_BASE}/x", login=False, body=b"{}",
                      headers={"Authorization": "token wrong"})
    assert code == 403
    for ws_headers in ({}, {"Authorization": "token wrong"}):
        with pytest.raises(httpclient.HTTPClientError, match="403"):
            _ws(lab, f"{WS_BASE}/ws", ws_headers, ["hello"])
    assert upstream.requests == [] and upstream.websockets == []


def test_a_cookie_request_to_a_workspace_must_come_from_the_lab(lab: LabProcess, upstream: Standin) -> None:
    """code-server's pages send no XSRF token: the lab's origin stands for it, a foreign one is refused."""
    with httpx.Client(base_url=lab.base) as browser:
        browser.get(f"/lab?token={lab.token}")
        for origin in ({"Origin": "http://evil.example"}, {"Referer": "http://evil.example/page"}, {}):
            refused = browser.post(f"{WS_BASE}/x", content=b"{}", headers=origin)
            assert refused.status_code == 403, origin
        assert upstream.requests == []
        page = browser.get(f"{WS_BASE}/")
        assert page.status_code == 200  # reading needs only the login
        accepted = browser.post(f"{WS_BASE}/x", content=b"{}", headers={"Origin": lab.base})
        assert accepted.status_code == 200, accepted.text
    assert [r.method for r in upstream.requests] == ["GET", "POST"]


def test_a_workspace_redirect_stays_inside_the_labs_forward(lab: LabProcess, upstream: Standin) -> None:
    code, headers, _ = send(lab, "GET", f"{WS_BASE}/redirect-inside")
    assert (code, headers["location"]) == (302, f"{WS_BASE}/?folder=%2Fhome")
    code, headers, _ = send(lab, "GET", f"{WS_BASE}/redirect-outside")
    assert code == 302 and "location" not in headers
    upstream.clear()
    code, headers, _ = send(lab, "GET", f"{WS_BASE}?folder=%2Fhome")  # the workspace's folder, without its `/`
    assert (code, headers["location"]) == (302, f"{WS_BASE}/?folder=%2Fhome")
    assert upstream.requests == []


def test_a_workspaces_websocket_is_relayed_both_ways(lab: LabProcess, upstream: Standin) -> None:
    got = _ws(lab, f"{WS_BASE}/stable-abc/ws?reconnectionToken=r1&skipWebSocketFrames=false", lab.auth,
              ["hello", b"\x00\x01\xff", "close"], subprotocols=["bokeh", "other"])
    assert got == {"subprotocol": "bokeh", "answers": ["hello", b"\x00\x01\xff", None], "close_code": 4001}
    [seen] = upstream.websockets
    assert (seen.path, seen.query) == ("/workspaces/default/development/my-ws/stable-abc/ws",
                                       "reconnectionToken=r1&skipWebSocketFrames=false")
    assert seen.headers["authorization"] == f"Bearer {upstream.token}"
    assert seen.headers["sec-websocket-protocol"] == "bokeh,other"
    assert lab.token not in json.dumps(seen.headers) and "cookie" not in seen.headers


# ---------------------------------------------------------------- an app's web server

APP_BASE = "/plait/apps/default/development/echo"


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_an_app_request_reaches_only_its_app_with_the_backends_token(
    lab: LabProcess, upstream: Standin, method: str
) -> None:
    body = b'{"x": 1}' if method == "POST" else None
    code, _, answer = send(lab, method, f"{APP_BASE}/predict?k=1&token={lab.token}", body=body, login=False,
                           headers={"Cookie": "session=browser-secret", "Authorization": f"token {lab.token}"})
    assert code == 200, answer
    [seen] = upstream.requests
    assert (seen.method, seen.path, seen.query) == (method, "/apps/default/development/echo/predict", "k=1")
    assert seen.headers["authorization"] == f"Bearer {upstream.token}"
    assert "cookie" not in seen.headers and lab.token not in json.dumps(seen.headers)


@pytest.mark.parametrize("path, status", [
    ("default/development/echo/..%2F..%2F..%2Fapi%2Fv1%2Fsecrets", 400),
    ("default/development/echo/../../../api/v1/secrets", 400),
    ("default/development/%2E%2E/x", 400),
    ("default/development/echo//127.0.0.1:22/x", 400),
    ("default/development", 404),
])
def test_app_paths_cannot_leave_the_app(lab: LabProcess, upstream: Standin, path: str, status: int) -> None:
    code, _, body = send(lab, "GET", f"/plait/apps/{path}")
    assert code == status, body
    assert json.loads(body)["error"] in ("bad_path", "not_found")
    assert upstream.requests == []


def test_an_app_needs_the_jupyter_login_and_its_websocket_is_relayed(lab: LabProcess, upstream: Standin) -> None:
    code, headers, _ = send(lab, "GET", f"{APP_BASE}/", login=False)
    assert code == 302 and headers["location"].startswith("/login?next=")
    with pytest.raises(httpclient.HTTPClientError, match="403"):
        _ws(lab, f"{APP_BASE}/ws", {}, ["hello"])
    assert upstream.requests == [] and upstream.websockets == []
    got = _ws(lab, f"{APP_BASE}/ws?bokeh-autoload-element=x", lab.auth, ["hello", "close"], subprotocols=["bokeh"])
    assert got == {"subprotocol": "bokeh", "answers": ["hello", None], "close_code": 4001}
    [seen] = upstream.websockets
    assert (seen.path, seen.query) == ("/apps/default/development/echo/ws", "bokeh-autoload-element=x")
    assert seen.headers["authorization"] == f"Bearer {upstream.token}"
