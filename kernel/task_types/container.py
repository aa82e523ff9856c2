"""`ContainerTask`: a task that runs any image, with typed inputs and outputs.

The protocol is Flyte's raw-container one, so the same task runs remotely:
- `{{.inputs.a}}` in `command` or `arguments` becomes the value of input `a`
  (`true`/`false` for booleans, ISO text for datetimes, JSON for lists and
  dicts, and for a file or directory its path inside the container);
- every input is also a file `<input_data_dir>/<name>` (the value as text,
  or the file or directory itself), next to `inputs.json` with all values;
- the container writes each output to `<output_data_dir>/<name>`, which is
  read back by its declared type (`str`, `int`, `float`, `bool`, datetimes,
  JSON for containers, the file or directory itself for FlyteFile /
  FlyteDirectory).

Locally the container runs with docker or podman, whichever answers
`<runtime> info`; without one the task fails with a message that says what
is missing. The pure steps (render, write inputs, read outputs, build the
`run` command) are separate functions so they can be checked without a
runtime.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import types
import typing
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import PlatformError, UserError
from ..model.keys import content_version
from ..sdk.context import current_context
from ..sdk.interface import interface_from_types
from ..sdk.tasks import PythonFunctionTask, TaskMetadata
from ..typesys import NoneType, describe, strip_annotated, to_literal
from ..typesys.text import parse_value
from .shell import ExitCodeError, caller_module, placeholder_function, settings_from, stream_process

# Flyte reads `{{.inputs.a}}` case-insensitively, with `.` or `$` and optional spaces.
_INPUT_TEMPLATE = re.compile(r"\{\{\s*[.$]inputs\.(\w+)\s*\}\}", re.IGNORECASE)


class MetadataFormat(enum.Enum):
    """Format of the file that lists every input value (`inputs.<ext>`)."""

    JSON = "JSON"
    YAML = "YAML"
    PROTO = "PROTO"


# ------------------------------------------------------------------ templates


def input_refs(args: Sequence[str]) -> list[str]:
    """The input names that `{{.inputs.x}}` templates in `args` refer to."""
    return [m.group(1) for a in args for m in _INPUT_TEMPLATE.finditer(a)]


def render_args(args: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """Replace every `{{.inputs.x}}` with `values[x]`."""
    return [_INPUT_TEMPLATE.sub(lambda m: values[m.group(1)], a) for a in args]


def _file_kind(tp: Any) -> str | None:
    base, _ = strip_annotated(tp)
    kind = getattr(base, "__plait_file_kind__", None)
    return kind if isinstance(kind, str) else None


def _optional_inner(tp: Any) -> Any:
    """`Optional[T]` -> T; anything else -> None."""
    base, _ = strip_annotated(tp)
    if typing.get_origin(base) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(base) if a is not NoneType]
        if len(args) == 1 and len(typing.get_args(base)) == 2:
            return args[0]
    return None


def value_text(tp: Any, value: Any) -> str:
    """An input value as text, the way Flyte writes it into commands and input files."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return f"{value.total_seconds():g}s"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    if value is None:
        return ""
    return json.dumps(to_literal(tp, value), sort_keys=True)


def command_values(types: Mapping[str, Any], inputs: Mapping[str, Any], input_data_dir: str | None) -> dict[str, str]:
    """What each `{{.inputs.x}}` becomes; files and directories by their path in the container."""
    out = {}
    for name, value in inputs.items():
        if _file_kind(types.get(name)) is not None and value is not None and input_data_dir:
            out[name] = _join(input_data_dir, name)
        else:
            out[name] = value_text(types.get(name), value)
    return out


def _join(container_dir: str, name: str) -> str:
    return container_dir.rstrip("/") + "/" + name


# -------------------------------------------------------------- inputs, outputs


def write_inputs(
    host_dir: str,
    types: Mapping[str, Any],
    inputs: Mapping[str, Any],
    input_data_dir: str,
    metadata_format: MetadataFormat = MetadataFormat.JSON,
) -> None:
    """Lay the inputs out in `host_dir`, which the container sees as `input_data_dir`.

    Files and directories are copied (the container may change them; the
    caller's copy stays as it was); other values are written as text. The
    metadata file lists every value, with in-container paths for files.
    """
    os.makedirs(host_dir, exist_ok=True)
    listing: dict[str, Any] = {}
    for name, value in inputs.items():
        tp = types.get(name)
        dest = os.path.join(host_dir, name)
        kind = _file_kind(tp)
        if kind is not None and value is not None:
            src = os.fspath(value)
            if kind == "directory":
                shutil.copytree(src, dest, symlinks=True)
            else:
                shutil.copy2(src, dest)
            listing[name] = {"path": _join(input_data_dir, name), "format": getattr(tp, "__plait_format__", "")}
            continue
        with open(dest, "w", encoding="utf-8") as fh:
            fh.write(value_text(tp, value))
        listing[name] = to_literal(tp, value)
    if metadata_format is not MetadataFormat.PROTO:  # JSON is also valid YAML
        ext = "json" if metadata_format is MetadataFormat.JSON else "yaml"
        with open(os.path.join(host_dir, f"inputs.{ext}"), "w", encoding="utf-8") as fh:
            json.dump(listing, fh, indent=2, sort_keys=True)


def parse_output(tp: Any, text: str) -> Any:
    """An output written as text, read as its declared (non-file) type; ValueError if it is not one.

    A missing file means None for an optional output, so text is always the
    inner type's. The words are `plait.typesys.text`'s, as on the command line.
    """
    base, _ = strip_annotated(tp)
    inner = _optional_inner(base)
    if inner is not None:
        return parse_output(inner, text)
    if base is str:
        return text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")
    return parse_value(tp, text.strip(), paths=False)


def read_outputs(task: str, host_dir: str, types: Mapping[str, Any], output_data_dir: str) -> dict[str, Any]:
    """Read every declared output from the files the container left in `host_dir`."""
    outputs: dict[str, Any] = {}
    for name, tp in types.items():
        path = os.path.join(host_dir, name)
        where = _join(output_data_dir, name)
        kind = _file_kind(tp)
        optional = _optional_inner(tp) is not None
        if not os.path.lexists(path):
            if optional:
                outputs[name] = None
                continue
            example = f"mkdir -p {where} && ..." if kind == "directory" else f"echo <value> > {where}"
            raise UserError(
                f"container task `{task}` declares output `{name}: {describe(tp)}`, but the "
                f"container left nothing at {where}; write it there (e.g. `{example}`)"
            )
        if kind is not None:
            is_dir = os.path.isdir(path)
            if is_dir != (kind == "directory"):
                raise UserError(
                    f"container task `{task}`: output `{name}: {describe(tp)}` expects a {kind} at "
                    f"{where}, but the container left a {'directory' if is_dir else 'file'} there"
                )
            base, _ = strip_annotated(tp)
            outputs[name] = base(path)
            continue
        if os.path.isdir(path):
            raise UserError(
                f"container task `{task}`: output `{name}: {describe(tp)}` must be a file holding the "
                f"value, but {where} is a directory"
            )
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        try:
            outputs[name] = parse_output(tp, text)
        except ValueError as exc:
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise UserError(
                f"container task `{task}`: output `{name}` is declared `{describe(tp)}`, but "
                f"{where} holds {shown!r} ({exc}); write a `{describe(tp)}` there or change the "
                "declared type"
            ) from None
    return outputs


# -------------------------------------------------------------------- runtime


@dataclass(frozen=True)
class RuntimeProbe:
    """What `<runtime> info` found: a usable runtime, or why there is none."""

    runtime: str | None
    executable: str | None
    problem: str = ""

    @property
    def fix(self) -> str:
        if self.problem == _NONE_ON_PATH:
            return "install Docker or podman"
        return (
            "start the Docker daemon (e.g. `sudo systemctl start docker`, or open Docker "
            "Desktop) so that `docker info` succeeds, or use podman"
        )


_NONE_ON_PATH = "neither docker nor podman is on PATH"


_RUNTIMES = ("docker", "podman")
_PROBE_TIMEOUT_S = 5.0
_RETRY_FAILED_PROBE_S = 30.0  # a daemon started after a failed probe is noticed this soon


def _said(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode(errors="replace").splitlines() if ln.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= 200 else line[:197] + "..."


def probe_runtime(timeout: float = _PROBE_TIMEOUT_S) -> RuntimeProbe:
    """Find a container runtime on PATH whose `info` succeeds (docker first)."""
    problems = []
    for name in _RUNTIMES:
        exe = shutil.which(name)
        if exe is None:
            continue
        try:
            done = subprocess.run(
                [exe, "info"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, timeout=timeout, check=False,
            )
        except subprocess.TimeoutExpired:
            problems.append(f"`{name}` is installed but `{name} info` did not answer within {timeout:g}s")
            continue
        except OSError as exc:
            problems.append(f"`{name}` is on PATH but cannot be run ({exc.strerror})")
            continue
        if done.returncode == 0:
            return RuntimeProbe(name, exe)
        what = "its daemon is not reachable" if name == "docker" else f"`{name} info` fails"
        said = _said(done.stderr)
        problems.append(f"`{name}` is installed but {what}" + (f" (`{name} info`: {said})" if said else ""))
    if not problems:
        return RuntimeProbe(None, None, _NONE_ON_PATH)
    return RuntimeProbe(None, None, "; ".join(problems))


_probe_lock = threading.Lock()
_probe: tuple[float, RuntimeProbe] | None = None


def container_runtime(refresh: bool = False) -> RuntimeProbe:
    """The probe result, cached per process (a failure is checked again after 30 s)."""
    global _probe
    with _probe_lock:
        now = time.monotonic()
        if _probe is not None and not refresh:
            when, found = _probe
            if found.executable is not None or now - when < _RETRY_FAILED_PROBE_S:
                return found
        found = probe_runtime()
        _probe = (now, found)
        return found


class ContainerRuntimeError(PlatformError):
    """No docker or podman can run a ContainerTask on this machine."""

    def __init__(self, task: str, probe: RuntimeProbe) -> None:
        self._args = (task, probe)
        self.task = task
        self.problem = probe.problem
        super().__init__(
            f"container task `{task}` cannot run here: no container runtime: {probe.problem}. "
            f"To run it locally, {probe.fix}; or run the workflow on a plait backend, where "
            "the container runs on the cluster"
        )

    def __reduce__(self) -> Any:  # travels between processes (Dask workers)
        return (type(self), self._args, self.__dict__)


def run_argv(
    runtime: str,
    executable: str,
    image: str,
    command: Sequence[str],
    arguments: Sequence[str],
    *,
    container_name: str,
    mounts: Sequence[tuple[str, str]] = (),
    env: Mapping[str, str] | None = None,
    cpus: float | None = None,
    memory_bytes: int | None = None,
    gpus: int = 0,
) -> list[str]:
    """The `docker run` / `podman run` command line.

    As in a Kubernetes pod, `command` replaces the image's entrypoint and
    `arguments` follow it; with no command the image's entrypoint runs with
    the arguments.
    """
    argv = [executable, "run", "--rm", "--name", container_name]
    for host, inside in mounts:
        argv += ["--volume", f"{host}:{inside}"]
    for key, value in (env or {}).items():
        argv += ["--env", f"{key}={value}"]
    if cpus:
        argv += ["--cpus", f"{cpus:g}"]
    if memory_bytes:
        argv += ["--memory", str(int(memory_bytes))]
    if gpus:
        argv += ["--gpus", str(gpus)] if runtime == "docker" else ["--device", "nvidia.com/gpu=all"]
    if command:
        argv += ["--entrypoint", command[0], image, *command[1:], *arguments]
    else:
        argv += [image, *arguments]
    return argv


def _exit_hint(code: int) -> str:
    return {
        125: "The container runtime could not start it: check the image name and that it can be pulled.",
        126: "The command exists in the image but cannot be executed.",
        127: "The command was not found in the image.",
    }.get(code, "")


# ------------------------------------------------------------------ the task

_Format = MetadataFormat  # ContainerTask.MetadataFormat shadows the name in the class body


def _str_list(owner: str, what: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise UserError(
            f"{owner}: {what} expects a list of strings, e.g. [\"sh\", \"-c\", \"echo hi\"], got {value!r}"
        )
    return list(value)


def _container_dir(owner: str, what: str, value: Any) -> str | None:
    if value is None:
        return None
    text = os.fspath(value)
    if not text.startswith("/"):
        raise UserError(f"{owner}: {what} is a path inside the container and must be absolute, got {text!r}")
    return text.rstrip("/") or "/"


def _image_ref(owner: str, image: Any) -> str:
    if isinstance(image, str) and image:
        return image
    name = getattr(image, "image_name", None)
    if callable(name):
        return str(name())
    raise UserError(f"{owner}: image expects a name such as 'alpine:3.20' or a plait.ImageSpec, got {image!r}")


class ContainerTask(PythonFunctionTask):
    """A task that runs `command` in `image`; see the module docstring for the I/O protocol."""

    task_type = "raw-container"
    MetadataFormat = MetadataFormat

    def __init__(
        self,
        name: str,
        image: Any,
        command: list[str],
        inputs: Mapping[str, Any] | None = None,
        metadata: TaskMetadata | None = None,
        arguments: list[str] | None = None,
        outputs: Mapping[str, Any] | None = None,
        requests: Any = None,
        limits: Any = None,
        input_data_dir: str | None = None,
        output_data_dir: str | None = None,
        metadata_format: _Format | str = _Format.JSON,
        io_strategy: Any = None,
        secret_requests: Any = None,
        pod_template: Any = None,
        pod_template_name: str | None = None,
        local_logs: bool = False,
        **params: Any,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise UserError(f"ContainerTask needs a name, e.g. ContainerTask(name=\"area\", ...), got {name!r}")
        owner = f"ContainerTask `{name}`"
        image_ref = _image_ref(owner, image)
        cmd = _str_list(owner, "command", command)
        args = _str_list(owner, "arguments", arguments)
        if not cmd and not args:
            raise UserError(f"{owner}: give a command to run, e.g. command=[\"sh\", \"-c\", \"...\"]")
        in_dir = _container_dir(owner, "input_data_dir", input_data_dir)
        out_dir = _container_dir(owner, "output_data_dir", output_data_dir)
        if in_dir is not None and in_dir == out_dir:
            raise UserError(f"{owner}: input_data_dir and output_data_dir must differ, both are {in_dir!r}")
        interface = interface_from_types(dict(inputs or {}), dict(outputs or {}))
        names = list(interface.inputs)
        for ref in input_refs(cmd + args):
            if ref not in interface.inputs:
                raise UserError(
                    f"{owner}: the command refers to `{{{{.inputs.{ref}}}}}`, but the task has no "
                    f"input `{ref}`; its inputs are {names or 'none'}. Declare it in "
                    f"inputs=kwtypes({ref}=...) or fix the name"
                )
        files = [n for n, p in interface.inputs.items() if _file_kind(p.type) is not None]
        if files and in_dir is None:
            raise UserError(
                f"{owner}: file input(s) {files} reach the container through input_data_dir; "
                "set input_data_dir=\"/var/inputs\" and read them at /var/inputs/<name>"
            )
        if interface.outputs and out_dir is None:
            raise UserError(
                f"{owner}: declares outputs {list(interface.outputs)} but no output_data_dir; set "
                "output_data_dir=\"/var/outputs\" and have the command write each output to "
                "/var/outputs/<name>"
            )
        try:
            fmt = MetadataFormat(metadata_format.value if isinstance(metadata_format, enum.Enum) else metadata_format)
        except ValueError:
            raise UserError(f"{owner}: metadata_format expects JSON, YAML or PROTO, got {metadata_format!r}") from None
        docs = params.pop("docs", None)
        deprecated = params.pop("deprecated", "") or (metadata.deprecated if metadata else "")
        settings = settings_from(
            owner,
            metadata,
            {
                "container_image": image,
                "requests": requests,
                "limits": limits,
                "secret_requests": secret_requests,
                "pod_template": pod_template,
                "pod_template_name": pod_template_name,
                **params,
            },
        )
        self.image = image
        self.image_ref = image_ref
        self.command = cmd
        self.arguments = args
        self.input_data_dir = in_dir
        self.output_data_dir = out_dir
        self.metadata_format = fmt
        self.io_strategy = io_strategy
        self.local_logs = local_logs
        module, _ = caller_module()
        super().__init__(
            placeholder_function(name, module, f"Container task {name}.", "ContainerTask"),
            settings,
            name=name,
            interface=interface,
            docs=docs if docs is not None else "",
            deprecated=deprecated,
        )

    # ---- identity: the container description is the task's code
    def container_spec(self) -> dict[str, Any]:
        return {
            "image": self.image_ref,
            "command": list(self.command),
            "arguments": list(self.arguments),
            "input_data_dir": self.input_data_dir,
            "output_data_dir": self.output_data_dir,
            "metadata_format": self.metadata_format.value,
            "io_strategy": None if self.io_strategy is None else repr(self.io_strategy),
            "local_logs": self.local_logs,
        }

    @property
    def source(self) -> str:
        return json.dumps(self.container_spec(), sort_keys=True)

    def to_spec(self) -> dict[str, Any]:
        body = super().to_spec()
        body.pop("version", None)
        body["container"] = self.container_spec()
        body["version"] = content_version(body)
        return body

    # ---- running
    def invoke(self, kwargs: dict[str, Any]) -> Any:
        probe = container_runtime()
        if probe.executable is None or probe.runtime is None:
            raise ContainerRuntimeError(self.name, probe)
        workdir = current_context().working_directory
        types = self.interface.input_types
        mounts = []
        if self.input_data_dir is not None:
            host_in = os.path.join(workdir, "inputs")
            write_inputs(host_in, types, kwargs, self.input_data_dir, self.metadata_format)
            mounts.append((host_in, self.input_data_dir))
        host_out = os.path.join(workdir, "outputs")
        if self.output_data_dir is not None:
            os.makedirs(host_out)
            os.chmod(host_out, 0o777)  # the image may run as any user
            mounts.append((host_out, self.output_data_dir))
        values = command_values(types, kwargs, self.input_data_dir)
        limits = self.settings.limits.canonical() if self.settings.limits is not None else {}
        requests = self.settings.requests.canonical() if self.settings.requests is not None else {}
        container_name = f"plait-{re.sub(r'[^a-zA-Z0-9_.-]', '-', self.name)[:40]}-{uuid.uuid4().hex[:8]}"
        argv = run_argv(
            probe.runtime,
            probe.executable,
            self.image_ref,
            render_args(self.command, values),
            render_args(self.arguments, values),
            container_name=container_name,
            mounts=mounts,
            env={k: os.environ.get(k, v) for k, v in self.settings.environment.items()},
            cpus=limits.get("cpu"),
            memory_bytes=int(limits["mem"]) if "mem" in limits else None,
            gpus=int(limits.get("gpu") or requests.get("gpu") or 0),
        )
        show = self.local_logs
        code, tail = stream_process(
            argv,
            cwd=workdir,
            stdout=sys.stdout if show else None,
            stderr=sys.stderr if show else None,
            on_abort=lambda: _remove_container(probe.executable or "", container_name),
        )
        if code != 0:
            raise ExitCodeError(
                "container task", self.name, f"its container ({self.image_ref})", code, tail,
                hint=_exit_hint(code),
            )
        if self.output_data_dir is None:
            return None
        outputs = read_outputs(self.name, host_out, self.interface.outputs, self.output_data_dir)
        values_out = [outputs[n] for n in self.interface.outputs]
        if not values_out:
            return None
        return values_out[0] if len(values_out) == 1 else tuple(values_out)


def _remove_container(executable: str, name: str) -> None:
    """Stop a container whose task was interrupted (the client's death does not)."""
    try:
        subprocess.run(
            [executable, "rm", "--force", name], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        pass
