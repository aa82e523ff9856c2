"""Workspaces on a real backend with a real code-server: lifecycle, proxy, secrets, TTL, debug.

One `plait server` serves the module; each test makes its own workspaces (their
names say which test) and stops them. What a browser does (the workbench,
the terminal) is in tests/lab/test_browser_workspaces.py.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from server_fixture import ServerProcess, running_server  # noqa: E402

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "workspaces"
SECRET_VALUE = "s3cr3t-hunter2-value"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    from plait.workspaces.process import code_server_binary

    code_server_binary()  # fails with how to install it, rather than as a FAILED workspace
    with running_server(tmp_path_factory.mktemp("ws") / "home", "--api-workers", "2") as srv:
        yield srv


@pytest.fixture(scope="module")
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"},
                      timeout=60) as client:
        yield client


def wait_phase(api: httpx.Client, name: str, phases: tuple[str, ...], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = api.get(f"/api/v1/workspaces/{name}").json()
        if found["phase"] in phases:
            return found  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            log = api.get(f"/api/v1/workspaces/{name}/log").json()["lines"]
            raise AssertionError(f"{name} is {found['phase']}, not {phases}; log:\n" + "\n".join(log))
        time.sleep(0.1)


def create(api: httpx.Client, spec: dict[str, Any], start: bool = True) -> dict[str, Any]:
    answer = api.post("/api/v1/workspaces", json={"spec": spec, "start": start})
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def stop(api: httpx.Client, name: str) -> dict[str, Any]:
    assert api.post(f"/api/v1/workspaces/{name}/stop").status_code == 200
    return wait_phase(api, name, ("STOPPED",))


def code_server_pid(server: ServerProcess, workspace_folder: str) -> int:
    for proc in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if any(workspace_folder in part for part in proc.cmdline()) and "code-server" in " ".join(proc.cmdline()):
                return proc.pid
        except psutil.Error:
            continue
    raise AssertionError(f"no code-server process of {workspace_folder}")


def workdir(server: ServerProcess, name: str) -> Path:
    from plait.backend.store import Database
    from plait.backend.store.queries import workspaces as wq

    db = Database(f"sqlite:///{server.home / 'plait.db'}")
    try:
        with db.session(readonly=True) as s:
            record = wq.get_workspace(s, "default", "development", name)
    finally:
        db.dispose()
    return server.home / "workspaces" / str(record.id) / "home" / str(record.spec["working_dir"])


def test_create_start_open_and_stop_keeps_the_working_directory(server: ServerProcess, api: httpx.Client) -> None:
    started = time.monotonic()
    made = create(api, {"name": "lifecycle", "description": "first",
                        "on_startup": ["echo made-at-startup > boot.txt",
                                       "python -m plait get workspace --name lifecycle > seen-from-inside.txt"],
                        "resources": {"cpu": "1", "mem": "2Gi"}, "ttl_seconds": 600})
    assert made["phase"] == "STOPPED" and made["desired"] == "ACTIVE"
    active = wait_phase(api, "lifecycle", ("ACTIVE", "FAILED"))
    assert active["phase"] == "ACTIVE", active["reason"]
    print(f"create to ACTIVE: {time.monotonic() - started:.2f} s")
    assert active["url"] == "/workspaces/default/development/lifecycle/"
    page = api.get(active["url"], follow_redirects=True)
    assert page.status_code == 200 and "vscode-workbench-web-configuration" in page.text
    folder = workdir(server, "lifecycle")
    assert (folder / "boot.txt").read_text() == "made-at-startup\n"
    # plait inside talks to this backend without a login: it saw itself STARTING
    seen = (folder / "seen-from-inside.txt").read_text()
    assert "lifecycle" in seen and "STARTING" in seen
    log = api.get("/api/v1/workspaces/lifecycle/log").json()["lines"]
    assert any("on_startup 1: echo made-at-startup" in line for line in log)
    assert any("ACTIVE: code-server pid" in line for line in log)

    (folder / "notes").mkdir()
    (folder / "notes" / "idea.md").write_text("keep me\n")  # as the editor's terminal would
    stopped = stop(api, "lifecycle")
    assert stopped["reason"] == "stopped by request" and stopped["saved_at"]
    assert not folder.exists()  # the local copy goes; the object store keeps it
    assert api.post("/api/v1/workspaces/lifecycle/start").status_code == 200
    assert wait_phase(api, "lifecycle", ("ACTIVE", "FAILED"))["phase"] == "ACTIVE"
    assert (folder / "notes" / "idea.md").read_text() == "keep me\n"
    listed = api.get("/api/v1/workspaces", params={"active": "true"}).json()["workspaces"]
    assert "lifecycle" in [w["name"] for w in listed]
    stop(api, "lifecycle")
    assert "lifecycle" not in [w["name"] for w in api.get("/api/v1/workspaces", params={"active": "true"})
                               .json()["workspaces"]]


def test_bad_specs_are_refused_with_the_field_and_nothing_is_created(api: httpx.Client) -> None:
    cases = [
        ({"name": "bad-key", "resorces": {"cpu": "1"}}, "resorces", "resources"),
        ({"name": "bad-ttl", "ttl_seconds": "soon"}, "ttl_seconds", "ttl_seconds"),
        ({"name": "bad-secret", "secrets": [{"key": "no_such_secret"}]}, "secrets", "no_such_secret"),
        ({"name": "bad-gpu", "resources": {"gpu": "1"}}, "resources.gpu", "GPU pool"),
        ({"name": "bad-cpu", "resources": {"cpu": "512"}}, "resources.cpu", "cores"),
        ({"name": "bad-image", "container_image": "ghcr.io/acme/ws:1"}, "container_image", "ImageSpec"),
        ({"name": "bad-ttl-cap", "ttl_seconds": 10 * 86400}, "ttl_seconds", "cap"),
    ]
    for spec, field, words in cases:
        answer = api.post("/api/v1/workspaces", json={"spec": spec})
        assert answer.status_code == 422, (spec, answer.text)
        body = answer.json()
        assert field in (body.get("field") or "") + body["message"], body
        assert words in body["message"], body
    names = [w["name"] for w in api.get("/api/v1/workspaces", params={"archived": "false"}).json()["workspaces"]]
    assert not [n for n in names if n.startswith("bad-")]
    create(api, {"name": "twice"}, start=False)
    again = api.post("/api/v1/workspaces", json={"spec": {"name": "twice"}})
    assert again.status_code == 409 and "plait update workspace" in again.json()["message"]
    renamed = api.put("/api/v1/workspaces/twice", json={"spec": {"name": "other"}})
    assert renamed.status_code == 422 and "cannot change" in renamed.json()["message"]
    missing = api.get("/api/v1/workspaces/nope")
    assert missing.status_code == 404 and "`twice`" in missing.json()["message"]


def test_update_archive_and_unarchive(api: httpx.Client) -> None:
    create(api, {"name": "editable", "ttl_seconds": 600})
    wait_phase(api, "editable", ("ACTIVE",))
    updated = api.put("/api/v1/workspaces/editable", json={"spec": {"name": "editable", "description": "v2",
                                                                    "ttl_seconds": 900}}).json()
    assert updated["description"] == "v2" and updated["ttl_seconds"] == 900 and updated["restart_needed"]
    archived = api.post("/api/v1/workspaces/editable/archive").json()
    assert archived["archived"] and archived["desired"] == "STOPPED"
    wait_phase(api, "editable", ("STOPPED",))
    assert "editable" not in [w["name"] for w in api.get("/api/v1/workspaces").json()["workspaces"]]
    assert "editable" in [w["name"] for w in api.get("/api/v1/workspaces", params={"archived": "true"})
                          .json()["workspaces"]]
    refused = api.post("/api/v1/workspaces/editable/start")
    assert refused.status_code == 409 and "unarchive" in refused.json()["message"]
    assert not api.post("/api/v1/workspaces/editable/unarchive").json()["archived"]
    assert api.post("/api/v1/workspaces/editable/start").status_code == 200
    assert not wait_phase(api, "editable", ("ACTIVE",))["restart_needed"]
    stop(api, "editable")


async def _ws_handshake(url: str, headers: dict[str, str]) -> str:
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    try:
        conn = await websocket_connect(HTTPRequest(url, headers=headers, request_timeout=10))
    except HTTPClientError as exc:
        return f"refused {exc.code}"
    except Exception as exc:  # noqa: BLE001 - a closed stream is a refusal too
        return f"refused {type(exc).__name__}"
    message = await conn.read_message()
    conn.close()
    return "closed" if message is None else "open"


def test_the_proxy_needs_credentials_for_every_path_and_refuses_tricks(server: ServerProcess,
                                                                        api: httpx.Client) -> None:
    create(api, {"name": "guarded", "ttl_seconds": 600})
    create(api, {"name": "neighbour"}, start=False)
    wait_phase(api, "guarded", ("ACTIVE",))
    prefix = "/workspaces/default/development/guarded/"
    anonymous = httpx.Client(base_url=server.url, timeout=30)
    for method, path in [("GET", ""), ("GET", "?folder=/"), ("HEAD", ""), ("POST", "login"),
                         ("GET", "static/out/vs/code/browser/workbench/workbench.js"), ("GET", "healthz"),
                         ("PUT", "vscode-remote-resource?path=/etc/passwd"), ("DELETE", "x")]:
        answer = anonymous.request(method, prefix + path)
        assert answer.status_code == 401, (method, path, answer.status_code)
    forged = anonymous.get(prefix, headers={"Cookie": "plait-session=9999999999.00ff"})
    assert forged.status_code == 401
    bad_ticket = anonymous.get(prefix + "?ticket=9999999999.abcdef")
    assert bad_ticket.status_code == 401
    wrong_token = anonymous.get(prefix, headers={"Authorization": "Bearer not-the-token"})
    assert wrong_token.status_code == 401

    # A session link opens this workspace in a browser, and only this one.
    link = api.post("/api/v1/workspaces/guarded/session").json()
    browser = httpx.Client(base_url=server.url, timeout=30)
    first = browser.get(link["url"])
    assert first.status_code == 303 and "ticket" not in first.headers["location"]
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and f"Path={prefix}" in cookie
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    with_cookie = {"Cookie": f"plait-session={value}"}
    assert browser.get(prefix, follow_redirects=True).status_code == 200  # the cookie from its jar
    assert anonymous.get(prefix + "healthz", headers=with_cookie).status_code == 200
    other = anonymous.get("/workspaces/default/development/neighbour/", headers=with_cookie)
    assert other.status_code == 401
    reused = anonymous.get(link["url"].replace("guarded", "neighbour"))
    assert reused.status_code == 401  # a ticket is for its own workspace

    ws_base = server.url.replace("http", "ws", 1)
    ws_url = f"{ws_base}{prefix}?reconnectionToken=t1&reconnection=false&skipWebSocketFrames=false"
    assert asyncio.run(_ws_handshake(ws_url, {})).startswith("refused")
    assert asyncio.run(_ws_handshake(ws_url, {"Cookie": "plait-session=9999999999.00ff"})).startswith("refused")
    assert asyncio.run(_ws_handshake(ws_url, {"Authorization": f"Bearer {server.token}"})) in ("open", "closed")
    assert asyncio.run(_ws_handshake(ws_url, {"Cookie": f"plait-session={value}"})) in ("open", "closed")

    raw = httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {server.token}"})
    for trick in ["..%2f..%2fapi/v1/workspaces", "%2e%2e/%2e%2e/api/v1/health", "static//etc/passwd",
                  "a%5c..%5c..", "%00", "a/%2E%2E/b"]:
        url = httpx.URL(server.url + prefix).copy_with(raw_path=(prefix + trick).encode())
        answer = raw.get(url)
        assert answer.status_code == 400, (trick, answer.status_code, answer.text[:200])
    # Plain dot segments are resolved by the client before sending: still below /workspaces/.
    climbed = raw.get(server.url + prefix + "a/../../../api/v1/health")
    assert climbed.status_code == 404 and climbed.json()["error"] == "not_found"
    for name in ["..", "%2e%2e", "guarded%2f..", "g!"]:
        url = httpx.URL(server.url).copy_with(raw_path=f"/workspaces/default/development/{name}/".encode())
        assert raw.get(url).status_code in (400, 404)
    # Whatever Host or absolute URL the request names, it reaches this workspace's code-server only.
    tricked = raw.get(prefix + "healthz", headers={"Host": "169.254.169.254"})
    assert tricked.status_code == 200 and "status" in tricked.json()
    # An encoded `?`, an `@host` or a `host:port` in the path is a path of code-server, never an address.
    for odd in ["a%3fx=..%2f..", "@169.254.169.254/latest", "127.0.0.1:22/x", "%3f%2e%2e"]:
        url = httpx.URL(server.url).copy_with(raw_path=(prefix + odd).encode())
        odd_answer = raw.get(url)
        assert odd_answer.status_code in (400, 404), (odd, odd_answer.status_code)
        assert "ami-id" not in odd_answer.text and "SSH" not in odd_answer.text
    assert asyncio.run(_ws_handshake(ws_url, {"Authorization": "Bearer not-the-token"})).startswith("refused")
    absolute = raw.get(prefix + "http://169.254.169.254/latest/meta-data")
    assert absolute.status_code == 400 and "empty segment" in absolute.json()["message"]
    not_running = raw.get("/workspaces/default/development/neighbour/")
    assert not_running.status_code == 503 and "plait start workspace" in not_running.json()["message"]
    stop(api, "guarded")


def test_secrets_are_environment_variables_inside_and_nowhere_else(server: ServerProcess,
                                                                   api: httpx.Client) -> None:
    server.remote().create_secret("ws_token", SECRET_VALUE)
    create(api, {"name": "secretive", "secrets": [{"key": "ws_token", "env_var": "SERVICE_TOKEN"}],
                 "on_startup": "test -n \"$SERVICE_TOKEN\" && echo token-is-set", "ttl_seconds": 600})
    active = wait_phase(api, "secretive", ("ACTIVE", "FAILED"))
    assert active["phase"] == "ACTIVE", active["reason"]
    pid = code_server_pid(server, f"workspaces{Path('/')}")
    found = [p for p in psutil.Process(server.process.pid).children(recursive=True)
             if _environ(p).get("SERVICE_TOKEN") == SECRET_VALUE]
    assert found, f"no workspace process has SERVICE_TOKEN (code-server pid {pid})"
    log = api.get("/api/v1/workspaces/secretive/log").json()["lines"]
    assert "token-is-set" in log
    answers = [api.get("/api/v1/workspaces/secretive").text, api.get("/api/v1/workspaces").text,
               "\n".join(log)]
    stop(api, "secretive")
    on_disk = [(server.home / "plait.db").read_bytes(), server.log.read_bytes()]
    for path in (server.home / "workspaces").rglob("*.log"):
        on_disk.append(path.read_bytes())
    assert not [a for a in answers if SECRET_VALUE in a]
    assert not [d for d in on_disk if SECRET_VALUE.encode() in d]
    others = [p for p in psutil.Process(server.process.pid).children(recursive=True)
              if _environ(p).get("SERVICE_TOKEN")]
    assert not others, "only the workspace's processes see the secret"


def _environ(proc: psutil.Process) -> dict[str, str]:
    try:
        return proc.environ()
    except psutil.Error:
        return {}


def test_an_idle_workspace_stops_after_its_ttl_and_activity_keeps_it(server: ServerProcess,
                                                                     api: httpx.Client) -> None:
    create(api, {"name": "sleepy", "ttl_seconds": 3})
    create(api, {"name": "busy", "ttl_seconds": 8})
    wait_phase(api, "sleepy", ("ACTIVE",))
    wait_phase(api, "busy", ("ACTIVE",))
    prefix = "/workspaces/default/development/busy/healthz"
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:  # traffic through the proxy counts as activity
        assert api.get(prefix).status_code == 200
        time.sleep(1)
    assert api.get("/api/v1/workspaces/busy").json()["phase"] == "ACTIVE"
    slept = wait_phase(api, "sleepy", ("STOPPED",), timeout=30)
    assert "without activity" in slept["reason"] and "ttl_seconds 3" in slept["reason"]
    assert slept["desired"] == "STOPPED" and slept["saved_at"]
    stop(api, "busy")


def test_a_workspace_above_its_memory_limit_fails_with_the_reason(api: httpx.Client) -> None:
    create(api, {"name": "tight", "resources": {"cpu": "1", "mem": "40Mi"}, "ttl_seconds": 600})
    failed = wait_phase(api, "tight", ("FAILED",), timeout=60)
    assert "above its limit 40 MiB" in failed["reason"] and "resources.mem" in failed["reason"]


def test_a_debug_workspace_reproduces_a_failed_node(server: ServerProcess, api: httpx.Client) -> None:
    import subprocess

    remote = server.remote()
    remote.register(str(RESOURCES / "scoring.py"), version="v1")
    execution = remote.execute(remote.fetch_workflow("scoring.scoring_wf"),
                               inputs={"readings": {"a": 1.0, "b": 2.0}, "weights": [1.5, -1.5],
                                       "label": "q3"}).wait(timeout=120)
    assert execution.phase == "FAILED"
    ok_node = api.post(f"/api/v1/executions/{execution.id}/nodes/n0/debug", json={})
    assert ok_node.status_code == 422 and "SUCCEEDED" in ok_node.json()["message"]
    made = api.post(f"/api/v1/executions/{execution.id}/nodes/n1/debug", json={"name": "debug-scoring"})
    assert made.status_code == 201, made.text
    workspace = made.json()
    assert workspace["origin"]["execution_id"] == execution.id and workspace["origin"]["node_id"] == "n1"
    assert workspace["origin"]["task"] == "scoring.normalise"
    assert wait_phase(api, "debug-scoring", ("ACTIVE", "FAILED"))["phase"] == "ACTIVE"
    folder = workdir(server, "debug-scoring")
    assert (folder / "code" / "scoring.py").is_file()
    launch = (folder / ".vscode" / "launch.json").read_text()
    assert "debug_normalise.py" in launch and "debugpy" in launch
    run = subprocess.run([sys.executable, "debug_normalise.py"], cwd=folder, capture_output=True, text=True,
                         timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(folder)})
    assert run.returncode == 1
    assert "calling scoring.normalise with readings, total, label" in run.stdout
    assert "ZeroDivisionError: float division by zero" in run.stderr
    assert "scale = 1.0 / total" in run.stderr  # the task's own line, from the checked-out code
    again = api.post(f"/api/v1/executions/{execution.id}/nodes/n1/debug", json={"name": "debug-scoring"})
    assert again.status_code == 422 and "exists already" in again.json()["message"]
    stop(api, "debug-scoring")
