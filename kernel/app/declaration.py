"""`plait.app.App`: a long-running web app declared next to tasks and workflows.

An `App` is a declaration, like a task: it runs nothing here. It names what
the backend's app service starts (a command, or an ASGI `framework_app` that
uvicorn serves), the files it carries (`include`), the values it is given
(`inputs`: literals or artifact queries, as environment variables and, with
`download=True`, files in its working directory), its resources and scaling.

Everything is checked when the `App(...)` line runs, so a typo fails in the
user's file and not minutes later on the backend. `to_spec()` is the JSON the
backend stores; it lists every included file with its SHA-256, so a deploy
whose spec is unchanged (`App.digest()`) can be recognised as a no-op.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import inspect
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config.image_spec import ImageSpec
from ..config.resources import GPUAccelerator, Resources, accelerator_from
from ..config.security import Secret
from ..errors import InputError, TypeMismatchError
from .spec import RESERVED_PORTS, SPEC_VERSION, spec_digest

_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_NAME_RULE = "a DNS label: 1 to 63 lowercase letters, digits or '-', starting with a letter and ending with a letter or digit"
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_ENTRYPOINT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class AppDeclarationError(InputError):
    """An `App(...)` or `Input(...)` argument the backend could not serve; carries the parameter."""

    def __init__(self, message: str, *, app: str | None = None, parameter: str = "",
                 expected: str = "", found: str = "") -> None:
        super().__init__(message)
        self.app = app
        self.parameter = parameter
        self.expected = expected
        self.found = found


def _fail(owner: str, parameter: str, expected: str, found: Any, fix: str, *,
          app: str | None = None, type_error: bool = False) -> Exception:
    shown = found if isinstance(found, str) and found.startswith("<") else repr(found)
    message = f"{owner}: {parameter} expects {expected}, got {shown}; {fix}"
    if type_error:
        return TypeMismatchError(message, entity=owner, name=parameter, expected=expected,
                                 found=type(found).__name__)
    return AppDeclarationError(message, app=app, parameter=parameter, expected=expected, found=shown)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    slug = re.sub(r"^[^a-z]+", "", slug)[:63].rstrip("-")
    return slug or "my-app"


# --------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Input:
    """A value given to an app when it starts: a literal, or the latest version an artifact query finds.

    `env_var` names the environment variable that carries it (the value, or with
    `download=True` the path of the downloaded file in the app's working directory).
    """

    value: Any
    name: str | None = None
    download: bool = False
    env_var: str | None = None

    def __post_init__(self) -> None:
        owner = f"Input(name={self.name!r})" if self.name else "Input"
        if self.name is not None and (not isinstance(self.name, str) or not _INPUT_NAME.match(self.name)):
            raise _fail(owner, "name", "a name of letters, digits, '_', '-' or '.' starting with a letter",
                        self.name, "write name='model'")
        if not isinstance(self.download, bool):
            raise _fail(owner, "download", "True or False", self.download, "write download=True",
                        type_error=True)
        if self.env_var is not None and (not isinstance(self.env_var, str) or not _ENV_VAR.match(self.env_var)):
            fix = re.sub(r"\W", "_", str(self.env_var)).upper() or "MY_INPUT"
            raise _fail(owner, "env_var", "an environment variable name such as 'MODEL_PATH'",
                        self.env_var, f"write env_var={fix!r}")
        if _is_query(self.value):
            if self.value.bound_inputs():
                raise _fail(owner, "value", "an artifact query with literal partition values (an app has "
                            "no inputs to bind)", f"<a query reading {self.value.bound_inputs()}>",
                            "write the partition value itself")
        elif not isinstance(self.value, (str, int, float, bool)):
            raise _fail(owner, "value", "a str, int, float or bool, or an artifact query (Artifact.query())",
                        f"<{type(self.value).__name__}>", "pass the value as text, or emit it as an "
                        "artifact and pass Artifact.query()", type_error=True)
        elif self.download and not isinstance(self.value, str):
            raise _fail(owner, "download", "a URI or an artifact query to download", self.value,
                        "drop download=True for a literal value")

    def to_spec(self) -> dict[str, Any]:
        value = ({"artifact_query": self.value.to_spec()} if _is_query(self.value)
                 else {"literal": self.value})
        return {"name": self.name, "value": value, "download": self.download, "env_var": self.env_var}

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> Input:
        value = d["value"]
        found = value["literal"] if "literal" in value else _query_from_spec(value["artifact_query"])
        return cls(value=found, name=d.get("name"), download=bool(d.get("download")), env_var=d.get("env_var"))


def _is_query(value: Any) -> bool:
    return bool(getattr(value, "is_artifact_query", False))


def _query_from_spec(spec: Mapping[str, Any]) -> Any:
    """The artifact query a spec describes (literal partition values only: an app binds no inputs)."""
    from ..artifacts.artifact import Artifact

    def literal(binding: Any) -> Any:
        return None if binding is None else binding.get("value")

    partitions = {k: literal(v) for k, v in (spec.get("partitions") or {}).items()}
    when = literal(spec.get("time_partition"))
    artifact = Artifact(spec["artifact"], partition_keys=list(partitions) or None,
                        time_partitioned=when is not None)
    return artifact.query(project=spec.get("project"), domain=spec.get("domain"), version=spec.get("version"),
                          time_partition=_dt.datetime.fromisoformat(when) if when else None,
                          partitions=partitions)


# ----------------------------------------------------------------------- apps


def _declaring_frame() -> tuple[Path | None, dict[str, Any] | None]:
    """The file and module globals of the code that called `App(...)` (outside this package)."""
    frame = sys._getframe(1)
    while frame is not None and _inside_this_package(frame.f_globals.get("__name__", "")):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return None, None
    file = frame.f_globals.get("__file__")
    return (Path(file).resolve() if file else None), frame.f_globals


def _inside_this_package(module: str) -> bool:
    package = __name__.rpartition(".")[0]
    return module == package or module.startswith(package + ".")


def _command(owner: str, parameter: str, value: Any, app: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        import shlex

        try:
            words = shlex.split(value)
        except ValueError as exc:
            raise _fail(owner, parameter, "a command line", value, f"check the quotes ({exc})", app=app) from None
    elif isinstance(value, (list, tuple)) and all(isinstance(w, str) for w in value):
        words = list(value)
    else:
        raise _fail(owner, parameter, "a command line as a str or a list of str", f"<{type(value).__name__}>",
                    f"write {parameter}='panel serve main.py --port 8080'", app=app, type_error=True)
    if not words:
        raise _fail(owner, parameter, "a command line", value, f"write {parameter}='panel serve main.py'", app=app)
    return words


def _seconds(owner: str, value: Any, app: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise _fail(owner, "scaledown_after", "seconds (int or float) or a datetime.timedelta",
                    f"<{type(value).__name__}>", "write scaledown_after=600 or timedelta(minutes=10)",
                    app=app, type_error=True)
    if seconds < 0:
        raise _fail(owner, "scaledown_after", "a duration >= 0", value, "write scaledown_after=600", app=app)
    return seconds


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class App:
    """A web app the backend serves next to workflows (see `docs/apps.md`).

    Exactly one of `args` (the command line the app runs, e.g. `panel serve main.py
    --port 8080`) or `command` is given, or neither with a `framework_app`: an ASGI
    application object (FastAPI, Starlette, ...) that the backend serves with uvicorn.
    """

    def __init__(
        self,
        name: str,
        container_image: str | ImageSpec | None = None,
        args: str | Sequence[str] | None = None,
        command: str | Sequence[str] | None = None,
        port: int = 8080,
        include: Sequence[str] = (),
        inputs: Sequence[Input] = (),
        framework_app: Any = None,
        requests: Resources | None = None,
        limits: Resources | None = None,
        min_replicas: int = 0,
        max_replicas: int = 1,
        scaledown_after: int | float | _dt.timedelta | None = None,
        secrets: Sequence[Secret] = (),
        requires_auth: bool = True,
        env: Mapping[str, str] | None = None,
        accelerator: GPUAccelerator | str | None = None,
    ) -> None:
        file, module_globals = _declaring_frame()
        self._file = file
        self._globals = module_globals
        self._include_digests: dict[str, str] = {}
        self._assign(locals(), check_files=True)

    # ---------------------------------------------------------------- checks

    def _assign(self, given: Mapping[str, Any], *, check_files: bool) -> None:
        name = given["name"]
        if not isinstance(name, str) or not _NAME.match(name):
            raise _fail("App", "name", _NAME_RULE, name, f"write name={_slug(str(name))!r}", app=str(name))
        self.name: str = name
        owner = f"App {name!r}"

        def fail(parameter: str, expected: str, found: Any, fix: str, type_error: bool = False) -> Exception:
            return _fail(owner, parameter, expected, found, fix, app=name, type_error=type_error)

        image = given["container_image"]
        if image is not None and not isinstance(image, (str, ImageSpec)):
            raise fail("container_image", "an image name (str), an ImageSpec or None",
                       f"<{type(image).__name__}>", "write container_image=plait.ImageSpec(packages=[...])",
                       type_error=True)
        self.container_image: str | ImageSpec | None = image

        port = given["port"]
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise fail("port", "a TCP port from 1 to 65535", port, "write port=8080")
        if port in RESERVED_PORTS:
            raise fail("port", "a port the platform does not use", port,
                       f"{port} is {RESERVED_PORTS[port]}; write port=8080")
        self.port: int = port

        self.framework_app: Any = self._framework_app(given["framework_app"], fail)
        self.args = _command(owner, "args", given["args"], name)
        self.command = _command(owner, "command", given["command"], name)
        if self.args is not None and self.command is not None:
            raise fail("args", "either args or command, not both", "<both>",
                       "keep args (the command line the app runs) and drop command")
        if self.framework_app is not None and (self.args or self.command):
            which = "args" if self.args else "command"
            raise fail(which, f"no {which} when framework_app is given (the backend serves it with uvicorn)",
                       given[which], f"drop {which}, or drop framework_app and start the server in {which}")
        if self.framework_app is None and self.args is None and self.command is None:
            raise fail("args", "the command line that starts the app (or command, or framework_app)", None,
                       "write args='panel serve main.py --port 8080' or framework_app=app (a FastAPI app)")

        self.include: list[str] = self._include(given["include"], fail, check_files)
        self.inputs: list[Input] = self._inputs(given["inputs"], fail)

        for parameter in ("requests", "limits"):
            value = given[parameter]
            if value is not None and not isinstance(value, Resources):
                raise fail(parameter, "plait.Resources or None", f"<{type(value).__name__}>",
                           f"write {parameter}=plait.Resources(cpu='1', mem='1Gi')", type_error=True)
        self.requests: Resources | None = given["requests"]
        self.limits: Resources | None = given["limits"]
        if self.requests is not None and self.limits is not None:
            low, high = self.requests.canonical(), self.limits.canonical()
            for key in sorted(set(low) & set(high)):
                if low[key] > high[key]:
                    raise fail("requests", f"{key} at most the limit ({getattr(self.limits, key)})",
                               getattr(self.requests, key), f"raise limits.{key} or lower requests.{key}")

        for parameter in ("min_replicas", "max_replicas"):
            value = given[parameter]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise fail(parameter, "a whole number >= 0", value, f"write {parameter}=1",
                           type_error=not isinstance(value, int) or isinstance(value, bool))
        self.min_replicas: int = given["min_replicas"]
        self.max_replicas: int = given["max_replicas"]
        if self.max_replicas < 1:
            raise fail("max_replicas", "at least 1 (the app could never run)", self.max_replicas,
                       "write max_replicas=1")
        if self.min_replicas > self.max_replicas:
            raise fail("min_replicas", f"at most max_replicas ({self.max_replicas})", self.min_replicas,
                       f"raise max_replicas to {self.min_replicas} or lower min_replicas")
        self.scaledown_after: float | None = _seconds(owner, given["scaledown_after"], name)

        secrets = given["secrets"]
        if isinstance(secrets, (str, Secret)) or not isinstance(secrets, Sequence):
            raise fail("secrets", "a list of plait.Secret", f"<{type(secrets).__name__}>",
                       "write secrets=[plait.Secret(key='API_KEY', env_var='API_KEY')]", type_error=True)
        for secret in secrets:
            if not isinstance(secret, Secret):
                raise fail("secrets", "a list of plait.Secret", secret,
                           f"write plait.Secret(key={str(secret)!r}, env_var=...)", type_error=True)
        self.secrets: list[Secret] = list(secrets)

        if not isinstance(given["requires_auth"], bool):
            raise fail("requires_auth", "True or False", given["requires_auth"], "write requires_auth=False",
                       type_error=True)
        self.requires_auth: bool = given["requires_auth"]
        self.env: dict[str, str] = self._env(given["env"], fail)
        try:
            self.accelerator: GPUAccelerator | None = accelerator_from(given["accelerator"])
        except TypeMismatchError as exc:
            raise fail("accelerator", "a GPUAccelerator such as plait.A100, a device name or None",
                       f"<{type(given['accelerator']).__name__}>", "write accelerator=plait.T4",
                       type_error=True) from exc
        self._check_env_names(fail)

    def _framework_app(self, value: Any, fail: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            if not _ENTRYPOINT.match(value):
                raise fail("framework_app", "an ASGI app object, or 'module:attribute'", value,
                           "pass the FastAPI/Starlette app object itself")
            return value
        if not callable(value) or inspect.isclass(value):
            raise fail("framework_app", "an ASGI app (a callable taking scope, receive, send), such as a "
                       "FastAPI() instance", f"<{type(value).__name__}>",
                       "pass the app instance (app = FastAPI()), not its class or a module", type_error=True)
        try:
            inspect.signature(value).bind(object(), object(), object())
        except (TypeError, ValueError):
            hint = ("it looks like a WSGI app (environ, start_response): wrap it in an ASGI adapter, or "
                    "drop framework_app and start its server in args" if _wsgi_like(value) else
                    "pass an ASGI app such as a FastAPI() or Starlette() instance")
            raise fail("framework_app", "an ASGI app (a callable taking scope, receive, send)",
                       f"<{type(value).__name__} {getattr(value, '__name__', '')}>".replace(" >", ">"),
                       hint, type_error=True) from None
        return value

    def _include(self, value: Any, fail: Any, check_files: bool) -> list[str]:
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise fail("include", "a list of file paths", f"<{type(value).__name__}>",
                       "write include=['main.py', 'utils.py']", type_error=True)
        base = self._file.parent if self._file is not None else Path.cwd()
        out: list[str] = []
        for item in value:
            if not isinstance(item, (str, Path)):
                raise fail("include", "a list of file paths", item, "write include=['main.py']", type_error=True)
            relative = Path(item)
            if relative.is_absolute() or ".." in relative.parts:
                raise fail("include", f"paths inside the app's folder {base}", str(item),
                           "move the file next to the app file and name it relative to that folder")
            if check_files:
                path = base / relative
                if path.is_dir():  # a folder: every file under it, in a stable order
                    found = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
                    for file in found:
                        self._include_digests[file.relative_to(base).as_posix()] = _sha256(file)
                elif path.is_file():
                    self._include_digests[relative.as_posix()] = _sha256(path)
                else:
                    raise fail("include", f"files or folders that exist relative to {base}", str(item),
                               f"no such file at {path}; check the name or create the file")
            out.append(relative.as_posix())
        if len(set(out)) != len(out):
            twice = sorted({p for p in out if out.count(p) > 1})
            raise fail("include", "each file once", twice, "drop the repeated entries")
        return out

    def _inputs(self, value: Any, fail: Any) -> list[Input]:
        if isinstance(value, (str, Input)) or not isinstance(value, Sequence):
            raise fail("inputs", "a list of plait.app.Input", f"<{type(value).__name__}>",
                       "write inputs=[plait.app.Input(value=Model.query(), download=True, env_var='MODEL')]",
                       type_error=True)
        for item in value:
            if not isinstance(item, Input):
                raise fail("inputs", "a list of plait.app.Input", f"<{type(item).__name__}>",
                           "wrap the value: plait.app.Input(value=..., env_var=...)", type_error=True)
        for attribute in ("name", "env_var"):
            seen = [getattr(i, attribute) for i in value if getattr(i, attribute) is not None]
            twice = sorted({v for v in seen if seen.count(v) > 1})
            if twice:
                raise fail("inputs", f"a different {attribute} for each input", twice,
                           f"rename the {attribute} of one of them")
        return list(value)

    def _env(self, value: Any, fail: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise fail("env", "a dict of environment variable names to str", f"<{type(value).__name__}>",
                       "write env={'LOG_LEVEL': 'info'}", type_error=True)
        for key, text in value.items():
            if not isinstance(key, str) or not _ENV_VAR.match(key):
                raise fail("env", "environment variable names such as 'LOG_LEVEL'", key,
                           f"write {re.sub(r'[^A-Za-z0-9_]', '_', str(key)).upper()!r}")
            if not isinstance(text, str):
                raise fail("env", "str values", text, f"quote it: {str(text)!r}", type_error=True)
        return dict(value)

    def _check_env_names(self, fail: Any) -> None:
        """An environment variable is set by one of env, an input or a secret, never by two."""
        owners: dict[str, str] = {}
        named = [(k, "env") for k in self.env]
        named += [(i.env_var, "inputs") for i in self.inputs if i.env_var]
        named += [(s.env_var, "secrets") for s in self.secrets if s.env_var]
        for variable, source in named:
            if variable in owners and owners[variable] != source:
                raise fail(source, f"an environment variable that {owners[variable]} does not set already",
                           variable, f"rename the env_var in {source} or drop {variable} from {owners[variable]}")
            owners[variable] = source

    # ------------------------------------------------------------------ spec

    @property
    def declared_in(self) -> Path | None:
        """The file whose code called `App(...)` (None in a notebook or REPL)."""
        return self._file

    def framework_entrypoint(self) -> str | None:
        """`module:attribute` for uvicorn: the declaring file's stem and the name the app has there."""
        if self.framework_app is None or isinstance(self.framework_app, str):
            return self.framework_app
        owner = f"App {self.name!r}"
        if self._file is None or self._globals is None:
            raise _fail(owner, "framework_app", "an app declared in a .py file", "<declared outside a file>",
                        "move the App and its framework_app into a module", app=self.name)
        names = [k for k, v in self._globals.items() if v is self.framework_app]
        if not names:
            raise _fail(owner, "framework_app", f"an object assigned to a name in {self._file.name}",
                        f"<{type(self.framework_app).__name__}>",
                        "assign it at module level (app = FastAPI()) and pass that name", app=self.name)
        public = [n for n in names if not n.startswith("_")] or names
        return f"{self._file.stem}:{public[0]}"

    def files(self) -> list[dict[str, str]]:
        """The files the app's working directory holds: `include`, plus the declaring file for a framework_app."""
        out = [{"path": p, "sha256": digest} for p, digest in self._include_digests.items()]
        if self.framework_app is not None and not isinstance(self.framework_app, str) and self._file is not None:
            declared = self._file.name
            if declared not in self._include_digests:
                out.append({"path": declared, "sha256": _sha256(self._file)})
        return out

    def to_spec(self) -> dict[str, Any]:
        """What the backend stores for this app; JSON-able, and `from_spec` reads it back."""
        image = self.container_image
        spec: dict[str, Any] = {
            "kind": "app",
            "spec_version": SPEC_VERSION,
            "name": self.name,
            "container_image": image.to_spec() if isinstance(image, ImageSpec) else image,
            "args": self.args,
            "command": self.command,
            "port": self.port,
            "framework_app": self.framework_entrypoint(),
            "files": self.files(),
            "inputs": [i.to_spec() for i in self.inputs],
            "requests": self.requests.to_spec() if self.requests else None,
            "limits": self.limits.to_spec() if self.limits else None,
            "min_replicas": self.min_replicas,
            "max_replicas": self.max_replicas,
            "scaledown_after": self.scaledown_after,
            "secrets": [s.to_spec() for s in self.secrets],
            "requires_auth": self.requires_auth,
            "env": dict(self.env),
            "accelerator": self.accelerator.to_spec() if self.accelerator else None,
        }
        spec["digest"] = spec_digest(spec)
        return spec

    def digest(self) -> str:
        """The SHA-256 of the spec (file contents included): equal digests, nothing to redeploy."""
        return str(self.to_spec()["digest"])

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> App:
        """The App a stored spec describes; its files are taken as listed, not read."""
        if spec.get("kind") != "app":
            from ..errors import SpecError

            raise SpecError(f"App.from_spec: expected a spec with kind 'app', got kind {spec.get('kind')!r}")
        image = spec.get("container_image")
        app = cls.__new__(cls)
        app._file, app._globals = None, None
        files = list(spec.get("files") or [])
        app._include_digests = {f["path"]: f.get("sha256", "") for f in files}
        framework = spec.get("framework_app")
        include = [f["path"] for f in files]  # with a framework_app, its declaring file among them
        app._assign({
            "name": spec["name"],
            "container_image": ImageSpec.from_spec(image) if isinstance(image, dict) else image,
            "args": spec.get("args"),
            "command": spec.get("command"),
            "port": spec.get("port", 8080),
            "include": include,
            "inputs": [Input.from_spec(i) for i in spec.get("inputs") or []],
            "framework_app": framework,
            "requests": Resources.from_spec(spec["requests"]) if spec.get("requests") else None,
            "limits": Resources.from_spec(spec["limits"]) if spec.get("limits") else None,
            "min_replicas": spec.get("min_replicas", 0),
            "max_replicas": spec.get("max_replicas", 1),
            "scaledown_after": spec.get("scaledown_after"),
            "secrets": [Secret.from_spec(s) for s in spec.get("secrets") or []],
            "requires_auth": spec.get("requires_auth", True),
            "env": spec.get("env") or {},
            "accelerator": GPUAccelerator.from_spec(spec["accelerator"]) if spec.get("accelerator") else None,
        }, check_files=False)
        return app

    def __repr__(self) -> str:
        if self.framework_app is not None:
            fa = self.framework_app
            how = f"framework_app={fa!r}" if isinstance(fa, str) else f"framework_app=<{type(fa).__name__}>"
        else:
            how = f"args={' '.join(self.args or self.command or [])!r}"
        return f"App(name={self.name!r}, {how}, port={self.port})"


def _wsgi_like(target: Any) -> bool:
    try:
        params = list(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return False
    return params[:2] == ["environ", "start_response"]
