"""`plait run FILE ENTITY --input value ...`: load a module, read the inputs, run it here or on the backend.

The inputs are read by their declared types through `plait.typesys.text`, the
same reading `%plait run` uses; progress is the terminal view of the run's
`ProgressModel` (`plait.cli.progress`).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import typing
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import click

from ..errors import PlaitError, UserError
from ..model.times import duration_text
from ..model.vocab import FAILURES
from .backend import remote_for
from .output import CONTEXT, fail
from .progress import TerminalProgress


class CliInputError(click.UsageError):
    """A bad input value: one line, no traceback."""


# ------------------------------------------------------------------ loading


def module_file(path: str) -> Path:
    """FILE of `plait run`: a module that exists (a notebook is exported first)."""
    file = Path(path)
    if not file.exists():
        raise click.BadParameter(f"no such file: {path}", param_hint="FILE")
    if file.suffix == ".ipynb":
        raise click.BadParameter(
            f"{path} is a notebook; export it first with `plait export {path} -o module.py`",
            param_hint="FILE",
        )
    return file


def load_module(path: str) -> ModuleType:
    """Import FILE: by its dotted path when its folder is a package (`basics/subworkflow.py` is
    `basics.subworkflow`, so its entities are `basics.subworkflow.my_wf`, as registration names
    them), else under its stem."""
    from ..remote.bundle import import_file, package_module

    file = module_file(path)
    found = package_module(file)
    if found is not None:
        try:
            return import_file(*found, file.resolve())
        except PlaitError as exc:
            raise click.BadParameter(str(exc), param_hint="FILE") from None
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


# ------------------------------------------------------------------ inputs


def parse_inputs(entity: Any, args: list[str], *, complete: bool = True) -> dict[str, Any]:
    """`--name value` words as the inputs of `entity`, each read by its declared type; with
    `complete`, every required input must be there (a re-run takes only the ones that change)."""
    from ..typesys import describe
    from ..typesys.text import parse_value

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
    if missing and complete:
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


def _target(module: ModuleType, file: str, args: list[str]) -> tuple[Any, list[str]] | None:
    """The entity named first in `args` and the words of its inputs; None after printing its help."""
    if not args or args[0].startswith("-"):
        names = ", ".join(sorted(entities_of(module))) or "none"
        raise click.UsageError(f"name the ENTITY to run after FILE; {file} defines: {names}")
    target, rest = find_entity(module, args[0], file), args[1:]
    if "--help" in rest or "-h" in rest:
        click.echo(entity_help(target))
        return None
    return target, rest


def _environment(envs: tuple[str, ...]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in envs:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--env")
        env[key] = value
    return env


# ------------------------------------------------------------------ the command


@click.command(
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
@click.option("--image", default=None, metavar="IMAGE.yaml|NAME",
              help="With --remote: run every task in this image (an ImageSpec YAML file, or an "
                   "image name) instead of its own.")
@click.option("--interruptible/--non-interruptible", default=None,
              help="With --remote: run every task on interruptible (spot) pools, or on pools that are "
                   "not, whatever the tasks say (default: as the tasks and workflow say).")
@click.option("--project", default="default", show_default=True, help="Project (with --remote).")
@click.option("--domain", default="development", show_default=True,
              type=click.Choice(["development", "staging", "production"]), help="Domain (with --remote).")
@click.option("--from-execution", default=None, metavar="ID",
              help="With --remote and --from-node: re-run execution ID from those nodes, reusing the "
                   "outputs of every other node; the inputs given override its inputs.")
@click.option("--from-node", "from_nodes", multiple=True, metavar="PATH",
              help="With --from-execution: a node to run again, with everything after it (e.g. n3, n2-n1).")
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
    image: str | None = None,
    interruptible: bool | None = None,
    from_execution: str | None = None,
    from_nodes: tuple[str, ...] = (),
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
    if interruptible is not None and not remote:
        raise click.UsageError("--interruptible/--non-interruptible apply to --remote runs (a local run "
                               "has no pools); add --remote, or drop it")
    if image is not None and not remote:
        raise click.UsageError("--image applies to --remote runs: a local run uses this Python "
                               "environment; add --remote, or drop --image")
    if (from_execution is None) != (not from_nodes):
        raise click.UsageError("--from-execution and --from-node go together: the execution to re-run "
                               "and the node(s) to run again from, e.g. --from-execution f3a9c2 --from-node n3")
    if from_execution is not None and not remote:
        raise click.UsageError("--from-execution re-runs an execution of the backend: add --remote (a local "
                               "run is re-run with plait.rerun or %plait rerun in its notebook)")
    if remote:
        _run_remote(ctx, file, args, project=project, domain=domain, envs=envs,
                    overwrite_cache=overwrite_cache, max_parallelism=max_parallelism,
                    exec_name=exec_name, as_json=as_json, verbose=verbose, image=image,
                    interruptible=interruptible, rerun=(from_execution, from_nodes) if from_execution else None)
        return
    found = _target(load_module(file), file, args)
    if found is None:
        return
    target, rest = found
    inputs = parse_inputs(target, rest)
    env = _environment(envs)
    from ..run.engine import execute

    progress = TerminalProgress()
    try:
        with progress:
            result = execute(
                target, inputs, overwrite_cache=overwrite_cache, max_parallelism=max_parallelism,
                envs=env, name=exec_name, observer=progress.observe,
            )
    except PlaitError as exc:
        fail(exc, verbose)
    except Exception as exc:  # noqa: BLE001 - the user's task failed: report it, exit 1
        fail(exc, verbose, user_code=True)
    _print_outputs(target, result.outputs, as_json)
    click.echo(f"execution {result.id} succeeded in {duration_text(progress.model.elapsed())}", err=True)


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


# ------------------------------------------------------------------ --remote


def _run_remote(ctx: click.Context, file: str, args: list[str], *, project: str, domain: str,
                envs: tuple[str, ...], overwrite_cache: bool, max_parallelism: int | None,
                exec_name: str | None, as_json: bool, verbose: bool,
                image: str | None = None, interruptible: bool | None = None,
                rerun: tuple[str, tuple[str, ...]] | None = None) -> None:
    """`plait run --remote`: register FILE, launch ENTITY (or, with `rerun`, re-run an execution of it
    from some nodes: the inputs given override the execution's), show node progress, print outputs."""
    from ..remote.bundle import collect
    from .build import load_image, with_image

    module_file(file)
    override = load_image(image) if image is not None else None
    try:
        registration = collect([file])
        if override is not None:  # the tasks' new image travels in the registration
            registration = with_image(registration, override)
    except PlaitError as exc:
        fail(exc, verbose)
    found = _target(sys.modules[registration.modules[0]], file, args)
    if found is None:
        return
    target, rest = found
    inputs = parse_inputs(target, rest, complete=rerun is None)
    env = _environment(envs)
    remote = remote_for(ctx, project, domain)
    try:
        remote.register_collected(registration)
        if rerun is not None:
            run = _rerun(remote, target, rerun, inputs, exec_name)
        else:
            run = remote.execute(target, inputs, name=exec_name, overwrite_cache=overwrite_cache,
                                 max_parallelism=max_parallelism, envs=env or None, interruptible=interruptible)
        click.echo(f"execution {run.id} started on {remote.endpoint}", err=True)
        progress = TerminalProgress()
        delay = 0.2
        with progress:
            while True:
                done = run.refresh().is_done
                for n in run.nodes():
                    progress.observe(SimpleNamespace(path=n.path, phase=n.phase, entity=n.entity, kind=n.kind))
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
        fail(exc, verbose)
    _print_outputs(target, outputs, as_json)
    # The server's count, as `plait get execution` shows it, not how long this command watched.
    took = run.duration_s if run.duration_s is not None else progress.model.elapsed()
    click.echo(f"execution {run.id} succeeded in {duration_text(took)}", err=True)


def _rerun(remote: Any, target: Any, rerun: tuple[str, tuple[str, ...]], inputs: dict[str, Any],
           exec_name: str | None) -> Any:
    """Re-run execution `rerun[0]` from nodes `rerun[1]` at the version just registered; the inputs
    given on the command line (only those) override the execution's."""
    from ..typesys import to_literal

    execution_id, from_nodes = rerun
    declared = target.interface.inputs
    overrides = {k: to_literal(declared[k].type, v) for k, v in inputs.items()}
    version = remote.fetch_workflow(target.name).version if getattr(target, "kind", None) == "workflow" else None
    return remote.rerun(execution_id, list(from_nodes), inputs=overrides or None, version=version, name=exec_name)


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
