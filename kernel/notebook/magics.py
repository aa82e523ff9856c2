"""IPython magics: `%%task`, `%%dynamic`, `%%workflow` and `%plait dag|run`.

Load with `%load_ext plait`. The magics parse their line, then call the same
API a module would: a `%%task` cell is the `@plait.task` decorator applied to
the one function the cell defines; `%plait run` is the local engine with a
progress widget as its observer. Errors that are the user's to fix show as
one message and the cell line that caused it (`plait.notebook.tracebacks`).

Remote commands (`%plait launch`, `executions`, `logs`, `outputs`) live in
`plait.notebook.remote_magics`, over the backend client `plait.remote`; `%plait artifacts`
in `plait.notebook.artifact_magics`; `%plait debug` in `plait.notebook.debug_magics`;
`%plait dashboard` in `plait.notebook.dashboard_magics`.
"""

from __future__ import annotations

import shlex
from typing import Any

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from ..errors import PlaitError
from ..sdk.entity import Entity
from .cells import CellError, function_source, parse_cell, parse_options, single_function
from .commands import RUN, lookup, note_redefined, parse_line, read_inputs, warn_stale
from .tracebacks import running_cell, shorten

USAGE = """\
%plait dag WF                     draw the DAG of a workflow (or task, launch plan)
%plait run [OPTIONS] WF --a 1 ... run locally with live per-node progress; returns the outputs
    options (before WF): --out NAME  also bind the outputs to NAME
                         --overwrite-cache  --max-parallelism N  --name EXEC  --env K=V
                         --no-progress  print a text summary instead of the widget
%plait rerun [EXECUTION] --from NODE [--from NODE] [--input NAME=VALUE] [--out NAME] [--no-progress]
                                  run a local execution again from those nodes, reusing the
                                  outputs of the others (EXECUTION: a variable holding one;
                                  the kernel's last local run when omitted)
%plait rerun --remote ID --from NODE [--input NAME=VALUE] [--wait] [--out NAME]
                                  the same for an execution on the backend
%plait launch WF --a 1 [--wait] [--out NAME]
                                  run on the plait backend: live node status and logs;
                                  --wait returns the outputs (more: %plait launch --help)
%plait executions [WF]            recent executions on the backend
%plait logs EXEC [NODE]           a node's log (every node's without NODE)
%plait outputs EXEC               the outputs of an execution, by name
%plait artifacts [NAME] [--partition K=V] [--remote] [--limit N]
                                  artifacts, or the latest versions of NAME with their
                                  partitions (local runs'; --remote: the backend's)
%plait artifacts NAME --load VERSION|latest --out VAR
                                  load a version's value into the variable VAR
%plait debug EXEC NODE [--name N] open a browser workspace (VS Code) on a failed node of
                                  the backend, with its code, inputs and a debug script
%plait dashboard NOTEBOOK [--port P]
                                  preview NOTEBOOK as a Panel dashboard (a link); --stop ends it
Cell magics: %%task [options], %%dynamic [options], %%workflow [options]
"""


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(PlaitMagics)


def unload_ipython_extension(ipython: Any) -> None:  # pragma: no cover - IPython hook
    pass


@magics_class
class PlaitMagics(Magics):
    """The plait magics; each method parses and delegates."""

    @cell_magic
    def task(self, line: str, cell: str) -> None:
        """Make the function in this cell a task: `%%task --cache --retries 2 ...`."""
        self._define("task", line, cell)

    @cell_magic
    def dynamic(self, line: str, cell: str) -> None:
        """Make the function in this cell a dynamic workflow (options as `%%task`)."""
        self._define("dynamic", line, cell)

    @cell_magic
    def workflow(self, line: str, cell: str) -> None:
        """Make the function in this cell a workflow: `%%workflow [--failure-policy ...]`."""
        self._define("workflow", line, cell)

    @line_magic
    def plait(self, line: str) -> Any:
        """`%plait dag WF`, `%plait run WF --a 1`; `%plait help` lists every command."""
        try:
            argv = shlex.split(line)
        except ValueError as exc:
            raise shorten(CellError(f"%plait: cannot read the line ({exc}); check the quotes"), self.shell) from None
        if not argv or argv[0] in ("help", "-h", "--help"):
            print(USAGE)
            return None
        command, args = argv[0], argv[1:]
        handler = _COMMANDS.get(command)
        if handler is None:
            err = CellError(f"%plait has no command {command!r}; commands: {', '.join(_COMMANDS)}")
            raise shorten(err, self.shell) from None
        try:
            return handler(self.shell, args)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - re-raised, shortened for display
            raise shorten(exc, self.shell) from None

    # ------------------------------------------------------------ cells

    def _define(self, kind: str, line: str, cell: str) -> None:
        shell: Any = self.shell
        source = f"# %%{kind} {line}".rstrip() + "\n" + cell
        filename = shell.compile.cache(source, running_cell(shell), raw_code=source)
        try:
            entity, name, previous = define(kind, line, source, filename, shell)
        except KeyboardInterrupt:
            raise
        except CellError as exc:
            raise shorten(exc, shell, (filename, exc.line or 1)) from None
        except BaseException as exc:  # noqa: BLE001 - re-raised, shortened for display
            raise shorten(exc, shell) from None
        shell.user_ns[name] = entity
        note_redefined(name, previous, shell.user_ns)


def define(kind: str, line: str, source: str, filename: str, shell: Any) -> tuple[Any, str, Any]:
    """Run a plait cell (`source`: the magic line as a comment, then the body).

    Returns the new entity, its name and what the name was bound to before.
    """
    options = parse_options(kind, line)
    tree = parse_cell(kind, source, offset=0)
    fn_node = single_function(kind, tree, offset=0)
    try:
        code = compile(tree, filename, "exec", flags=getattr(shell.compile, "flags", 0), dont_inherit=True)
    except SyntaxError as exc:  # what the parser lets through, e.g. `return` outside a function
        raise CellError(f"%%{kind} cell has invalid syntax: {exc.msg} (line {exc.lineno})",
                        line=exc.lineno) from None
    previous = shell.user_ns.get(fn_node.name)
    exec(code, shell.user_global_ns, shell.user_ns)  # noqa: S102 - the user's own cell
    fn = shell.user_ns[fn_node.name]
    try:
        if isinstance(fn, Entity):
            raise CellError(
                f"%%{kind}: `{fn_node.name}` is already a {fn.kind} (decorated with "
                f"@plait.{fn.kind}?); remove the decorator or the %%{kind} line", line=fn_node.lineno,
            )
        fn.__plait_source__ = function_source(source, fn_node)
        entity = _DECORATORS[kind]()(**options.values(shell.user_ns))(fn)
    except BaseException:
        # A cell that fails leaves the name as it was, not bound to the bare function.
        if previous is None:
            shell.user_ns.pop(fn_node.name, None)
        else:
            shell.user_ns[fn_node.name] = previous
        raise
    return entity, fn_node.name, previous


def _decorator(module: str, name: str) -> Any:
    def get() -> Any:
        import importlib

        return getattr(importlib.import_module(f"plait.{module}"), name)

    return get


_DECORATORS = {
    "task": _decorator("sdk.tasks", "task"),
    "dynamic": _decorator("sdk.dynamic", "dynamic"),
    "workflow": _decorator("sdk.workflows", "workflow"),
}


# ---------------------------------------------------------------- commands


def cmd_dag(shell: Any, args: list[str]) -> None:
    from IPython.display import display

    from ..model.dag import MIME, text_of
    from .dag import dag_of
    from .svg import render

    if len(args) != 1:
        raise CellError("usage: %plait dag WF (a workflow, launch plan or task)")
    entity = lookup(shell, args[0])
    warn_stale(shell, args[0], entity)
    dag = dag_of(entity)
    display({MIME: dag, "image/svg+xml": render(dag), "text/plain": text_of(dag)}, raw=True)


def cmd_run(shell: Any, args: list[str]) -> Any:
    from ..run.engine import execute
    from ..run.progress import ProgressModel, planned_rows

    opts, name, entity, words = parse_line(RUN, shell, args)
    inputs = read_inputs(RUN, name, entity, words)
    if inputs is None:  # its help was asked for
        return None
    warn_stale(shell, name, entity)
    model = ProgressModel(entity.short_name, planned_rows(entity))
    result = _with_progress(model, opts.progress, lambda: execute(
        entity, inputs, observer=model.observe, overwrite_cache=opts.overwrite_cache,
        max_parallelism=opts.max_parallelism, name=opts.name, envs=opts.envs,
    ))
    value = result.native()
    if opts.out:
        shell.user_ns[opts.out] = value
    return value


RERUN_USAGE = ("usage: %plait rerun [EXECUTION] --from NODE [--from NODE ...] [--input NAME=VALUE ...] "
               "[--out NAME] [--no-progress]")


def cmd_rerun(shell: Any, args: list[str]) -> Any:
    """`%plait rerun`: `plait.rerun` of a local execution, with live progress (reused nodes shown);
    with `--remote ID`, a re-run of that backend execution (`remote_magics.rerun`)."""
    if any(a == "--remote" or a.startswith("--remote=") for a in args):
        return _remote("rerun")(shell, args)
    from ..run.progress import ProgressModel, planned_rows
    from ..run.reruns import rerun

    target: str | None = None
    chosen: list[str] = []
    words: list[tuple[str, str]] = []
    out: str | None = None
    progress = True
    i = 0
    while i < len(args):
        key, eq, value = args[i][2:].partition("=") if args[i].startswith("--") else ("", "", args[i])
        if key in ("from", "input", "out"):
            if not eq:
                if i + 1 >= len(args):
                    raise CellError(f"%plait rerun --{key} needs a value; {RERUN_USAGE}")
                i += 1
                value = args[i]
            if key == "from":
                chosen.append(value)
            elif key == "input":
                name, has, text = value.partition("=")
                if not has or not name:
                    raise CellError(f"%plait rerun --input expects NAME=VALUE, got {value!r}")
                words.append((name, text))
            elif not value.isidentifier():
                raise CellError(f"%plait rerun --out expects a variable name, got {value!r}")
            else:
                out = value
        elif key == "no-progress" and not eq:
            progress = False
        elif key:
            raise CellError(f"%plait rerun: unknown option --{key}; {RERUN_USAGE}")
        elif target is None:
            target = value
        else:
            raise CellError(f"%plait rerun: unexpected {value!r} (one EXECUTION at most); {RERUN_USAGE}")
        i += 1
    execution = _local_execution(shell, target)  # (`--remote ID` goes to remote_magics.rerun)
    entity = execution.entity
    inputs = _input_overrides(entity, words)
    model = ProgressModel(f"{entity.short_name} (re-run of {execution.id})", planned_rows(entity))
    result = _with_progress(model, progress, lambda: rerun(execution, from_nodes=chosen, inputs=inputs,
                                                          observer=model.observe))
    value = result.native()
    if out:
        shell.user_ns[out] = value
    return value


def _with_progress(model: Any, widget: bool, run: Any) -> Any:
    """`run()` with `model` shown live (the widget, or a text summary at the end without it);
    the model ends SUCCEEDED, FAILED or, on an interrupt, ABORTED."""
    from .progress import show_progress

    view = show_progress(model) if widget else None
    outcome = "FAILED"
    try:
        result = run()
        outcome = "SUCCEEDED"
    except KeyboardInterrupt:
        outcome = "ABORTED"
        raise
    finally:
        model.finish(outcome)
        if view is not None:
            view.close()
        else:
            print(model.text())
    return result


def _input_overrides(entity: Any, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`--input NAME=VALUE` values, each read by its input's declared type as `plait run` reads it."""
    from ..typesys import describe
    from ..typesys.text import parse_value

    declared = entity.interface.inputs
    values: dict[str, Any] = {}
    for name, text in pairs:
        if name not in declared:
            raise CellError(f"%plait rerun --input: `{entity.name}` has no input {name!r}; its inputs: "
                            f"{', '.join(declared) or 'none'}")
        tp = declared[name].type
        try:
            values[name] = parse_value(tp, text)
        except (ValueError, TypeError, PlaitError) as exc:
            raise CellError(f"%plait rerun --input {name} expects {describe(tp)}, got {text!r}: {exc}") from None
    return values


def _local_execution(shell: Any, name: str | None) -> Any:
    """The local execution variable `name` holds (or its error carries); the last local run without one."""
    from ..run.engine import LocalExecution, last_execution

    if name is None:
        found = last_execution()
        if found is None:
            raise CellError("%plait rerun: this kernel has made no local run yet; run a workflow first "
                            "(%plait run WF ...), or name a variable holding a local execution")
        return found
    if not name.isidentifier() or name not in shell.user_ns:
        raise CellError(f"%plait rerun: `{name}` is not defined; name a variable holding a local execution")
    value = shell.user_ns[name]
    value = getattr(value, "execution", value) if isinstance(value, BaseException) else value
    if not isinstance(value, LocalExecution):
        raise CellError(
            f"%plait rerun: `{name}` is a {type(value).__name__}, not a local execution; expected what a "
            "local run returns (or a failed run's error); omit it to re-run the kernel's last local run"
        )
    return value


def cmd_artifacts(shell: Any, args: list[str]) -> Any:
    from .artifact_magics import artifacts

    return artifacts(shell, args)


def cmd_debug(shell: Any, args: list[str]) -> Any:
    from .debug_magics import debug

    return debug(shell, args)


def cmd_dashboard(shell: Any, args: list[str]) -> Any:
    from .dashboard_magics import dashboard

    return dashboard(shell, args)


def _remote(command: str) -> Any:
    def run(shell: Any, args: list[str]) -> Any:
        from . import remote_magics as remote

        return getattr(remote, command)(shell, args)

    return run


_COMMANDS = {
    "dag": cmd_dag,
    "run": cmd_run,
    "rerun": cmd_rerun,
    "launch": _remote("launch"),
    "executions": _remote("executions"),
    "logs": _remote("logs"),
    "outputs": _remote("outputs"),
    "artifacts": cmd_artifacts,
    "debug": cmd_debug,
    "dashboard": cmd_dashboard,
}
