"""One replica of an app: its folder, command line, environment, start and health check.

    folder = revision_folder(home, app, storage)    # the bundle's files and downloaded inputs
    argv = command(app.spec, python, port, prefix)   # uvicorn for framework_app, else args/command
    proc = start(argv, folder, env, log)             # its own session, output appended to its log
    problem = wait_ready(port, proc, timeout_s=60)   # None once it answers HTTP on its port

Every replica listens on its own loopback port, chosen by the server. The app
declares the port it would listen on in a container (`port=8080`): in `args`
and `command` that number (and `$PORT` or `{port}`) becomes the replica's port,
and `PORT` is set. The path prefix the proxy serves it under
(`/apps/<project>/<domain>/<name>`) is in `PLAIT_APP_PREFIX` (and `{prefix}`),
in each request's `X-Forwarded-Prefix`, and in uvicorn's `--root-path` for a
`framework_app`, so that the app can make links that work behind the proxy.
"""

from __future__ import annotations

import io
import os
import shlex
import socket
import subprocess
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

READY_TIMEOUT_S = 120.0


def app_root(home: Path, app_id: int) -> Path:
    return Path(home) / "apps" / str(app_id)


def prefix_of(project: str, domain: str, name: str) -> str:
    return f"/apps/{project}/{domain}/{name}"


def revision_folder(home: Path, app_id: int, revision: int) -> Path:
    return app_root(home, app_id) / f"rev-{revision}"


def unpack(bundle: bytes | None, folder: Path) -> None:
    """The app's files (its `include` and declaring file) into `folder`, made fresh."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if bundle:
        with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
            tar.extractall(folder, filter="data")


def _words(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    return [str(v) for v in value]


def command(spec: Mapping[str, Any], python: str, port: int, prefix: str) -> list[str]:
    """The replica's command line: uvicorn serving `framework_app`, else `command` + `args` with
    the declared port (and `$PORT`, `{port}`, `{prefix}`) replaced by this replica's."""
    declared = str(spec.get("port") or "")
    if spec.get("framework_app") and not spec.get("args") and not spec.get("command"):
        return [python, "-m", "uvicorn", str(spec["framework_app"]), "--host", "127.0.0.1", "--port", str(port),
                "--root-path", prefix, "--no-access-log", "--timeout-graceful-shutdown", "3"]
    argv = _words(spec.get("command")) + _words(spec.get("args"))
    out = []
    for word in argv:
        word = word.replace("{port}", str(port)).replace("$PORT", str(port)).replace("{prefix}", prefix)
        if declared and word == declared:
            word = str(port)
        elif declared and word.endswith(f"={declared}"):
            word = word[: -len(declared)] + str(port)
        elif declared and word.endswith(f":{declared}"):
            word = word[: -len(declared)] + str(port)
        out.append(word)
    return out


def start(argv: list[str], folder: Path, env: Mapping[str, str], log: Path, *,
          cpus: int | None = None) -> subprocess.Popen[bytes]:
    from plait.workspaces.process import _limit_cpus

    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(argv, cwd=folder, env=dict(env), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lambda: _limit_cpus(cpus))  # noqa: PLW1509


def answers(port: int, timeout_s: float = 1.0) -> bool:
    """Whether something answers HTTP on the port (any status: the app decides what `/` is)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            sock.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return sock.recv(12).startswith(b"HTTP/")
    except OSError:
        return False


def wait_ready(port: int, proc: subprocess.Popen[bytes], *, timeout_s: float = READY_TIMEOUT_S) -> str | None:
    deadline = time.monotonic() + timeout_s
    delay = 0.02
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited with code {proc.returncode} before it answered on its port"
        if answers(port, 0.5):
            return None
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)
    return f"did not answer HTTP on its port within {timeout_s:g} s"


def log_tail(path: Path, lines: int = 8) -> list[str]:
    from plait.workspaces.manager import log_tail as tail

    return tail(path, lines)


def environment(base: Mapping[str, str], *, home: Path, port: int, prefix: str, server_url: str, token: str,
                extra: Mapping[str, str]) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")
    env = {k: v for k, v in base.items() if k in keep}
    env.update({"HOME": str(home), "PORT": str(port), "PLAIT_APP_PORT": str(port), "PLAIT_APP_PREFIX": prefix,
                "PLAIT_ENDPOINT": server_url, "PLAIT_TOKEN": token, "PYTHONUNBUFFERED": "1"})
    env.update(extra)  # the environment's PATH, secrets, inputs and the app's env
    return env


def pythonpath(folder: Path, env: Mapping[str, str]) -> str:
    current = env.get("PYTHONPATH")
    return f"{folder}{os.pathsep}{current}" if current else str(folder)
