"""What `%plait run` and `%plait launch` share: the entity a line names, one option parser, stale notes.

    %plait run [OPTIONS] WF --input value ...
    %plait launch [OPTIONS] WF --input value ... [OPTIONS]

Both lines are read by `parse_line` with the command's `Syntax`: the same
flags mean the same and fail with the same messages; `launch` also takes its
options after the inputs (an input of the same name wins there). The inputs
are read by `plait run`'s parser, so a value means what it means on the
command line. Nothing here knows IPython: `shell` is anything with a
`user_ns`.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

from ..sdk.entity import Entity
from .cells import CellError

_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def lookup(shell: Any, name: str) -> Any:
    """The task, workflow or launch plan `name` (dotted names allowed) in the notebook."""
    head, *rest = name.split(".")
    ns = shell.user_ns
    if not _DOTTED.fullmatch(name) or head not in ns:
        raise CellError(f"`{name}` is not defined; run the cell that defines it first")
    value = ns[head]
    for part in rest:
        value = getattr(value, part, None)
    if not isinstance(value, Entity):
        raise CellError(f"`{name}` is a {type(value).__name__}, not a task, workflow or launch plan")
    return value


# ------------------------------------------------------------------ options


@dataclass
class Options:
    """The options of one `%plait run` or `%plait launch` line."""

    out: str | None = None
    name: str | None = None
    overwrite_cache: bool = False
    max_parallelism: int | None = None
    envs: dict[str, str] = field(default_factory=dict)
    progress: bool = True
    wait: bool = False  # launch only, as the three below
    logs: bool = True
    project: str = "default"
    domain: str = "development"


@dataclass(frozen=True)
class Syntax:
    """Which options a command takes, where, and what it says when a line is wrong."""

    command: str
    flags: frozenset[str]
    valued: frozenset[str]
    options_after_inputs: bool
    usage: str  # when the line names no entity
    advice: str  # after "unknown option --x; "


RUN = Syntax(
    "run",
    flags=frozenset({"overwrite-cache", "no-progress"}),
    valued=frozenset({"out", "max-parallelism", "name", "env"}),
    options_after_inputs=False,
    usage="usage: %plait run [OPTIONS] WF --input value ...",
    advice="options go before the workflow (--out, --overwrite-cache, --max-parallelism, --name, "
           "--env, --no-progress) and its inputs after it",
)
LAUNCH_USAGE = ("usage: %plait launch WF --input value ... [OPTIONS]; options: --wait, "
                "--out NAME, --name EXEC, --overwrite-cache, --max-parallelism N, --env K=V, "
                "--project P, --domain D, --no-progress, --no-logs")
LAUNCH = Syntax(
    "launch",
    flags=frozenset({"wait", "overwrite-cache", "no-progress", "no-logs"}),
    valued=frozenset({"out", "name", "max-parallelism", "env", "project", "domain"}),
    options_after_inputs=True,
    usage=LAUNCH_USAGE,
    advice=LAUNCH_USAGE,
)


def parse_line(syntax: Syntax, shell: Any, args: list[str]) -> tuple[Options, str, Any, list[str]]:
    """The options, the entity's name, the entity and the words of its inputs."""
    opts = Options()
    i = 0
    while i < len(args) and args[i].startswith("--"):
        nxt = _take(syntax, args, i, opts)
        if nxt is None:
            key = args[i][2:].partition("=")[0]
            raise CellError(f"%plait {syntax.command}: unknown option --{key}; {syntax.advice}")
        i = nxt
    if i >= len(args):
        raise CellError(syntax.usage)
    name, rest = args[i], args[i + 1:]
    entity = lookup(shell, name)
    if not syntax.options_after_inputs:
        return opts, name, entity, rest
    declared = entity.interface.inputs
    words: list[str] = []
    j = 0
    while j < len(rest):
        nxt = _take(syntax, rest, j, opts, declared) if rest[j].startswith("--") else None
        if nxt is None:
            words.append(rest[j])
            j += 1
        else:
            j = nxt
    return opts, name, entity, words


def _take(syntax: Syntax, args: list[str], i: int, opts: Options, inputs: Any = ()) -> int | None:
    """Take the option at `args[i]` into `opts`; the next index, or None if it is not an option."""
    key, eq, value = args[i][2:].partition("=")
    if key.replace("-", "_") in inputs or key not in syntax.flags | syntax.valued:
        return None
    if key in syntax.valued and not eq:
        if i + 1 >= len(args):
            raise CellError(f"%plait {syntax.command} --{key} needs a value")
        value, i = args[i + 1], i + 1
    _set(syntax.command, opts, key, value)
    return i + 1


def _set(command: str, opts: Options, key: str, value: str) -> None:
    if key in ("wait", "overwrite-cache"):
        setattr(opts, key.replace("-", "_"), True)
    elif key in ("no-progress", "no-logs"):
        setattr(opts, key[3:], False)
    elif key == "out":
        if not value.isidentifier():
            raise CellError(f"%plait {command} --out expects a variable name, got {value!r}")
        opts.out = value
    elif key == "max-parallelism":
        if not value.isdigit() or int(value) < 1:
            raise CellError(f"%plait {command} --max-parallelism expects a whole number >= 1, got {value!r}")
        opts.max_parallelism = int(value)
    elif key == "env":
        k, eq, v = value.partition("=")
        if not eq or not k:
            raise CellError(f"%plait {command} --env expects KEY=VALUE, got {value!r}")
        opts.envs[k] = v
    else:  # name, project, domain
        setattr(opts, key, value)


def read_inputs(syntax: Syntax, name: str, entity: Any, words: list[str]) -> dict[str, Any] | None:
    """The entity's inputs from `words`, as `plait run` reads them; None after printing its help."""
    import click

    from ..cli.run import entity_help, parse_inputs

    if "--help" in words or "-h" in words:
        print(entity_help(entity))
        return None
    try:
        return parse_inputs(entity, words)
    except click.UsageError as exc:
        raise CellError(f"%plait {syntax.command} {name}: {exc.message}") from None


# ------------------------------------------------------------------ stale definitions


def users_of(entity: Any, namespace: dict[str, Any]) -> list[str]:
    """Names of workflows in `namespace` whose graph calls `entity` (by identity)."""
    found = []
    for name, value in list(namespace.items()):
        if name.startswith("_") or not isinstance(value, Entity) or value.kind != "workflow":
            continue
        graph = getattr(value, "_graph", None)
        if graph is not None and any(n.entity is entity for n in graph.nodes):
            found.append(name)
    return found


def stale_nodes(entity: Any, namespace: dict[str, Any]) -> list[str]:
    """Tasks a workflow calls whose name the notebook has since bound to a new definition."""
    target = getattr(entity, "workflow", entity)
    if getattr(target, "kind", None) != "workflow":
        return []
    stale = []
    for node in target.compile().nodes:
        e = node.entity
        current = namespace.get(e.short_name)
        if isinstance(current, Entity) and current is not e and current.name == e.name:
            stale.append(e.short_name)
    return sorted(set(stale))


def note_redefined(name: str, previous: Any, namespace: dict[str, Any]) -> None:
    """After a cell rebinds `name`: which workflows still call the `previous` definition."""
    if not isinstance(previous, Entity):
        return
    stale = users_of(previous, namespace)
    if stale:
        names = ", ".join(f"`{s}`" for s in stale)
        verb, their = ("calls", "its cell") if len(stale) == 1 else ("call", "their cells")
        print(f"note: {names} still {verb} the previous `{name}`; re-run {their} to use "
              "this one", file=sys.stderr)


def warn_stale(shell: Any, name: str, entity: Any) -> None:
    """Before a run: which tasks `entity` calls in an older definition than the notebook's."""
    stale = stale_nodes(entity, shell.user_ns)
    if stale:
        print(f"note: `{name}` uses an older definition of {', '.join(f'`{s}`' for s in stale)}; "
              "re-run its cell to use the new one", file=sys.stderr)
