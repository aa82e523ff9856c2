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

from .errors import PlaitError, UserError

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
    from .entity import Entity

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
    from .settings import parse_timeout
    from .typesys import NoneType, checker, from_literal, strip_annotated

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
    from .typesys import describe

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
    from .typesys import describe

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
        done = sum(1 for p in self.phases.values() if p in ("SUCCEEDED", "CACHE_HIT", "SKIPPED"))
        running = sum(1 for p in self.phases.values() if p == "RUNNING")
        failed = sum(1 for p in self.phases.values() if p in ("FAILED", "TIMED_OUT"))
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
) -> None:
    """Run a task, workflow or launch plan from FILE locally.

    \b
    plait run [OPTIONS] FILE ENTITY [--input value ...]
    Options go before FILE; what follows ENTITY are its inputs, parsed by
    their declared types: numbers, true/false, text, JSON for lists, dicts
    and dataclasses, ISO dates, durations such as 10m, and paths for files
    and directories. `plait run FILE ENTITY --help` lists the inputs of ENTITY.
    """
    args = list(ctx.args)
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
    from .engine import execute

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
    from .typesys import to_literal

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


@main.group("local-cache", context_settings=CONTEXT)
def local_cache_cmd() -> None:
    """Manage the local cache ($PLAIT_HOME/local-cache)."""


@local_cache_cmd.command("clear")
def local_cache_clear() -> None:
    """Remove every cached output of local runs."""
    from .local_cache import LocalCache

    store = LocalCache()
    removed = store.clear()
    click.echo(f"removed {removed} cached output(s) from {store.root}")


if __name__ == "__main__":  # pragma: no cover
    main()
