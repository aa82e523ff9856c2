"""Another local user must not become the plait user (issue 10).

One `plait server` for the module, started as a careless user would: umask
0o022, an existing home open to others (0755) holding a token file 0644, and
values in its environment that tasks must not see. Then, as this user and as
another unprivileged one (`other_user`, uid 65534), the tests try what a second
account on a shared machine tried: the Dask scheduler, the dashboard, the
bundle folder, the state files and the executor's control port.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from other_user import OtherUser, other_user  # noqa: F401 - the fixture
from plait.backend.config import dask_security
from plait.backend.execution.proxy import sign_poke
from plait.remote import Remote
from plait.remote.bundle import collect
from server_fixture import ServerProcess, running_server

PROGRAMS = Path(__file__).parent.parent / "resources" / "security" / "programs.py"
TOKEN = "a-token-written-0644-before-the-first-start"
SERVER_ENV = {"PLAIT_TEST_SERVER_ONLY": "server-only", "PLAIT_SECRET_DB_PASSWORD": "hunter2"}
PLANTED = """\
import pathlib
pathlib.Path({marker!r}).write_text("the planted module ran as uid %d" % __import__("os").getuid())
import plait

@plait.task
def whoami() -> str:
    return "planted"
"""


@dataclass
class Served:
    server: ServerProcess
    remote: Remote
    planted: Path  # where the old worker code looked for this registration's bundle
    marker: Path  # what the planted module writes if it is ever imported
    registered: Any  # the registration (its entities run locally too)

    @property
    def home(self) -> Path:
        return self.server.home

    def info(self) -> dict[str, Any]:
        return dict(json.loads((self.home / "executor.json").read_text()))


def _plant(folder: Path, source: str, other: OtherUser | None) -> None:
    """Put `programs.py` in `folder` as the other user would (as this one where there is none)."""
    if other is None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "programs.py").write_text(source)
        return
    if folder.parent.exists():  # made by an earlier run: the other user gets its own folder in it
        folder.mkdir(exist_ok=True)
        os.chown(folder, other.uid, other.uid)
    assert other.run(
        f"import json, os\nos.makedirs({str(folder)!r}, exist_ok=True)\n"
        f"open(os.path.join({str(folder)!r}, 'programs.py'), 'w').write({source!r})\n"
        "print(json.dumps('planted'))") == "planted"


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    from other_user import unavailable

    other = None if unavailable() else OtherUser()
    # Not under pytest's base folder, which is 0700: here only the home's own mode protects it.
    base = Path(tempfile.mkdtemp(prefix="plait-local-users-"))
    os.chmod(base, 0o755)
    home = base / "home"
    home.mkdir()
    os.chmod(home, 0o755)
    (home / "token").write_text(TOKEN + "\n")
    os.chmod(home / "token", 0o644)
    registration = collect([str(PROGRAMS)])
    # Where the worker used to extract bundles, trusting whatever was already there.
    old_root = Path(tempfile.gettempdir()) / f"plait-bundles-{os.getuid()}"
    old_root_existed = old_root.exists()
    planted = old_root / str(registration.digest)
    shutil.rmtree(planted, ignore_errors=True)
    shared = Path(tempfile.mkdtemp(prefix="plait-shared-"))
    os.chmod(shared, 0o1777)  # a folder every local user may write to
    marker = shared / "planted-module-ran"
    _plant(planted, PLANTED.format(marker=str(marker)), other)
    previous = os.umask(0o022)
    try:
        with running_server(home, env=SERVER_ENV, private_home=False) as server:
            os.umask(previous)
            with server.remote() as remote:
                remote.register_collected(registration)
                yield Served(server, remote, planted, marker, registration)
    finally:
        os.umask(previous)
        shutil.rmtree(old_root if not old_root_existed else planted, ignore_errors=True)
        shutil.rmtree(shared, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


def _run(served: Served, name: str, inputs: dict[str, Any] | None = None, **settings: Any) -> Any:
    run = served.remote.execute(served.remote.fetch_task(f"programs.{name}"), inputs or {}, **settings)
    run.wait(timeout=120)
    assert run.phase == "SUCCEEDED", (run.phase, run.error, served.server.log_tail())
    return run.outputs["o0"]


def _wait_for(predicate: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# ------------------------------------------------------------------ private state


def test_an_open_home_is_narrowed_at_start_with_a_warning(served: Served) -> None:
    log = served.server.log.read_text()
    home = served.home
    assert (f"plait server: warning: the folder {home} is open to group or others (mode 0755); plait's "
            "state (token, database, Dask certificates, logs) must be private to its user: narrowed it "
            f"to 0700, as `chmod go-rwx {home}` would") in log
    assert f"the file {home / 'token'} is open to group or others (mode 0644)" in log
    assert f"narrowed it to 0600, as `chmod go-rwx {home / 'token'}` would" in log
    assert (mode(home), mode(home / "token")) == (0o700, 0o600)


def test_state_files_are_private_whatever_the_umask(served: Served) -> None:
    _run(served, "whoami")
    _run(served, "environment", {"names": ["PATH"]})
    found = {}
    for folder, dirs, files in os.walk(served.home):
        for name in dirs + files:
            path = Path(folder) / name
            if not path.is_symlink():
                found[str(path.relative_to(served.home))] = mode(path)
    assert {"plait.db", "token", "executor.json", "server.json", "server.log", "tls/dask-key.pem",
            "data/bundles"} <= set(found)
    assert any(p.startswith("data/executions/") for p in found)
    open_ = {p: f"{m:04o}" for p, m in found.items() if m & 0o077}
    assert not open_, f"readable by group or others: {open_}"


def test_another_user_cannot_read_the_state_files(served: Served, other_user: OtherUser) -> None:  # noqa: F811
    source = Path(_run(served, "whoami"))  # the module as a worker extracted it
    home = served.home
    targets = [home / "plait.db", home / "server.log", home / "token", home / "executor.json",
               home / "server.json", home / "tls" / "dask-key.pem", home / "data", home / "tls", source,
               source.parent]
    found = other_user.run(
        "import json, os\nfound = {}\n"
        f"for path in {[str(t) for t in targets]!r}:\n"
        "    try:\n"
        "        os.listdir(path) if os.path.isdir(path) else open(path, 'rb').read()\n"
        "        found[path] = 'read'\n"
        "    except OSError as exc:\n"
        "        found[path] = type(exc).__name__\n"
        "print(json.dumps(found))")
    assert found == {str(t): "PermissionError" for t in targets}


# ------------------------------------------------------------------ bundles


def test_a_module_planted_in_the_old_bundle_folder_is_never_imported(served: Served) -> None:
    assert (served.planted / "programs.py").exists()  # planted before the first run
    source = Path(_run(served, "whoami"))
    assert source.name == "programs.py" and source.parent.name == served.planted.name
    assert source.parent != served.planted
    assert not served.marker.exists(), served.marker.read_text()
    private = source.parent.parent  # the worker's own folder, made by mkdtemp
    assert mode(private) == 0o700 and private.stat().st_uid == os.getuid()


# ------------------------------------------------------------------ the Dask scheduler


DIAL = """
import asyncio
from distributed.comm import connect

async def _dial(address, security):
    # A comm to the scheduler and one request on it, as any Dask client starts.
    args = security.get_connection_args("client") if security is not None else {}
    comm = await connect(address, timeout=3, **args)
    try:
        await comm.write({"op": "identity", "reply": True})
        answer = await comm.read()
    finally:
        await comm.close()
    if not isinstance(answer, dict) or "type" not in answer:
        raise ConnectionError(f"no answer from the scheduler: {answer!r}")
    return answer["type"]

def dial(address, security=None):
    return asyncio.run(asyncio.wait_for(_dial(address, security), 10))
"""
_dial: dict[str, Any] = {}
exec(DIAL, _dial)  # the same code runs as the other user below


def test_the_scheduler_needs_a_certificate_of_the_homes_ca(served: Served) -> None:
    from distributed.security import Security

    dial = _dial["dial"]
    address = served.info()["scheduler"]
    assert address.startswith("tls://127.0.0.1:")
    with pytest.raises(TypeError, match="TLS expects a `ssl_context` argument"):
        dial(address)
    with pytest.raises((OSError, TimeoutError)):
        dial(address, Security.temporary())  # a certificate of another CA
    with pytest.raises((OSError, TimeoutError)):
        dial(address.replace("tls://", "tcp://"))
    assert dial(address, dask_security(served.home)) == "Scheduler"


SCHEDULER_PROBE = DIAL + """
import json, os
import httpx
from distributed.security import Security
found = {}
def attempt(name, action):
    try:
        action()
        found[name] = "ok"
    except BaseException as exc:
        found[name] = type(exc).__name__
attempt("read executor.json", lambda: open(INFO).read())
attempt("read the certificate's key", lambda: open(KEY).read())
attempt("health without the token", lambda: httpx.get(URL + "/api/v1/health").raise_for_status())
attempt("connect", lambda: dial(ADDRESS))
attempt("connect over tcp", lambda: dial(ADDRESS.replace("tls://", "tcp://")))
attempt("connect with another CA", lambda: dial(ADDRESS, Security.temporary()))
print(json.dumps(found), flush=True)
os._exit(0)
"""


def test_another_user_cannot_reach_the_scheduler(served: Served, other_user: OtherUser) -> None:  # noqa: F811
    values = {"INFO": str(served.home / "executor.json"), "KEY": str(served.home / "tls" / "dask-key.pem"),
              "URL": served.server.url, "ADDRESS": served.info()["scheduler"]}
    found = other_user.run("".join(f"{k} = {v!r}\n" for k, v in values.items()) + SCHEDULER_PROBE)
    assert found["read executor.json"] == found["read the certificate's key"] == "PermissionError"
    assert found["health without the token"] == "HTTPStatusError"  # 401
    assert found["connect"] == "TypeError"  # no certificate to show
    assert found["connect over tcp"] != "ok" and found["connect with another CA"] != "ok", found


# ------------------------------------------------------------------ the dashboard


def _auth(served: Served) -> dict[str, str]:
    return {"Authorization": f"Bearer {served.server.token}"}


def test_the_dashboard_is_served_through_the_authenticating_proxy(served: Served) -> None:
    url = served.server.url
    health = served.remote.health()
    assert health["dask_dashboard"] == "/api/v1/dask/status"
    assert httpx.get(f"{url}/api/v1/dask/status").status_code == 401
    page = httpx.get(f"{url}/api/v1/dask/status", headers=_auth(served))
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    # What the page loads is named relative to it: it works under any prefix.
    scripts = re.findall(r'src="(static/js/bokeh[^"]*)"', page.text)
    assert scripts
    assert httpx.get(f"{url}/api/v1/dask/{scripts[0]}", headers=_auth(served)).status_code == 200
    redirect = httpx.get(f"{url}/api/v1/dask/", headers=_auth(served))
    assert redirect.status_code in (301, 302) and redirect.headers["location"] == "status"
    session = re.search(r'"token":"([^"]+)"', page.text)
    assert session is not None
    ack, reply = _bokeh_session(url, served.server.token, session.group(1))
    assert ack["msgtype"] == "ACK" and reply["msgtype"] == "PULL-DOC-REPLY"
    with pytest.raises(Exception, match="403"):  # the websocket needs the token too
        _bokeh_session(url, "wrong", session.group(1))


def _bokeh_session(url: str, token: str, session: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Open the status page's websocket as bokeh does; its first message and the answer to a
    document request (frames go both ways through the proxy)."""
    import asyncio

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    async def talk() -> tuple[dict[str, Any], dict[str, Any]]:
        request = HTTPRequest(url.replace("http://", "ws://") + "/api/v1/dask/status/ws",
                              headers={"Authorization": f"Bearer {token}"})
        conn = await websocket_connect(request, subprotocols=["bokeh", session])
        try:
            assert conn.selected_subprotocol == "bokeh"
            ack = json.loads(await asyncio.wait_for(conn.read_message(), 10))  # type: ignore[arg-type]
            for _ in range(2):  # the ACK's metadata and content
                await asyncio.wait_for(conn.read_message(), 10)
            for frame in ({"msgid": "m1", "msgtype": "PULL-DOC-REQ"}, {}, {}):
                await conn.write_message(json.dumps(frame))
            while True:
                message = json.loads(await asyncio.wait_for(conn.read_message(), 10))  # type: ignore[arg-type]
                if "msgtype" in message and message.get("reqid") == "m1":
                    return ack, message
        finally:
            conn.close()

    return asyncio.run(talk())


@pytest.mark.parametrize("path", [
    "%2e%2e/%2e%2e/api/v1/health",  # encoded `..`
    "..%2F..%2Fapi/v1/health",  # `..` with encoded separators
    "info/%2e%2e%2f%2e%2e%2fhealth",
    "/127.0.0.1:1/status",  # an empty segment, as in `//host:port`
    "http://example.com/status",  # an absolute URL
    "%5C..%5Cstatus",  # backslashes
    "status%00",  # a control character
])
def test_the_dashboard_proxy_refuses_paths_that_could_leave_the_dashboard(served: Served, path: str) -> None:
    answer = httpx.get(f"{served.server.url}/api/v1/dask/{path}", headers=_auth(served))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "bad_request"


def test_the_raw_dashboard_listens_on_loopback_only(served: Served) -> None:
    upstream = served.info()["dashboard_upstream"]
    host, port = re.fullmatch(r"https://([\d.]+):(\d+)", upstream).groups()  # type: ignore[union-attr]
    assert host == "127.0.0.1"
    listening = [c.laddr for c in psutil.net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == int(port)]
    assert listening and {a.ip for a in listening} == {"127.0.0.1"}
    others = [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
              if a.family == socket.AF_INET and not a.address.startswith("127.")]
    for address in others:
        with pytest.raises(ConnectionRefusedError), socket.create_connection((address, int(port)), timeout=3):
            pass


DASHBOARD_PROBE = """
import json, socket, ssl
found = {{}}
def get(port, tls):
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        raw = context.wrap_socket(raw)
    raw.sendall(b"GET /status HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n")
    data = raw.recv(64)
    if not data.startswith(b"HTTP/"):
        raise ConnectionError("no HTTP answer: %r" % data)
    return data
for name, tls in (("https", True), ("http", False)):
    try:
        get({port}, tls)
        found[name] = "read the dashboard"
    except Exception as exc:
        found[name] = type(exc).__name__
print(json.dumps(found))
"""


def test_another_user_cannot_open_the_dashboard_port(served: Served, other_user: OtherUser) -> None:  # noqa: F811
    port = int(served.info()["dashboard_upstream"].rsplit(":", 1)[1])
    found = other_user.run(DASHBOARD_PROBE.format(port=port))
    assert found["https"].startswith("SSL"), found  # TLS asks for a certificate the user does not have
    assert found["http"] in ("ConnectionError", "ConnectionResetError"), found


# ------------------------------------------------------------------ the control port


def test_forged_pokes_do_not_abort_a_running_execution(served: Served, other_user_or_none: OtherUser | None) -> None:
    remote, info = served.remote, served.info()
    run = remote.execute(remote.fetch_task("programs.slow"), {"seconds": 3.0})
    _wait_for(lambda: any(n.phase == "RUNNING" for n in run.nodes()))
    port = int(info["poke_port"])
    forged = [f"abort {run.id}".encode(), b"0" * 64 + f" abort {run.id}".encode(),
              sign_poke(b"not the key", "abort", run.id),
              # signed with the executor's key: still no abort, the database has no request
              sign_poke(bytes.fromhex(info["poke_key"]), "abort", run.id)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for datagram in forged:
            sock.sendto(datagram, ("127.0.0.1", port))
    if other_user_or_none is not None:
        sent = other_user_or_none.run(
            "import json, socket\nsock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"for datagram in {forged[:3]!r}:\n    sock.sendto(datagram, ('127.0.0.1', {port}))\n"
            "print(json.dumps('sent'))")
        assert sent == "sent"
    run.wait(timeout=60)
    assert run.phase == "SUCCEEDED" and run.outputs == {"o0": 3.0}


def test_an_abort_through_the_api_still_reaches_the_executor(served: Served) -> None:
    remote = served.remote
    run = remote.execute(remote.fetch_task("programs.slow"), {"seconds": 60.0})
    _wait_for(lambda: any(n.phase == "RUNNING" for n in run.nodes()))
    started = time.monotonic()
    remote.abort(run.id)
    run.wait(timeout=30)
    assert run.phase == "ABORTED" and time.monotonic() - started < 15


@pytest.fixture
def other_user_or_none() -> OtherUser | None:
    from other_user import unavailable

    reason = unavailable()
    if reason is not None:
        print(f"(the forged pokes are sent by this user only: {reason})")
        return None
    return OtherUser()


# ------------------------------------------------------------------ the environment of tasks

NAMES = ["PLAIT_TEST_SERVER_ONLY", "PLAIT_SECRET_DB_PASSWORD", "PLAIT_HOME", "PLAIT_DATABASE_URL",
         "PLAIT_STORAGE_URL", "FROM_LAUNCH", "FROM_SPEC", "PATH"]


def test_tasks_see_only_their_spec_their_launch_and_their_secrets(served: Served) -> None:
    seen = _run(served, "environment", {"names": NAMES}, envs={"FROM_LAUNCH": "launch"})
    assert {k: v for k, v in seen.items() if k != "PATH"} == {
        "PLAIT_TEST_SERVER_ONLY": "<unset>", "PLAIT_SECRET_DB_PASSWORD": "<unset>", "PLAIT_HOME": "<unset>",
        "PLAIT_DATABASE_URL": "<unset>", "PLAIT_STORAGE_URL": "<unset>", "FROM_LAUNCH": "launch",
        "FROM_SPEC": "<unset>"}
    assert seen["PATH"] != "<unset>"  # what a process needs stays
    declared = _run(served, "declared", {"names": NAMES})
    assert declared["FROM_SPEC"] == "spec" and declared["PLAIT_TEST_SERVER_ONLY"] == "<unset>"
    # requested and in the secret store: given (the server's own PLAIT_SECRET_* variable is not)
    served.remote.create_secret("db/password", "from-the-store", overwrite=True)
    assert _run(served, "with_secret") == "from-the-store"


def test_a_local_run_keeps_the_users_environment(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_TEST_SERVER_ONLY", "here")
    task = served.registered.entities[("task", "programs.environment")]
    assert task(names=["PLAIT_TEST_SERVER_ONLY"]) == {"PLAIT_TEST_SERVER_ONLY": "here"}
