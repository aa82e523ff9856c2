"""The `plait` command line: run tasks, workflows and launch plans; manage the local cache."""

from __future__ import annotations

import datetime as _dt
import enum
import importlib.util
import json
import os
import sys
import threading
import time
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from ..errors import PlaitError, UserError
from ..model.vocab import COMPLETED, FAILURES

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class CliInputError(click.UsageError):
    """A bad input value: one line, no traceback."""


# ------------------------------------------------------------------ loading


def load_module(path: str) -> ModuleType:
    file = Path(path)
    if not file.exists():
        raise click.BadParameter(f"no such file: {path}", param_hint="FILE")
    if file.suffix == ".ipynb":
        raise click.BadParameter(
            f"{path} is a notebook; export it first with `plait export {path} -o module.py`",
            param_hint="FILE",
        )
    name = file.stem
    folder = str(file.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise click.BadParameter(f"cannot import {path}", param_hint="FILE")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def entities_of(module: ModuleType) -> dict[str, Any]:
    from ..sdk.entity import Entity

    return {k: v for k, v in vars(module).items() if isinstance(v, Entity) and not k.startswith("_")}


def find_entity(module: ModuleType, name: str, path: str) -> Any:
    found = entities_of(module)
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise click.BadParameter(
            f"`{name}` is not a task, workflow or launch plan in {path}; found: {known}",
            param_hint="ENTITY",
        )
    return found[name]


# ------------------------------------------------------------------ parsing

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def parse_value(tp: Any, text: str) -> Any:
    """Parse command-line text into a value of annotation `tp`."""
    from ..config.settings import parse_timeout
    from ..typesys import NoneType, checker, from_literal, strip_annotated

    base, _ = strip_annotated(tp)
    origin = typing.get_origin(base)
    if origin is typing.Union or type(base).__name__ == "UnionType":
        args = typing.get_args(base)
        if NoneType in args and text.lower() in ("none", "null", ""):
            return None
        errors = []
        for a in args:
            if a is NoneType:
                continue
            try:
                return parse_value(a, text)
            except (ValueError, TypeError) as exc:
                errors.append(exc)
        raise ValueError(f"not any of {[getattr(a, '__name__', str(a)) for a in args]}")
    if base is bool:
        low = text.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError("not a boolean (use true or false)")
    if base is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError("not a whole number") from None
    if base is float:
        try:
            return float(text)
        except ValueError:
            raise ValueError("not a number") from None
    if base is str:
        return text
    if base is _dt.datetime:
        if text.lower() == "now":
            return _dt.datetime.now(_dt.timezone.utc)
        return _dt.datetime.fromisoformat(text)
    if base is _dt.date:
        return _dt.date.fromisoformat(text)
    if base is _dt.timedelta:
        seconds = parse_timeout("input", text)
        return _dt.timedelta(seconds=seconds or 0)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        try:
            return base(text)
        except ValueError:
            try:
                return base[text]
            except KeyError:
                raise ValueError(f"not one of {[m.value for m in base]}") from None
    kind = getattr(base, "__plait_file_kind__", None)
    if kind is not None:
        if not os.path.exists(text):
            raise ValueError(f"no such {kind}: {text}")
        if kind == "directory" and not os.path.isdir(text):
            raise ValueError(f"not a directory: {text}")
        return base(os.path.abspath(text))
    if getattr(base, "__name__", "") == "DataFrame":
        import pandas as pd

        return pd.read_parquet(text) if text.endswith(".parquet") else pd.read_csv(text)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("not valid JSON") from None
    return checker(tp)(from_literal(tp, raw))


def parse_inputs(entity: Any, args: list[str]) -> dict[str, Any]:
    from ..typesys import describe

    inputs = entity.interface.inputs
    values: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            raise CliInputError(f"unexpected argument {arg!r}; pass inputs as --name value")
        key, eq, value = arg[2:].partition("=")
        name = key.replace("-", "_")
        if name not in inputs:
            known = ", ".join(f"--{n}" for n in inputs) or "none"
            raise CliInputError(f"`{entity.name}` has no input --{key}; its inputs: {known}")
        tp = inputs[name].type
        if not eq:
            if i + 1 < len(args) and not args[i + 1].startswith("--"):
                value = args[i + 1]
                i += 1
            elif tp is bool:
                value = "true"
            else:
                raise CliInputError(f"input --{key} needs a value ({describe(tp)})")
        try:
            values[name] = parse_value(tp, value)
        except (ValueError, TypeError, UserError) as exc:
            raise CliInputError(
                f"input --{key} expects {describe(tp)}, got {value!r}: {exc}"
            ) from None
        i += 1
    missing = [n for n, p in inputs.items() if p.required and n not in values]
    if missing:
        need = ", ".join(f"--{n} ({describe(inputs[n].type)})" for n in missing)
        raise CliInputError(f"`{entity.name}` needs input(s): {need}")
    return values


def entity_help(entity: Any) -> str:
    from ..typesys import describe

    lines = [f"{entity.kind} {entity.name}"]
    docs = getattr(entity, "docs", None) or {}
    if docs.get("short"):
        lines.append(f"  {docs['short']}")
    lines.append("")
    lines.append("Inputs:")
    for n, p in entity.interface.inputs.items():
        default = "required" if p.required else f"default: {p.default!r}"
        lines.append(f"  --{n} {describe(p.type)}  ({default})")
    if not entity.interface.inputs:
        lines.append("  (none)")
    lines.append("Outputs:")
    for n, t in entity.interface.outputs.items():
        lines.append(f"  {n}: {describe(t)}")
    if not entity.interface.outputs:
        lines.append("  (none)")
    return "\n".join(lines)


# ------------------------------------------------------------------ progress


class Progress:
    """Node counts on stderr, shown only for runs longer than a moment.

    On a terminal: one live line. Elsewhere (CI logs, pipes): a plain line at
    most once a second, so logs stay readable.
    """

    DELAY_S = 0.5
    LOG_EVERY_S = 1.0

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.phases: dict[str, str] = {}
        self.current = ""
        self._live: Any = None
        self._shown = False
        self._last_line = 0.0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self.started = time.perf_counter()

    def __enter__(self) -> Progress:
        self._timer = threading.Timer(self.DELAY_S, self._start)
        self._timer.daemon = True
        self._timer.start()
        return self

    def _text(self) -> str:
        done = sum(1 for p in self.phases.values() if p in COMPLETED)
        running = sum(1 for p in self.phases.values() if p == "RUNNING")
        failed = sum(1 for p in self.phases.values() if p in FAILURES)
        elapsed = time.perf_counter() - self.started
        text = f"{done} done, {running} running"
        if failed:
            text += f", {failed} failed"
        return f"{text}, {elapsed:.1f}s  {self.current}"

    def _start(self) -> None:
        with self._lock:
            self._shown = True
            if self.console.is_terminal:
                from rich.live import Live
                from rich.spinner import Spinner

                self._spinner = Spinner("dots", text=self._text())
                self._live = Live(self._spinner, console=self.console, transient=True, refresh_per_second=8)
                self._live.start()
            else:
                self._log()

    def _log(self) -> None:
        self._last_line = time.perf_counter()
        self.console.print(f"plait: {self._text()}")

    def observe(self, rec: Any) -> None:
        self.phases[rec.path] = rec.phase
        if rec.phase == "RUNNING":
            self.current = rec.entity
        if not self._shown:
            return
        with self._lock:
            if self._live is not None:
                self._spinner.update(text=self._text())
            elif time.perf_counter() - self._last_line >= self.LOG_EVERY_S:
                self._log()

    def __exit__(self, *exc: Any) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self._live is not None:
                self._live.stop()


# ------------------------------------------------------------------ commands


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="plait", prog_name="plait")
def main() -> None:
    """plait: typed tasks and workflows, run locally or on Dask.

    \b
    Examples:
      plait run pipeline.py training_wf --epochs 3 --lr 0.01
      plait run pipeline.py score --values '[1, 2, 3]'
      plait local-cache clear
    """


@main.command(
    "run",
    context_settings={**CONTEXT, "ignore_unknown_options": True, "allow_extra_args": True,
                      "allow_interspersed_args": False},
)
@click.argument("file")
@click.option("--overwrite-cache", is_flag=True, help="Run cached nodes again and replace their entries.")
@click.option("--max-parallelism", type=int, default=None, help="Most nodes running at once (default 16).")
@click.option("--env", "envs", multiple=True, metavar="KEY=VALUE", help="Environment variable for every task.")
@click.option("--name", "exec_name", default=None, help="Name of the execution.")
@click.option("--json", "as_json", is_flag=True, help="Print the outputs as one JSON object.")
@click.option("--verbose", is_flag=True, help="Show full tracebacks on failure.")
@click.option("--remote", is_flag=True, help="Register FILE and run ENTITY on the plait backend.")
@click.option("--project", default="default", show_default=True, help="Project (with --remote).")
@click.option("--domain", default="development", show_default=True,
              type=click.Choice(["development", "staging", "production"]), help="Domain (with --remote).")
@click.pass_context
def run_cmd(
    ctx: click.Context,
    file: str,
    overwrite_cache: bool,
    max_parallelism: int | None,
    envs: tuple[str, ...],
    exec_name: str | None,
    as_json: bool,
    verbose: bool,
    remote: bool = False,
    project: str = "default",
    domain: str = "development",
) -> None:
    """Run a task, workflow or launch plan from FILE locally, or on the backend with --remote.

    \b
    plait run [OPTIONS] FILE ENTITY [--input value ...]
    Options go before FILE; what follows ENTITY are its inputs, parsed by
    their declared types: numbers, true/false, text, JSON for lists, dicts
    and dataclasses, ISO dates, durations such as 10m, and paths for files
    and directories. `plait run FILE ENTITY --help` lists the inputs of ENTITY.
    """
    args = list(ctx.args)
    if remote:
        _run_remote(ctx, file, args, project=project, domain=domain, envs=envs,
                    overwrite_cache=overwrite_cache, max_parallelism=max_parallelism,
                    exec_name=exec_name, as_json=as_json, verbose=verbose)
        return
    module = load_module(file)
    if not args or args[0].startswith("-"):
        names = ", ".join(sorted(entities_of(module))) or "none"
        raise click.UsageError(f"name the ENTITY to run after FILE; {file} defines: {names}")
    entity, args = args[0], args[1:]
    target = find_entity(module, entity, file)
    if "--help" in args or "-h" in args:
        click.echo(entity_help(target))
        return
    inputs = parse_inputs(target, args)
    env: dict[str, str] = {}
    for item in envs:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--env")
        env[key] = value
    from ..run.engine import execute

    progress = Progress()
    try:
        with progress:
            result = execute(
                target, inputs, overwrite_cache=overwrite_cache, max_parallelism=max_parallelism,
                envs=env, name=exec_name, observer=progress.observe,
            )
    except PlaitError as exc:
        _fail(exc, verbose)
    except Exception as exc:  # noqa: BLE001 - the user's task failed: report it, exit 1
        _fail(exc, verbose, user_code=True)
    _print_outputs(target, result.outputs, as_json)
    click.echo(f"execution {result.id} succeeded in {time.perf_counter() - progress.started:.2f}s", err=True)


def _fail(exc: BaseException, verbose: bool, user_code: bool = False) -> typing.NoReturn:
    from rich.console import Console

    console = Console(stderr=True)
    if verbose or user_code:
        from rich.traceback import Traceback

        tb = Traceback.from_exception(type(exc), exc, exc.__traceback__, show_locals=False,
                                      suppress=[] if verbose else [str(Path(__file__).parent)],
                                      max_frames=20)
        console.print(tb)
    else:
        console.print(f"[red]Error:[/] {type(exc).__name__}: {exc}", highlight=False)
        for note in getattr(exc, "__notes__", []):
            console.print(f"  {note}", highlight=False)
    sys.exit(1)


def _print_outputs(entity: Any, outputs: dict[str, Any], as_json: bool) -> None:
    from ..typesys import to_literal

    types = entity.interface.outputs
    if as_json:
        def lit(n: str, v: Any) -> Any:
            try:
                return to_literal(types.get(n), v)
            except TypeError:
                return repr(v)

        click.echo(json.dumps({n: lit(n, v) for n, v in outputs.items()}, default=str))
        return
    for n, v in outputs.items():
        text = v if isinstance(v, str) else repr(v)
        click.echo(f"{n}: {text}" if len(outputs) > 1 or n != "o0" else text)


@main.group("server", context_settings=CONTEXT, invoke_without_command=True)
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8742; 0 picks a free one).")
@click.option("--database-url", default=None, help="SQLAlchemy URL (default SQLite in --home).")
@click.option("--storage-url", default=None, help="Object store URL (default --home/data).")
@click.option("--dask-scheduler", default=None, help="Dask scheduler address (default: a LocalCluster).")
@click.option("--home", default=None, help="State folder (default $PLAIT_HOME or ~/.plait).")
@click.option("--api-workers", type=int, default=None,
              help="Processes serving the HTTP API (default 2; 1 serves it beside the executor).")
@click.pass_context
def server_cmd(ctx: click.Context, **options: Any) -> None:
    """Run the plait backend: the HTTP API and an executor on Dask."""
    if ctx.invoked_subcommand is None:
        from plait.backend.server import serve  # the backend is imported only here

        serve(**options, echo=click.echo)


@server_cmd.command("openapi")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="File to write.")
def server_openapi(output: str) -> None:
    """Write the backend's OpenAPI document as JSON."""
    from plait.backend.server import write_openapi

    click.echo(f"wrote {write_openapi(output)}")


@main.group("local-cache", context_settings=CONTEXT)
def local_cache_cmd() -> None:
    """Manage the local cache ($PLAIT_HOME/local-cache)."""


@local_cache_cmd.command("clear")
def local_cache_clear() -> None:
    """Remove every cached output of local runs."""
    from ..run.local_cache import LocalCache

    store = LocalCache()
    removed = store.clear()
    click.echo(f"removed {removed} cached output(s) from {store.root}")


# ------------------------------------------------------------------ the backend (plait.Remote)

PROJECT_OPTION = click.option("--project", default="default", show_default=True, help="Project.")
DOMAIN_OPTION = click.option("--domain", default="development", show_default=True,
                             type=click.Choice(["development", "staging", "production"]), help="Domain.")


def _remote(ctx: click.Context, project: str, domain: str) -> Any:
    """A Remote for this command; tests pass connection options as `obj={"remote": {...}}`."""
    from ..remote import Remote

    obj = ctx.find_root().obj
    options = dict(obj.get("remote") or {}) if isinstance(obj, dict) else {}
    return Remote(project=project, domain=domain, **options)


def _when(value: Any) -> str:
    """An API timestamp as local time to the second."""
    if not value:
        return ""
    try:
        stamp = _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone()
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def _seconds(value: Any) -> str:
    return "" if value is None else f"{float(value):.1f}s"


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None, title_justify="left", header_style="bold")
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*("" if v is None else str(v) for v in r))
    Console(highlight=False).print(table)


def _ref_text(ref: Any) -> str:
    """A value ref, short: the literal as JSON, or a pickle's preview."""
    if isinstance(ref, dict) and "literal" in ref:
        text = json.dumps(ref["literal"], default=str)
    elif isinstance(ref, dict) and "uri" in ref:
        text = f"{ref.get('preview') or ''} ({ref.get('format', 'pickle')})".strip()
    else:
        text = json.dumps(ref, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


@main.command("register", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True)
@PROJECT_OPTION
@DOMAIN_OPTION
@click.option("--version", default=None, help="Version of every entity (default: a hash of the code).")
@click.pass_context
def register_cmd(ctx: click.Context, paths: tuple[str, ...], project: str, domain: str,
                 version: str | None) -> None:
    """Register the tasks, workflows and launch plans of PATHS (.py files, folders, notebooks).

    \b
    Names follow <folder>.<file>.<function>: `plait register ./workflows`
    registers `workflows.my_example.task_1` for task_1 in workflows/my_example.py.
    A notebook is exported first (as `plait export` does): `plait register
    analysis.ipynb` registers `analysis.<function>` for its %%task cells.
    """
    import tempfile

    from ..notebook.export import for_registration

    try:
        remote = _remote(ctx, project, domain)
        with tempfile.TemporaryDirectory(prefix="plait-register-") as scratch:
            items = [item for p in paths for item in
                     (for_registration(p, Path(scratch)) if p.endswith(".ipynb") else [p])]
            ids = remote.register(*items, version=version)
    except PlaitError as exc:
        _fail(exc, verbose=False)
    used = ids[0].version if ids else version
    click.echo(f"registered {len(ids)} entities in {project}/{domain}, version {used}")
    _table("", ["KIND", "NAME"], [[i.kind, i.name] for i in ids])


@main.group("get", context_settings=CONTEXT)
def get_cmd() -> None:
    """Show what the backend holds: tasks, workflows, launch plans, executions."""


def _get_entities(ctx: click.Context, kind: str, name: str | None, project: str, domain: str,
                  limit: int) -> None:
    label = kind.replace("_", " ") + "s"
    try:
        remote = _remote(ctx, project, domain)
        if name:
            found = remote.list_versions(kind, name, limit=limit)
        else:
            found = remote.list_entities(kind, limit=limit)
    except PlaitError as exc:
        _fail(exc, verbose=False)
    if name:
        _table(f"Versions of {kind.replace('_', ' ')} {name} in {project}/{domain}",
               ["VERSION", "CREATED", "ARCHIVED"],
               [[e.version, _when(e.record.get("created_at")), "yes" if e.record.get("archived") else ""]
                for e in found])
        return
    _table(f"{label.capitalize()} in {project}/{domain}", ["NAME", "VERSION", "VERSIONS", "CREATED", "DESCRIPTION"],
           [[e.name, e.version, e.record.get("version_count", ""), _when(e.record.get("created_at")),
             e.record.get("description", "")] for e in found])


def _entity_command(command: str, kind: str) -> None:
    @get_cmd.command(command, context_settings=CONTEXT,
                     help=f"List {kind.replace('_', ' ')}s (newest version of each), or the versions of NAME.")
    @click.argument("name", required=False)
    @PROJECT_OPTION
    @DOMAIN_OPTION
    @click.option("--limit", type=int, default=100, show_default=True, help="Most rows to show.")
    @click.pass_context
    def get_entities(ctx: click.Context, name: str | None, project: str, domain: str, limit: int) -> None:
        _get_entities(ctx, kind, name, project, domain, limit)


_entity_command("tasks", "task")
_entity_command("workflows", "workflow")
_entity_command("launchplans", "launch_plan")


@get_cmd.command("executions", context_settings=CONTEXT)
@click.argument("name", required=False)
@PROJECT_OPTION
@DOMAIN_OPTION
@click.option("--phase", default=None, help="Only executions in this phase (e.g. FAILED).")
@click.option("--limit", type=int, default=50, show_default=True, help="Most rows to show.")
@click.pass_context
def get_executions(ctx: click.Context, name: str | None, project: str, domain: str,
                   phase: str | None, limit: int) -> None:
    """List executions, newest first; NAME keeps those of one task or workflow."""
    try:
        runs = _remote(ctx, project, domain).list_executions(
            name=name, phase=phase.upper() if phase else None, limit=limit)
    except PlaitError as exc:
        _fail(exc, verbose=False)
    _table(f"Executions in {project}/{domain}", ["ID", "ENTITY", "PHASE", "STARTED", "DURATION"],
           [[r.id, r.entity_name, r.phase, _when(r.record.get("started_at") or r.record.get("created_at")),
             _seconds(r.record.get("duration_s"))] for r in runs])


@get_cmd.command("execution", context_settings=CONTEXT)
@click.argument("execution_id")
@click.option("--logs", "logs_node", default=None, metavar="NODE", help="Print the log of node NODE (e.g. n0).")
@click.option("--attempt", type=int, default=None, help="Attempt of NODE (default: the latest).")
@click.option("--follow", is_flag=True, help="With --logs: keep printing until the node ends.")
@click.pass_context
def get_execution(ctx: click.Context, execution_id: str, logs_node: str | None, attempt: int | None,
                  follow: bool) -> None:
    """Show one execution: phase, inputs, outputs, error and its nodes; or a node's log."""
    try:
        run = _remote(ctx, "default", "development").fetch_execution(execution_id)
        if logs_node is not None:
            if follow:
                for text in run.logs(logs_node, attempt=attempt, follow=True):
                    click.echo(text, nl=False)
            else:
                click.echo(run.logs(logs_node, attempt=attempt), nl=False)
            return
        nodes = run.nodes()
    except PlaitError as exc:
        _fail(exc, verbose=False)
    except KeyboardInterrupt:
        sys.exit(130)
    _print_execution(run, nodes)


def _print_execution(run: Any, nodes: list[Any]) -> None:
    from rich.console import Console

    from ..remote import error_text

    console = Console(highlight=False)
    rec, entity = run.record, run.entity
    console.print(f"[bold]execution {run.id}[/]  {rec.get('project', '')}/{rec.get('domain', '')}")
    console.print(f"  entity:   {entity.get('kind', '')} {entity.get('name', '')}@{entity.get('version', '')}")
    plan = rec.get("launch_plan")
    if plan:
        console.print(f"  launch plan: {plan.get('name')}@{plan.get('version')}")
    console.print(f"  phase:    {run.phase}")
    times = [f"{k}: {_when(rec.get(f'{k}_at'))}" for k in ("created", "started", "ended") if rec.get(f"{k}_at")]
    if rec.get("duration_s") is not None:
        times.append(f"duration: {_seconds(rec['duration_s'])}")
    console.print("  " + "   ".join(times))
    for label, refs in (("inputs", rec.get("inputs")), ("outputs", rec.get("outputs"))):
        if refs:
            console.print(f"  {label}:")
            for k, ref in refs.items():
                console.print(f"    {k} = {_ref_text(ref)}")
    if run.error:
        console.print(f"  [red]error:[/]    {error_text(run.error)}")
    if nodes:
        _table("Nodes", ["PATH", "ENTITY", "KIND", "PHASE", "ATTEMPTS", "ERROR"],
               [[n.path, n.entity, n.kind, n.phase, len(n.attempts), error_text(n.error)[:100]]
                for n in nodes])


def _run_remote(ctx: click.Context, file: str, args: list[str], *, project: str, domain: str,
                envs: tuple[str, ...], overwrite_cache: bool, max_parallelism: int | None,
                exec_name: str | None, as_json: bool, verbose: bool) -> None:
    """`plait run --remote`: register FILE, launch ENTITY, show node progress, print outputs."""
    from types import SimpleNamespace

    from ..remote.bundle import collect

    if not Path(file).exists():
        raise click.BadParameter(f"no such file: {file}", param_hint="FILE")
    if file.endswith(".ipynb"):
        raise click.BadParameter(
            f"{file} is a notebook; export it first with `plait export {file} -o module.py`", param_hint="FILE")
    try:
        registration = collect([file])
    except PlaitError as exc:
        _fail(exc, verbose)
    module = sys.modules[registration.modules[0]]
    if not args or args[0].startswith("-"):
        names = ", ".join(sorted(entities_of(module))) or "none"
        raise click.UsageError(f"name the ENTITY to run after FILE; {file} defines: {names}")
    target = find_entity(module, args[0], file)
    if "--help" in args[1:] or "-h" in args[1:]:
        click.echo(entity_help(target))
        return
    inputs = parse_inputs(target, args[1:])
    env: dict[str, str] = {}
    for item in envs:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--env")
        env[key] = value
    remote = _remote(ctx, project, domain)
    try:
        remote.register_collected(registration)
        run = remote.execute(target, inputs, name=exec_name, overwrite_cache=overwrite_cache,
                             max_parallelism=max_parallelism, envs=env or None)
        click.echo(f"execution {run.id} started on {remote.endpoint}", err=True)
        progress = Progress()
        delay = 0.2
        with progress:
            while True:
                done = run.refresh().is_done
                for n in run.nodes():
                    progress.observe(SimpleNamespace(path=n.path, phase=n.phase, entity=n.entity))
                if done:
                    break
                time.sleep(delay)
                delay = min(delay * 1.5, 2.0)
        if run.phase != "SUCCEEDED":
            _remote_failure(run, verbose)
        outputs = run.outputs
    except KeyboardInterrupt:
        click.echo("\nstopped watching; the execution keeps running on the server "
                   "(`plait get executions` lists it)", err=True)
        sys.exit(130)
    except PlaitError as exc:
        _fail(exc, verbose)
    _print_outputs(target, outputs, as_json)
    click.echo(f"execution {run.id} succeeded in {time.perf_counter() - progress.started:.2f}s", err=True)


def _remote_failure(run: Any, verbose: bool) -> typing.NoReturn:
    from rich.console import Console

    from ..remote import error_text

    console = Console(stderr=True, highlight=False)
    console.print(f"[red]Error:[/] execution {run.id} {run.phase}: {error_text(run.error)}")
    for n in run.nodes():
        if n.phase in FAILURES and n.error:
            console.print(f"  node {n.path} ({n.entity}): {error_text(n.error)}")
            trace = n.error.get("traceback") if isinstance(n.error, dict) else None
            if verbose and trace:
                console.print(trace, markup=False)
    console.print(f"  more: plait get execution {run.id}  (--logs NODE for a node's output)")
    sys.exit(1)


@main.command("export", context_settings=CONTEXT)
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", default=None, metavar="MODULE.py", help="Write here (default: stdout).")
def export_cmd(notebook: str, output: str | None) -> None:
    """Write the %%task, %%workflow and supporting cells of NOTEBOOK as a module.

    \b
    plait export analysis.ipynb -o analysis.py
    plait run analysis.py my_workflow --n 3
    """
    from ..notebook.export import export_notebook

    try:
        result = export_notebook(notebook)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    if output is None:
        click.echo(result.source, nl=False)
    else:
        Path(output).write_text(result.source, encoding="utf-8")
    made = ", ".join(f"{k} {n}" for n, k in result.entities.items()) or "no tasks or workflows"
    click.echo(f"exported {made}" + (f" to {output}" if output else ""), err=True)
    for line in result.skipped:
        click.echo(f"  skipped {line}", err=True)

if __name__ == "__main__":  # pragma: no cover
    main()
