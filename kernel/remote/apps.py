"""`plait.Remote`'s app calls: deploy an `App`, see it, start and stop it.

    remote = plait.Remote()
    info = remote.deploy_app(app)            # uploads its files, then waits for Started
    info.url                                 # /apps/<project>/<domain>/<name>/
    remote.stop_app("my-app")

`deploy_app` packs the app's files (its `include` and, for a `framework_app`,
the file that declares it) into a reproducible archive, uploads it as a code
bundle and asks the server to deploy the spec. A deploy of what already runs
changes nothing (`action == "unchanged"`).
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import UserError
from .discovery import API

READY = ("Started",)
ENDED = ("Failed", "Stopped")


class AppFailed(UserError):
    """An app did not start: its status says why, its events say what happened."""


@dataclass(frozen=True)
class AppInfo:
    """An app as the server describes it."""

    name: str
    project: str
    domain: str
    status: str
    desired_state: str
    reason: str | None
    revision: int
    url: str
    requires_auth: bool
    replicas: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)
    action: str | None = None

    @classmethod
    def from_answer(cls, data: dict[str, Any], action: str | None = None) -> AppInfo:
        return cls(name=data["name"], project=data["project"], domain=data["domain"], status=data["status"],
                   desired_state=data["desired_state"], reason=data.get("reason"), revision=int(data["revision"]),
                   url=data["url"], requires_auth=bool(data["requires_auth"]), replicas=list(data.get("replicas") or []),
                   resources=dict(data.get("resources") or {}), inputs=dict(data.get("inputs") or {}),
                   spec=dict(data.get("spec") or {}), action=action)


def app_files(app: Any) -> dict[str, Path]:
    """Archive path -> file for everything the app's working directory holds."""
    base = app.declared_in.parent if app.declared_in is not None else Path.cwd()
    out: dict[str, Path] = {}
    for entry in app.files():
        path = base / entry["path"]
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
                out[file.relative_to(base).as_posix()] = file
        else:
            out[entry["path"]] = path
    return out


def pack(files: dict[str, Path]) -> bytes:
    """A gzipped tar of `files`, the same bytes for the same contents (no times, owners or modes
    but the executable bit), so that an unchanged deploy uploads an unchanged bundle."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name in sorted(files):
            data = files[name].read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.uid, info.gid = len(data), 0, 0, 0
            info.mode = 0o755 if files[name].stat().st_mode & 0o111 else 0o644
            tar.addfile(info, io.BytesIO(data))
    import gzip

    return gzip.compress(raw.getvalue(), mtime=0)


class AppMethods:
    """The app calls of `plait.Remote` (a mixin: it uses the client's `_json` and `request`)."""

    project: str
    domain: str
    _json: Callable[..., Any]
    request: Callable[..., Any]
    connection: Any

    def _app_path(self, name: str, action: str = "") -> str:
        return f"{API}/apps/{quote(name, safe='')}" + (f"/{action}" if action else "")

    def _scope(self) -> dict[str, str]:
        return {"project": self.project, "domain": self.domain}

    def deploy_app(self, app: Any, *, wait: bool = True, timeout: float = 300.0,
                   on_status: Callable[[AppInfo], None] | None = None) -> AppInfo:
        """Create or update `app` (a `plait.app.App`) and, with `wait`, return once it is Started
        (AppFailed with its reason and events when it fails to)."""
        spec = app.to_spec()
        files = app_files(app)
        bundle = None
        if files:
            data = pack(files)
            bundle = hashlib.sha256(data).hexdigest()
            self.request("PUT", f"{API}/bundles/{bundle}", content=data,
                         headers={"Content-Type": "application/gzip"})
        answer = self._json("POST", f"{API}/apps", json_body={"spec": spec, "bundle": bundle, **self._scope()})
        info = AppInfo.from_answer(answer["app"], answer["action"])
        if on_status is not None:
            on_status(info)
        if not wait:
            return info
        return self.wait_app(info.name, timeout=timeout, on_status=on_status, action=info.action)

    def wait_app(self, name: str, *, timeout: float = 300.0, on_status: Callable[[AppInfo], None] | None = None,
                 action: str | None = None) -> AppInfo:
        deadline = time.monotonic() + timeout
        last = None
        while True:
            info = self.get_app(name)
            info = AppInfo(**{**info.__dict__, "action": action})
            if on_status is not None and (info.status, info.reason) != last:
                on_status(info)
            last = (info.status, info.reason)
            if info.status in READY:
                return info
            if info.status == "Failed" or (info.status == "Stopped" and info.desired_state == "Stopped"):
                events = [e["message"] for e in self.app_events(name)[-8:]]
                raise AppFailed(f"app {name} is {info.status}: {info.reason}\nits last events:\n  "
                                + "\n  ".join(events))
            if time.monotonic() > deadline:
                raise AppFailed(f"app {name} is still {info.status} after {timeout:g} s ({info.reason}); "
                                "see `plait get apps` and its events")
            time.sleep(0.1)

    def get_app(self, name: str) -> AppInfo:
        return AppInfo.from_answer(self._json("GET", self._app_path(name), params=self._scope()))

    def list_apps(self) -> list[AppInfo]:
        return [AppInfo.from_answer(a) for a in self._json("GET", f"{API}/apps", params=self._scope())["apps"]]

    def stop_app(self, name: str) -> AppInfo:
        return AppInfo.from_answer(self._json("POST", self._app_path(name, "stop"), params=self._scope()))

    def start_app(self, name: str, *, wait: bool = True, timeout: float = 300.0) -> AppInfo:
        info = AppInfo.from_answer(self._json("POST", self._app_path(name, "start"), params=self._scope()))
        return self.wait_app(name, timeout=timeout) if wait else info

    def app_logs(self, name: str, *, replica: int = 0, tail: int = 200) -> list[str]:
        answer = self._json("GET", self._app_path(name, "logs"),
                            params={**self._scope(), "replica": replica, "tail": tail})
        return list(answer["lines"])

    def app_events(self, name: str, limit: int = 50) -> list[dict[str, Any]]:
        return list(self._json("GET", self._app_path(name, "events"),
                               params={**self._scope(), "limit": limit})["events"])

    def app_url(self, name: str) -> str:
        """An absolute link that opens the app in a browser (with a session for one that requires auth)."""
        info = self.get_app(name)
        base = str(self.connection.endpoint).rstrip("/")
        if not info.requires_auth:
            return base + info.url
        return base + str(self._json("POST", self._app_path(name, "session"), params=self._scope())["url"])
