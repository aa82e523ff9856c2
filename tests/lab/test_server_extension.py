"""The `plait.lab` server extension in a real JupyterLab, against a real plait backend.

The browser reaches `/plait/api/...` with Jupyter's own login; the extension
adds the backend's token, which must never come back to the browser.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import tornado.httpclient
import tornado.websocket
from lab_fixture import LabProcess, free_port, running_lab
from server_fixture import ServerProcess

pytestmark = pytest.mark.slow


def jupyter(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "jupyter", *args], capture_output=True, text=True,
                          timeout=120)
    return done.stdout + done.stderr


def test_pip_install_enables_the_lab_and_server_extensions() -> None:
    labext = jupyter("labextension", "list")
    assert "plait-jupyterlab" in labext and "enabled" in labext.split("plait-jupyterlab")[1].splitlines()[0]
    server = jupyter("server", "extension", "list")
    assert "plait.lab" in server and "enabled" in server.split("plait.lab")[1].splitlines()[0]


def test_the_panels_api_needs_the_jupyter_login(lab: LabProcess) -> None:
    refused = httpx.get(lab.url("plait/api/health"))
    assert refused.status_code == 403
    assert httpx.get(lab.url("plait/api/health"), headers={"Authorization": "token wrong"}).status_code == 403


def test_calls_reach_the_backend_and_its_token_never_reaches_the_browser(
    lab: LabProcess, backend: ServerProcess, resource
) -> None:
    module = resource("workflows/regression.py")
    backend.remote().register(module.fit_line)
    listed = httpx.get(lab.url("plait/api/workflows"), headers=lab.auth)
    assert listed.status_code == 200, listed.text
    assert module.fit_line.name in [w["name"] for w in listed.json()["items"]]
    info = httpx.get(lab.url("plait/info"), headers=lab.auth)
    assert info.json()["ok"] is True and info.json()["endpoint"] == backend.url
    for response in (listed, info):
        assert backend.token not in response.text
        assert all(backend.token not in v for v in response.headers.values())


def test_launching_and_a_bad_input_through_the_lab(lab: LabProcess, backend: ServerProcess,
                                                   resource) -> None:
    module = resource("workflows/regression.py")
    backend.remote().register(module.fit_line)
    body = {"kind": "workflow", "name": module.fit_line.name,
            "inputs": {"x": [1, 2, 3], "y": "not a list"}}
    bad = httpx.post(lab.url("plait/api/executions"), headers=lab.auth, json=body)
    assert bad.status_code == 422
    assert "y" in json.dumps(bad.json())
    body["inputs"]["y"] = [2, 4, 6]
    created = httpx.post(lab.url("plait/api/executions"), headers=lab.auth, json=body)
    assert created.status_code == 201, created.text
    execution_id = created.json()["id"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        state = httpx.get(lab.url(f"plait/api/executions/{execution_id}"), headers=lab.auth).json()
        if state["phase"] in ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"):
            break
        time.sleep(0.3)
    assert state["phase"] == "SUCCEEDED", state


@pytest.mark.parametrize("method, path", [
    ("POST", "register"), ("GET", "bundles/abc"), ("POST", "workflows/x/versions"), ("GET", "../api/status"),
])
def test_routes_the_panels_do_not_use_are_refused(lab: LabProcess, method: str, path: str) -> None:
    response = httpx.request(method, lab.url(f"plait/api/{path}"), headers=lab.auth, json={})
    assert response.status_code == 404
    if path != "../api/status":
        assert "plait.Remote" in response.json()["message"]


def test_encoded_dot_segments_cannot_register_code_through_the_lab(lab: LabProcess, backend: ServerProcess,
                                                                  resource) -> None:
    """The issue's probe: `executions/..%2Fregister%3Fx=/abort` used to reach `POST /register`."""
    from plait.remote.bundle import collect

    module = resource("workflows/regression.py")
    remote = backend.remote()
    collected = collect([module.fit_line])
    remote.register_collected(collected)  # its bundle is on the backend: only a registration is missing
    payload = collected.payload("default", "development", "via-the-lab")
    probe = httpx.post(lab.url("plait/api/executions/..%2Fregister%3Fx=/abort"), headers=lab.auth,
                       json=payload)
    assert probe.status_code == 400, probe.text
    assert probe.json()["error"] == "bad_path"
    versions = [v.version for v in remote.list_versions("workflow", module.fit_line.name)]
    assert "via-the-lab" not in versions


def test_every_kind_of_call_the_panels_make_still_works_through_the_lab(
    lab: LabProcess, backend: ServerProcess, resource
) -> None:
    module = resource("workflows/regression.py")
    backend.remote().register(module.fit_line)
    run = backend.remote().execute(module.fit_line, {"x": [1, 2], "y": [2, 4]}, wait=True)
    name = module.fit_line.name
    node = httpx.get(lab.url(f"plait/api/executions/{run.id}/nodes"), headers=lab.auth).json()
    path = node["nodes"][0]["path"]
    for target in ("health", "projects", "workflows?limit=5&name_contains=fit", f"workflows/{name}",
                   f"workflows/{name}/versions?limit=5", f"workflows/{name}/dag", "tasks?limit=5",
                   "launch_plans?limit=5", "executions?limit=5&phase=SUCCEEDED", f"executions/{run.id}",
                   f"executions/{run.id}/nodes/{path}/logs?offset=0"):
        answer = httpx.get(lab.url(f"plait/api/{target}"), headers=lab.auth)
        assert answer.status_code == 200, (target, answer.text)
    relaunched = httpx.post(lab.url(f"plait/api/executions/{run.id}/relaunch"), headers=lab.auth)
    assert relaunched.status_code == 201, relaunched.text
    aborted = httpx.post(lab.url(f"plait/api/executions/{relaunched.json()['id']}/abort"), headers=lab.auth)
    assert aborted.status_code in (202, 409), aborted.text  # 409: it ended before the abort


def test_the_dask_dashboard_opens_through_the_lab_and_only_with_its_login(
    lab: LabProcess, backend: ServerProcess
) -> None:
    link = httpx.get(lab.url("plait/api/health"), headers=lab.auth).json()["dask_dashboard"]
    assert link == "/plait/api/dask/status"
    page = httpx.get(lab.url(link), headers=lab.auth, timeout=60)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html") and "bokeh" in page.text
    assert backend.token not in page.text and all(backend.token not in v for v in page.headers.values())
    script = re.search(r'src="(static/js/bokeh[^"]*)"', page.text)
    assert script, page.text[:2000]
    resource = httpx.get(lab.url(f"plait/api/dask/{script.group(1)}"), headers=lab.auth, timeout=60)
    assert resource.status_code == 200 and "javascript" in resource.headers["content-type"]
    refused = httpx.get(lab.url(link))  # no Jupyter login: the login page, not the dashboard
    assert refused.status_code == 302 and refused.headers["location"].startswith("/login")
    assert httpx.get(lab.url(link), headers={"Authorization": "token wrong"}).status_code == 302

    session = re.search(r'"token":"([^"]+)"', page.text)
    assert session, "the dashboard page names no bokeh session"

    async def first_message(headers: dict[str, str]) -> str:
        request = tornado.httpclient.HTTPRequest(lab.base.replace("http", "ws", 1) + link + "/ws",
                                                 headers=headers)
        conn = await tornado.websocket.websocket_connect(request, subprotocols=["bokeh", session.group(1)])
        try:
            assert conn.selected_subprotocol == "bokeh"
            return str(await asyncio.wait_for(conn.read_message(), 30))
        finally:
            conn.close()

    assert '"msgtype": "ACK"' in asyncio.run(first_message(lab.auth))  # bokeh's session, relayed both ways
    with pytest.raises(tornado.httpclient.HTTPClientError, match="403"):
        asyncio.run(first_message({}))


def test_an_unreachable_backend_is_a_502_that_says_what_to_do(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    with running_lab(tmp_path / "lab", plait_home=tmp_path / "home",
                     env={"PLAIT_ENDPOINT": closed, "PLAIT_TOKEN": "t"}) as lab:
        response = httpx.get(lab.url("plait/api/workflows"), headers=lab.auth)
    assert response.status_code == 502
    assert "plait server" in response.json()["message"]


def test_with_no_backend_configured_the_first_call_starts_an_embedded_one(tmp_path: Path) -> None:
    home = tmp_path / "home"
    try:
        with running_lab(tmp_path / "lab", plait_home=home) as lab:
            response = httpx.get(lab.url("plait/api/workflows"), headers=lab.auth, timeout=120)
            assert response.status_code == 200, response.text
            assert response.json()["items"] == []
        started = json.loads((home / "server.json").read_text())
        assert (home / "token").stat().st_mode & 0o777 == 0o600
    finally:
        _stop_embedded(home)
    assert started["url"].startswith("http://127.0.0.1:")


def _stop_embedded(home: Path) -> None:
    """The embedded backend outlives the lab on purpose (others may use it): stop it here."""
    try:
        pid = int(json.loads((home / "server.json").read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)
