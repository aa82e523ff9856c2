"""The `plait.lab` server extension in a real JupyterLab, against a real plait backend.

The browser reaches `/plait/api/...` with Jupyter's own login; the extension
adds the backend's token, which must never come back to the browser.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
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
