"""`ShellTask`: a bash script with typed inputs and file outputs, run like any task.

The script and every `OutputLocation` are templates. `{inputs.x}` becomes the
value of input `x` (the path, for files and directories), `{outputs.k}` the
path of output `k`, and `{ctx.working_directory}` the attempt's working
directory. As in Python's `str.format`, which Flyte scripts are written for,
`{{` and `}}` stand for literal braces; any other brace (`${HOME}`,
`{a,b}`) passes through unchanged. Values are not quoted: write
`"{inputs.x}"` where a value may hold spaces.

The script runs with `shell -c` in the attempt's working directory, so a
relative output location lands there and the engine keeps the file after the
directory is removed. Its stdout and stderr stream to the caller's as they
are written. A non-zero exit raises `ExitCodeError`, which retries spend, as
in Flyte. This module also holds the process runner that `ContainerTask`
uses for `docker run`.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from ..config.settings import TaskSettings, build_settings
from ..errors import FlyteRecoverableException, UserError
from ..model.keys import content_version
from ..sdk.context import current_context
from ..sdk.interface import interface_from_types
from ..sdk.tasks import _TASK_PARAMS, TASK_ONLY_PARAMS, PythonFunctionTask, TaskMetadata
from ..typesys import describe, strip_annotated

# ------------------------------------------------------------------ templates

# `{{` / `}}` escapes, then `{inputs.x}`, `{outputs.k}`, `{ctx.attr}` with an
# optional format spec (`{inputs.n:03d}`), as str.format would read them.
_TEMPLATE = re.compile(r"\{\{|\}\}|\{(inputs|outputs|ctx)\.([A-Za-z_]\w*)(?::([^{}]*))?\}")
_CTX_FIELDS = ("working_directory", "execution_id", "task_name", "attempt_number", "node_id")


def template_refs(text: str) -> list[tuple[str, str]]:
    """The `(namespace, name)` pairs a template refers to, in order."""
    return [(m.group(1), m.group(2)) for m in _TEMPLATE.finditer(text) if m.group(1)]


def value_text(value: Any, spec: str = "") -> str:
    """How a value reads inside a script: paths for files, ISO text for datetimes."""
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    if isinstance(value, (_dt.datetime, _dt.date)) and not spec:
        return value.isoformat()
    return format(value, spec)


def render(text: str, values: Mapping[str, Mapping[str, Any]]) -> str:
    """Fill a template; `values` maps 'inputs' / 'outputs' / 'ctx' to name -> value.

    Names must have been checked with `check_template`; a missing one is a bug.
    """

    def fill(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        space, name, spec = m.group(1), m.group(2), m.group(3) or ""
        return value_text(values[space][name], spec)

    return _TEMPLATE.sub(fill, text)


def check_template(owner: str, where: str, text: str, inputs: Iterable[str], outputs: Iterable[str] | None) -> None:
    """Every `{inputs.x}` / `{outputs.k}` must name a declared input / output.

    `outputs=None` means the template may not refer to outputs at all (an
    output location is computed from the inputs only).
    """
    inputs, known_outputs = list(inputs), list(outputs or ())
    for space, name in template_refs(text):
        if space == "inputs" and name not in inputs:
            raise UserError(
                f"{owner}: {where} refers to `{{inputs.{name}}}`, but the task has no input "
                f"`{name}`; its inputs are {inputs or 'none'}. Declare it in "
                f"inputs=kwtypes({name}=...) or fix the name"
            )
        if space == "outputs" and outputs is None:
            raise UserError(
                f"{owner}: {where} refers to `{{outputs.{name}}}`; an output location may "
                "refer to inputs only"
            )
        if space == "outputs" and name not in known_outputs:
            raise UserError(
                f"{owner}: {where} refers to `{{outputs.{name}}}`, but no OutputLocation has "
                f"var `{name}`; the outputs are {known_outputs or 'none'}"
            )
        if space == "ctx" and name not in _CTX_FIELDS:
            raise UserError(
                f"{owner}: {where} refers to `{{ctx.{name}}}`; scripts may use "
                f"{['ctx.' + f for f in _CTX_FIELDS]}"
            )


# ------------------------------------------------------------------- settings

_SETTING_KEYS = frozenset(_TASK_PARAMS) - set(TASK_ONLY_PARAMS)
_METADATA_KEYS = frozenset(
    ("cache", "cache_serialize", "cache_version", "cache_ignore_input_vars", "interruptible", "retries", "timeout")
)


def settings_from(owner: str, metadata: TaskMetadata | None, params: dict[str, Any]) -> TaskSettings:
    """Task settings for tasks that are not decorated functions.

    Cache, retries and timeout come from `metadata=TaskMetadata(...)` (as in
    Flyte) or as plain arguments, never both; resources, environment and the
    other `@task` parameters are plain arguments.
    """
    params = {k: v for k, v in params.items() if v is not None}
    unknown = sorted(set(params) - _SETTING_KEYS)
    if unknown:
        raise UserError(
            f"{owner}: unknown parameter(s) {unknown}; known: "
            f"{sorted(_SETTING_KEYS | {'metadata', 'docs', 'deprecated'})}"
        )
    if metadata is None:
        return build_settings(owner, **params)
    if not isinstance(metadata, TaskMetadata):
        raise UserError(
            f"{owner}: metadata expects plait.TaskMetadata(cache=..., retries=...), got "
            f"{type(metadata).__name__}"
        )
    clash = sorted(set(params) & _METADATA_KEYS)
    if clash:
        raise UserError(
            f"{owner}: {clash} given both as argument(s) and through metadata=TaskMetadata(...); "
            "set each in one place"
        )
    return metadata.settings(owner, **params)


def caller_module(depth: int = 2) -> tuple[str, str | None]:
    """The module name and file of the code that defined a task (for code references)."""
    try:
        frame = sys._getframe(depth)
    except ValueError:  # pragma: no cover - shallow stacks only
        return "__main__", None
    while frame is not None and frame.f_globals.get("__name__", "").startswith(__name__.rsplit(".", 1)[0] + "."):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:  # pragma: no cover
        return "__main__", None
    return frame.f_globals.get("__name__", "__main__"), frame.f_globals.get("__file__")


def placeholder_function(name: str, module: str, doc: str, kind: str) -> Callable[..., Any]:
    """The function a non-function task hands to PythonFunctionTask for its identity."""

    def run(**kwargs: Any) -> Any:
        raise UserError(f"{kind} `{name}` runs through the task itself: call it, not its function")

    run.__name__ = run.__qualname__ = re.sub(r"\W", "_", name) or "task"
    run.__module__ = module
    run.__doc__ = doc
    return run


# --------------------------------------------------------------- processes


class ExitCodeError(FlyteRecoverableException, UserError):
    """A script or a container exited with a non-zero code.

    It is recoverable, as in Flyte: a task with `retries` runs again.
    """

    def __init__(self, kind: str, task: str, what: str, exit_code: int, stderr_tail: str, hint: str = "") -> None:
        self._args = (kind, task, what, exit_code, stderr_tail, hint)
        self.task = task
        self.exit_code = exit_code
        self.stderr_tail = stderr_tail
        how = f"exited with code {exit_code}"
        if exit_code < 0:
            try:
                how = f"was killed by signal {signal.Signals(-exit_code).name} (code {exit_code})"
            except ValueError:
                pass
        message = f"{kind} `{task}` failed: {what} {how}"
        if stderr_tail.strip():
            message += ". Last lines of stderr:\n" + textwrap.indent(stderr_tail.rstrip("\n"), "    ")
        else:
            message += "; it wrote nothing to stderr."
        if hint:
            message += f"\n{hint}"
        super().__init__(message)

    def __reduce__(self) -> Any:  # travels between processes (Dask workers)
        return (type(self), self._args, self.__dict__)


_TAIL_CHARS = 16384
_TAIL_LINES = 20


class _Pump(threading.Thread):
    """Copies a child's pipe to a text stream as bytes arrive; keeps the last lines."""

    def __init__(self, pipe: IO[bytes], sink: IO[str] | None, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._pipe = pipe
        self._sink = sink
        self._tail = ""

    def run(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        read = getattr(self._pipe, "read1", self._pipe.read)
        try:
            while chunk := read(65536):
                self._emit(decoder.decode(chunk))
            self._emit(decoder.decode(b"", final=True))
        except (OSError, ValueError):  # pipe closed under us: the run is over
            pass
        finally:
            self._pipe.close()

    def _emit(self, text: str) -> None:
        if not text:
            return
        self._tail = (self._tail + text)[-_TAIL_CHARS:]
        if self._sink is not None:
            try:
                self._sink.write(text)
                self._sink.flush()
            except (OSError, ValueError):  # a closed stream: keep draining the pipe
                self._sink = None

    def tail(self, lines: int = _TAIL_LINES) -> str:
        return "\n".join(self._tail.splitlines()[-lines:])


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    """Has the child exited? Asked without reaping it, so its group id stays ours."""
    if hasattr(os, "waitid"):
        try:
            return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:  # someone else reaped it
            return True
    return proc.poll() is not None  # pragma: no cover - platforms without waitid


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if hasattr(os, "killpg"):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    else:  # pragma: no cover - Windows
        proc.kill()


def stream_process(
    argv: list[str],
    *,
    cwd: str,
    stdout: IO[str] | None,
    stderr: IO[str] | None,
    on_abort: Callable[[], None] | None = None,
) -> tuple[int, str]:
    """Run `argv` to the end, copying its output to `stdout` / `stderr` (None: drop it).

    Returns the exit code and the last lines of its stderr. The child runs in
    its own process group; when it exits, or when the caller is interrupted (a
    task timeout, Ctrl-C), the whole group is killed, as when a container
    ends. `on_abort` runs first on interruption (to stop a container).
    """
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    pumps = (_Pump(proc.stdout, stdout, "plait-stdout"), _Pump(proc.stderr, stderr, "plait-stderr"))
    for pump in pumps:
        pump.start()
    try:
        delay = 0.001
        while not _exited(proc):
            time.sleep(delay)  # short sleeps let a timeout's exception reach this thread
            delay = min(delay * 2, 0.05)
    except BaseException:
        try:
            if on_abort is not None:
                on_abort()
        finally:
            _kill_group(proc)
            proc.wait()
        raise
    _kill_group(proc)  # background jobs the script left behind end with it
    code = proc.wait()
    for pump in pumps:
        pump.join(timeout=5)
    return code, pumps[1].tail()


# ------------------------------------------------------------------ ShellTask


@dataclass(frozen=True)
class OutputLocation:
    """Where a shell task leaves output `var`: a template that may use `{inputs.x}`.

    A relative location is inside the attempt's working directory.
    """

    var: str
    var_type: Any
    location: str | os.PathLike[str]


def _file_kind(tp: Any) -> str | None:
    base, _ = strip_annotated(tp)
    kind = getattr(base, "__plait_file_kind__", None)
    return kind if isinstance(kind, str) else None


def _check_locations(owner: str, output_locs: Any, inputs: list[str]) -> list[OutputLocation]:
    locs = list(output_locs or [])
    seen: set[str] = set()
    for loc in locs:
        if not isinstance(loc, OutputLocation):
            raise UserError(
                f"{owner}: output_locs expects OutputLocation(var=..., var_type=FlyteFile, "
                f"location=...) items, got {type(loc).__name__}"
            )
        if not isinstance(loc.var, str) or not loc.var.isidentifier():
            raise UserError(f"{owner}: OutputLocation var must be an identifier, got {loc.var!r}")
        if loc.var in seen:
            raise UserError(f"{owner}: two OutputLocations are named `{loc.var}`; names must differ")
        seen.add(loc.var)
        if _file_kind(loc.var_type) is None:
            raise UserError(
                f"{owner}: output `{loc.var}` has var_type `{describe(loc.var_type)}`, but a shell "
                "task's outputs are files it leaves on disk: use FlyteFile or FlyteDirectory "
                "(write a number or text into a FlyteFile and read it in the next task)"
            )
        if not isinstance(loc.location, (str, os.PathLike)) or not os.fspath(loc.location):
            raise UserError(f"{owner}: output `{loc.var}` needs a location, got {loc.location!r}")
        check_template(owner, f"the location of output `{loc.var}`", os.fspath(loc.location), inputs, None)
    return locs


def _read_script(owner: str, script: str | None, script_file: str | os.PathLike[str] | None, base_dir: str | None) -> tuple[str, str | None]:
    if script is not None and script_file is not None:
        raise UserError(f"{owner}: pass either script=... or script_file=..., not both")
    if script is None and script_file is None:
        raise UserError(f"{owner}: pass the bash script as script=\"...\" or script_file=\"run.sh\"")
    if script is not None:
        if not isinstance(script, str):
            raise UserError(f"{owner}: script expects text, got {type(script).__name__}")
        return script, None
    path = os.fspath(script_file)  # type: ignore[arg-type]
    candidates = [os.path.abspath(path)]
    if not os.path.isabs(path) and base_dir:
        candidates.append(os.path.join(base_dir, path))
    for candidate in candidates:
        if os.path.isfile(candidate):
            with open(candidate, encoding="utf-8") as fh:
                return fh.read(), candidate
    raise UserError(
        f"{owner}: script_file {path!r} was not found (looked in {candidates}); give a path "
        "relative to the working directory or to the file that defines the task"
    )


def _prepare(script: str) -> str:
    """Dedent a script written inside an indented triple-quoted string."""
    return textwrap.dedent(script).strip("\n") + "\n"


# Linux refuses a single argument longer than 128 KiB; longer scripts go through a file.
_MAX_INLINE_SCRIPT = 100_000


class ShellTask(PythonFunctionTask):
    """A bash script with typed inputs and FlyteFile / FlyteDirectory outputs.

    `ShellTask(name="tar_it", script="tar -czf {outputs.t} {inputs.d}",
    inputs=kwtypes(d=FlyteDirectory), output_locs=[OutputLocation("t",
    FlyteFile, "{inputs.d}.tar.gz")])` is called like any task; retries,
    timeout, cache and resources are the `@task` parameters, or come from
    `metadata=TaskMetadata(...)`.
    """

    task_type = "shell"

    def __init__(
        self,
        name: str,
        debug: bool = False,
        script: str | None = None,
        script_file: str | os.PathLike[str] | None = None,
        task_config: Any = None,
        shell: str = "/bin/bash",
        inputs: Mapping[str, Any] | None = None,
        output_locs: list[OutputLocation] | None = None,
        metadata: TaskMetadata | None = None,
        **params: Any,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise UserError(f"ShellTask needs a name, e.g. ShellTask(name=\"tar_data\", ...), got {name!r}")
        owner = f"ShellTask `{name}`"
        module, module_file = caller_module()
        base_dir = os.path.dirname(module_file) if module_file else None
        text, script_path = _read_script(owner, script, script_file, base_dir)
        input_names = list(inputs or {})
        locs = _check_locations(owner, output_locs, input_names)
        check_template(owner, "the script", text, input_names, [loc.var for loc in locs])
        if not isinstance(shell, str) or not shell:
            raise UserError(f"{owner}: shell expects a program such as '/bin/bash', got {shell!r}")
        docs = params.pop("docs", None)
        deprecated = params.pop("deprecated", "") or (metadata.deprecated if metadata else "")
        enable_deck = params.pop("enable_deck", False)
        settings = settings_from(owner, metadata, {"task_config": task_config, **params})
        self.script = text
        self.script_file = script_path
        self.debug = debug
        self.shell = shell
        self.output_locs = locs
        super().__init__(
            placeholder_function(name, module, f"Shell task {name}.", "ShellTask"),
            settings,
            name=name,
            interface=interface_from_types(dict(inputs or {}), {loc.var: loc.var_type for loc in locs}),
            docs=docs if docs is not None else "",
            deprecated=deprecated,
            enable_deck=enable_deck,
        )
        self._base_dir = base_dir

    # ---- identity: the script is the task's code
    @property
    def source(self) -> str:
        return json.dumps(
            {
                "script": self.script,
                "shell": self.shell,
                "output_locs": [[loc.var, describe(loc.var_type), os.fspath(loc.location)] for loc in self.output_locs],
            },
            sort_keys=True,
        )

    def to_spec(self) -> dict[str, Any]:
        body = super().to_spec()
        body.pop("version", None)
        body["shell"] = {
            "script": self.script,
            "script_file": self.script_file,
            "shell": self.shell,
            "debug": self.debug,
            "output_locs": [
                {"var": loc.var, "location": os.fspath(loc.location)} for loc in self.output_locs
            ],
        }
        body["version"] = content_version(body)
        return body

    # ---- running
    def _current_script(self) -> str:
        """The script; a script_file is read again so that edits apply, as in Flyte."""
        if self.script_file is None:
            return self.script
        owner = f"ShellTask `{self.name}`"
        text, _ = _read_script(owner, None, self.script_file, self._base_dir)
        check_template(owner, "the script", text, self.interface.inputs, [loc.var for loc in self.output_locs])
        return text

    def output_paths(self, inputs: Mapping[str, Any], workdir: str, ctx: Mapping[str, Any]) -> dict[str, str]:
        """Where each output will be: rendered locations, relative ones under `workdir`."""
        paths = {}
        for loc in self.output_locs:
            path = os.path.expanduser(render(os.fspath(loc.location), {"inputs": inputs, "ctx": ctx}))
            if not os.path.isabs(path):
                path = os.path.join(workdir, path)
                os.makedirs(os.path.dirname(path), exist_ok=True)
            paths[loc.var] = path
        return paths

    def invoke(self, kwargs: dict[str, Any]) -> Any:
        ctx = current_context()
        workdir = ctx.working_directory
        ctx_values = {f: getattr(ctx, f) for f in _CTX_FIELDS}
        paths = self.output_paths(kwargs, workdir, ctx_values)
        script = render(
            _prepare(self._current_script()),
            {"inputs": kwargs, "outputs": paths, "ctx": ctx_values},
        )
        out, err = sys.stdout, sys.stderr
        if self.debug:
            rule = "=" * 60
            out.write(f"{rule}\nshell task `{self.name}` runs in {workdir}:\n{script}{rule}\n")
            out.flush()
        try:
            with self._argv(script) as argv:
                code, tail = stream_process(argv, cwd=workdir, stdout=out, stderr=err)
        except (FileNotFoundError, PermissionError) as exc:
            raise UserError(
                f"shell task `{self.name}`: cannot start the shell {self.shell!r} ({exc.strerror}); "
                "install it or pass shell='/bin/sh'"
            ) from None
        if code != 0:
            raise ExitCodeError(
                "shell task", self.name, "its script", code, tail,
                hint="Run it with debug=True to see the script as rendered.",
            )
        results = []
        for loc in self.output_locs:
            path = paths[loc.var]
            kind = _file_kind(loc.var_type)
            found = os.path.isdir(path) if kind == "directory" else os.path.isfile(path)
            if not found:
                what = "directory" if kind == "directory" else "file"
                raise UserError(
                    f"shell task `{self.name}`: the script succeeded but left no {what} for output "
                    f"`{loc.var}` at {path}; write it there (the script sees that path as "
                    f"{{outputs.{loc.var}}})"
                )
            base, _ = strip_annotated(loc.var_type)
            results.append(base(path))
        if not results:
            return None
        return results[0] if len(results) == 1 else tuple(results)

    def _argv(self, script: str) -> _ScriptArgv:
        return _ScriptArgv(self.shell, self.name, script)


class _ScriptArgv:
    """`[shell, -c, script, name]`, or a temporary script file for very long scripts."""

    def __init__(self, shell: str, name: str, script: str) -> None:
        self.shell, self.name, self.script = shell, name, script
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> list[str]:
        if len(self.script.encode()) <= _MAX_INLINE_SCRIPT:
            # the last argument becomes $0, so errors read "<task>: line 3: ..."
            return [self.shell, "-c", self.script, self.name]
        self._dir = tempfile.TemporaryDirectory(prefix="plait-script-")
        path = os.path.join(self._dir.name, re.sub(r"[^\w.-]", "_", self.name) + ".sh")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.script)
        return [self.shell, path]

    def __exit__(self, *exc: object) -> None:
        if self._dir is not None:
            self._dir.cleanup()
