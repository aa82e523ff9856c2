"""Apps on a real backend: deploy, serve through the proxy, authenticate, crash, scale to zero.

One `plait server` (two API processes) serves the module; each test deploys its own apps from
tests/resources/serving/ and stops them. Replicas are real processes (uvicorn, Python's
http.server). The Panel app in a browser is tests/lab/test_browser_apps.py.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from server_fixture import ServerProcess, running_server  # noqa: E402

SERVING = Path(__file__).resolve().parents[1] / "resources" / "serving"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("apps") / "home", "--api-workers", "2") as srv:
        yield srv


@pytest.fixture(scope="module")
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"},
                      timeout=60) as client:
        yield client


def load(file: str, folder: Path = SERVING, name: str | None = None) -> Any:
    from plait.app import load_apps

    found = load_apps(folder / file)
    return found[0] if name is None else next(a for a in found if a.name == name)


def wait_status(api: httpx.Client, name: str, status: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = api.get(f"/api/v1/apps/{name}").json()
        if found["status"] == status:
            return found  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"{name} is {found['status']} ({found['reason']}), not {status}"
        time.sleep(0.1)


def test_a_model_trained_by_a_workflow_is_served_from_its_artifact(server: ServerProcess, api: httpx.Client) -> None:
    remote = server.remote()
    remote.register(str(SERVING / "train_wf.py"), version="v1")
    trained = remote.execute(remote.fetch_task("train_wf.fit_regressor"), inputs={}).wait(timeout=120)
    assert trained.phase == "SUCCEEDED", trained.error
    statuses: list[str] = []
    started = time.monotonic()
    info = remote.deploy_app(load("model_app.py"), on_status=lambda i: statuses.append(i.status))
    print(f"deploy to Started: {time.monotonic() - started:.2f} s")
    assert info.status == "Started" and statuses[0] == "Pending" and statuses[-1] == "Started"
    assert info.inputs["MODEL_FILE"]["artifact"]["name"] == "regressor"
    predicted = api.get(info.url + "predict", params={"x": 1.0, "y": 2.0})
    assert predicted.status_code == 200, predicted.text
    import joblib

    model_file = api.get(info.url + "model").json()["file"]
    assert "/inputs/regressor.joblib" in model_file  # downloaded next to the app, as asked
    expected = float(joblib.load(model_file).predict([[1.0, 2.0]])[0])
    assert predicted.json()["result"] == pytest.approx(expected)
    docs = api.get(info.url + "openapi.json").json()
    assert "/predict" in docs["paths"]
    again = remote.deploy_app(load("model_app.py"))
    assert again.action == "unchanged" and again.revision == info.revision
    remote.stop_app("regressor-api")
    stopped = wait_status(api, "regressor-api", "Stopped")
    assert stopped["desired_state"] == "Stopped" and stopped["replicas"] == []
    refused = api.get(info.url + "predict", params={"x": 1, "y": 2})
    assert refused.status_code == 503 and "plait start apps" in refused.json()["message"]


def test_a_public_app_checks_its_own_key_and_never_sees_the_servers_token(server: ServerProcess,
                                                                          api: httpx.Client) -> None:
    remote = server.remote()
    remote.create_secret("service_key", "k-123-secret")
    info = remote.deploy_app(load("keyed_app.py"))
    assert not info.requires_auth
    public = httpx.Client(base_url=server.url, timeout=30)
    assert public.get(info.url).status_code == 403  # plait lets it through; the app refuses
    assert public.get(info.url, headers={"Authorization": "Bearer wrong"}).status_code == 403
    ok = public.get(info.url, headers={"Authorization": "Bearer k-123-secret"})
    assert ok.status_code == 200 and ok.json() == {"message": "hello, key holder"}
    # The server's own token is not the app's business: it does not reach it.
    assert public.get(info.url, headers={"Authorization": f"Bearer {server.token}"}).status_code == 403
    # Public on its own prefix only: the API and other apps still need the token.
    assert public.get("/api/v1/apps").status_code == 401
    assert public.get("/apps/default/development/nope/").status_code == 401
    remote.stop_app("keyed-api")


async def _ws(url: str, headers: dict[str, str]) -> str:
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    try:
        conn = await websocket_connect(HTTPRequest(url, headers=headers, request_timeout=10))
    except HTTPClientError as exc:
        return f"refused {exc.code}"
    except Exception as exc:  # noqa: BLE001 - a closed stream is a refusal too
        return f"refused {type(exc).__name__}"
    conn.close()
    return "open"


def test_an_app_that_requires_auth_refuses_anonymous_requests_and_path_tricks(server: ServerProcess,
                                                                              api: httpx.Client) -> None:
    remote = server.remote()
    info = remote.deploy_app(load("panel_app.py"))
    assert info.requires_auth
    anonymous = httpx.Client(base_url=server.url, timeout=30)
    for method, path in [("GET", ""), ("GET", "panel_main"), ("POST", "panel_main"), ("HEAD", ""),
                         ("GET", "static/js/bokeh.min.js"), ("DELETE", "x")]:
        assert anonymous.request(method, info.url + path).status_code == 401, (method, path)
    ws_url = server.url.replace("http", "ws", 1) + info.url + "panel_main/ws"
    assert asyncio.run(_ws(ws_url, {})).startswith("refused")
    assert asyncio.run(_ws(ws_url, {"Authorization": "Bearer wrong-token"})).startswith("refused")
    assert anonymous.get(info.url, headers={"Authorization": "Bearer wrong-token"}).status_code == 401
    assert asyncio.run(_ws(ws_url, {"Authorization": f"Bearer {server.token}"})) == "open"
    link = api.post("/api/v1/apps/squares/session").json()
    browser = httpx.Client(base_url=server.url, timeout=30, follow_redirects=True)
    page = browser.get(link["url"])
    assert page.status_code == 200 and "<title>Squares</title>" in page.text
    assert 'src="static/js/bokeh.min.js' in page.text  # relative: it works below the prefix
    raw = httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {server.token}"})
    for trick in ["..%2f..%2fapi/v1/apps", "%2e%2e/x", "a//b", "a%5cb", "x%00", "http://127.0.0.1:22/",
                  "a%3fx=..%2f.."]:
        url = httpx.URL(server.url).copy_with(raw_path=(info.url + trick).encode())
        assert raw.get(url).status_code == 400, trick
    for name in ["..", "%2e%2e", "squares%2f..", "sq!"]:
        url = httpx.URL(server.url).copy_with(raw_path=f"/apps/default/development/{name}/".encode())
        assert raw.get(url).status_code in (400, 404), name
    for odd in ["@169.254.169.254/latest", "127.0.0.1:22/x", "%3f%2e%2e"]:  # paths of the app, never addresses
        url = httpx.URL(server.url).copy_with(raw_path=(info.url + odd).encode())
        assert raw.get(url).status_code == 404, odd  # Panel's own 404
    tricked = raw.get(info.url, headers={"Host": "169.254.169.254"}, follow_redirects=True)
    assert tricked.status_code == 200 and "<title>Squares</title>" in tricked.text
    remote.stop_app("squares")


def test_a_crash_looping_app_shows_why(server: ServerProcess, api: httpx.Client) -> None:
    from plait.remote.apps import AppFailed

    remote = server.remote()
    with pytest.raises(AppFailed) as failed:
        remote.deploy_app(load("crash_app.py"), timeout=60)
    assert "crash-looping" in str(failed.value)
    assert "cannot read settings.toml: no such file" in str(failed.value)
    found = api.get("/api/v1/apps/broken").json()
    assert found["status"] == "Failed" and "exited with code 3" in found["reason"]
    [replica] = found["replicas"]
    assert replica["phase"] in ("BACKOFF", "STARTING") and replica["restarts"] >= 3
    events = [e["message"] for e in api.get("/api/v1/apps/broken/events").json()["events"]]
    assert any("restarting in 2 s" in e for e in events) and any("restarting in 4 s" in e for e in events)
    remote.stop_app("broken")


def test_an_idle_app_scales_to_zero_and_the_next_request_waits_for_it(server: ServerProcess, api: httpx.Client,
                                                                      tmp_path: Path) -> None:
    site = tmp_path / "sleepy"
    shutil.copytree(SERVING, site, ignore=shutil.ignore_patterns("__pycache__"))
    remote = server.remote()
    info = remote.deploy_app(load("sleepy_app.py", site))
    assert "version one" in api.get(info.url).text
    zero = wait_status(api, "sleepy", "Scaled to zero", timeout=30)
    assert zero["replicas"] == [] and "the next request starts a replica" in zero["reason"]
    started = time.monotonic()
    woken = api.get(info.url)
    print(f"cold start to the first answer: {time.monotonic() - started:.2f} s")
    assert woken.status_code == 200 and "version one" in woken.text
    wait_status(api, "sleepy", "Started", timeout=10)

    (site / "site" / "index.html").write_text("<h1>version two</h1>\n")  # a changed include file
    updated = remote.deploy_app(load("sleepy_app.py", site))
    assert updated.action == "updated" and updated.revision == info.revision + 1
    assert "version two" in api.get(info.url).text
    events = [e["message"] for e in api.get("/api/v1/apps/sleepy/events").json()["events"]]
    assert any(f"updated to revision {updated.revision}" in e for e in events)
    remote.stop_app("sleepy")


def test_replicas_follow_the_load_between_min_and_max(server: ServerProcess, api: httpx.Client) -> None:
    remote = server.remote()
    info = remote.deploy_app(load("echo_app.py", name="echo-scaled"))
    assert len(info.replicas) == 1
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"},
                          timeout=30) as client:
            while not stop.is_set():
                client.get(info.url + "slow", params={"seconds": 0.5})

    threads = [threading.Thread(target=hammer) for _ in range(24)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 30
        while len([r for r in api.get("/api/v1/apps/echo-scaled").json()["replicas"] if r["phase"] == "READY"]) < 2:
            assert time.monotonic() < deadline, "a second replica did not start under load"
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    remote.stop_app("echo-scaled")


@pytest.mark.parametrize(("name", "field", "words"), [
    ("needs-gpu", "limits", "no GPU pool"),
    ("unknown-secret", "secrets", "plait create secret no_such_key"),
    ("no-version", "inputs", "no version of `never-made`"),
])
def test_a_deploy_the_server_cannot_run_is_refused_and_nothing_is_made(server: ServerProcess, api: httpx.Client,
                                                                      name: str, field: str, words: str) -> None:
    from plait.remote.errors import RemoteUserError

    with pytest.raises(RemoteUserError) as refused:
        server.remote().deploy_app(load("refused_apps.py", name=name))
    assert refused.value.status == 422 and refused.value.field == field
    assert words in str(refused.value)
    assert name not in [a["name"] for a in api.get("/api/v1/apps").json()["apps"]]
