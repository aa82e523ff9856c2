"""What `%%task`, `%%dynamic` and `%%workflow` cells mean, without IPython.

`parse_options` reads the magic line into the decorator's parameters (as
values for the kernel and as source text for `plait export`);
`single_function` finds the one function a cell defines. Both raise
`CellError`, a `UserError` that knows the cell line it is about.
"""

from __future__ import annotations

import argparse
import ast
import shlex
from dataclasses import dataclass, field
from typing import Any

from ..errors import UserError

CELL_KINDS = ("task", "dynamic", "workflow")
_RESOURCE_KEYS = {"cpu": "cpu", "mem": "mem", "memory": "mem", "gpu": "gpu",
                  "ephemeral_storage": "ephemeral_storage", "ephemeral-storage": "ephemeral_storage"}
_POLICIES = ("FAIL_IMMEDIATELY", "FAIL_AFTER_EXECUTABLE_NODES_COMPLETE")


class CellError(UserError):
    """A plait cell that cannot become a task or workflow; `line` is 1-based in the cell."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


# ------------------------------------------------------------------ options


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting."""

    def error(self, message: str) -> Any:
        raise CellError(f"{self.prog}: {message}", line=1)


def _task_parser(kind: str) -> _Parser:
    p = _Parser(prog=f"%%{kind}", add_help=False, allow_abbrev=False)
    p.add_argument("--cache", action="store_true")
    p.add_argument("--cache-version", default=None)
    p.add_argument("--cache-serialize", action="store_true")
    p.add_argument("--cache-ignore", default=None, metavar="INPUT,INPUT")
    p.add_argument("--retries", type=int, default=None)
    p.add_argument("--timeout", default=None)
    p.add_argument("--requests", default=None, metavar="cpu=2,mem=1Gi")
    p.add_argument("--limits", default=None, metavar="gpu=1")
    p.add_argument("--accelerator", default=None)
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--interruptible", action="store_true")
    p.add_argument("--image", default=None)
    p.add_argument("--name", default=None)
    return p


def _workflow_parser() -> _Parser:
    p = _Parser(prog="%%workflow", add_help=False, allow_abbrev=False)
    p.add_argument("--failure-policy", default=None, metavar="|".join(_POLICIES))
    p.add_argument("--interruptible", action="store_true")
    p.add_argument("--on-failure", default=None, metavar="TASK")
    return p


TASK_OPTIONS_HELP = (
    "--cache, --cache-version V, --cache-serialize, --cache-ignore a,b, --retries N, "
    "--timeout 10m, --requests cpu=2,mem=1Gi, --limits gpu=1, --accelerator NAME, "
    "--env KEY=VALUE (repeatable), --interruptible, --image NAME, --name NAME"
)
WORKFLOW_OPTIONS_HELP = (
    "--failure-policy FAIL_IMMEDIATELY|FAIL_AFTER_EXECUTABLE_NODES_COMPLETE, "
    "--interruptible, --on-failure TASK"
)


@dataclass(frozen=True)
class Resources:
    """`cpu=2,mem=1Gi` as keyword arguments of `plait.Resources`."""

    values: dict[str, str]

    def source(self) -> str:
        return "plait.Resources(" + ", ".join(f"{k}={v!r}" for k, v in self.values.items()) + ")"


@dataclass(frozen=True)
class Reference:
    """A name in the notebook's namespace (e.g. `--on-failure cleanup`)."""

    name: str


@dataclass(frozen=True)
class Policy:
    name: str


@dataclass(frozen=True)
class CellOptions:
    """The decorator parameters a magic line asks for, in the decorator's own names."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    def values(self, namespace: dict[str, Any]) -> dict[str, Any]:
        """Parameters as objects, resolving names in `namespace`."""
        out: dict[str, Any] = {}
        for key, value in self.params.items():
            if isinstance(value, Resources):
                from ..config.resources import Resources as R

                try:
                    out[key] = R(**value.values)
                except (TypeError, ValueError) as exc:
                    raise CellError(f"%%{self.kind} --{key}: {exc}", line=1) from None
            elif isinstance(value, Reference):
                if value.name not in namespace:
                    raise CellError(
                        f"%%{self.kind}: `{value.name}` is not defined; run the cell that "
                        "defines it first", line=1,
                    )
                out[key] = namespace[value.name]
            elif isinstance(value, Policy):
                from ..sdk.workflows import WorkflowFailurePolicy

                out[key] = WorkflowFailurePolicy(value.name)
            else:
                out[key] = value
        return out

    def decorator_source(self) -> str:
        """`@plait.task(retries=2, ...)`: the decorator a module would use."""
        if not self.params:
            return f"@plait.{self.kind}"
        parts = []
        for key, value in self.params.items():
            if isinstance(value, Resources):
                text = value.source()
            elif isinstance(value, Reference):
                text = value.name
            elif isinstance(value, Policy):
                text = f"plait.WorkflowFailurePolicy.{value.name}"
            else:
                text = repr(value)
            parts.append(f"{key}={text}")
        return f"@plait.{self.kind}({', '.join(parts)})"


def parse_options(kind: str, line: str) -> CellOptions:
    """Read the options after `%%task` / `%%dynamic` / `%%workflow`."""
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise CellError(f"%%{kind}: cannot read the options ({exc}); check the quotes", line=1) from None
    if kind == "workflow":
        return _workflow_options(argv)
    ns = _task_parser(kind).parse_args(argv)
    params: dict[str, Any] = {}
    if ns.cache or ns.cache_version or ns.cache_serialize or ns.cache_ignore:
        params["cache"] = True
    if ns.cache_version:
        params["cache_version"] = ns.cache_version
    if ns.cache_serialize:
        params["cache_serialize"] = True
    if ns.cache_ignore:
        params["cache_ignore_input_vars"] = tuple(s.strip() for s in ns.cache_ignore.split(",") if s.strip())
    if ns.retries is not None:
        params["retries"] = ns.retries
    if ns.timeout is not None:
        params["timeout"] = ns.timeout
    for key in ("requests", "limits"):
        text = getattr(ns, key)
        if text is not None:
            params[key] = _resources(kind, key, text)
    if ns.accelerator:
        params["accelerator"] = ns.accelerator
    if ns.env:
        params["environment"] = _environment(kind, ns.env)
    if ns.interruptible:
        params["interruptible"] = True
    if ns.image:
        params["container_image"] = ns.image
    if ns.name:
        params["name"] = ns.name
    return CellOptions(kind, params)


def _workflow_options(argv: list[str]) -> CellOptions:
    ns = _workflow_parser().parse_args(argv)
    params: dict[str, Any] = {}
    if ns.failure_policy:
        policy = ns.failure_policy.upper().replace("-", "_")
        if policy not in _POLICIES:
            raise CellError(
                f"%%workflow --failure-policy: expected one of {', '.join(_POLICIES)}, "
                f"got {ns.failure_policy!r}", line=1,
            )
        params["failure_policy"] = Policy(policy)
    if ns.interruptible:
        params["interruptible"] = True
    if ns.on_failure:
        if not ns.on_failure.isidentifier():
            raise CellError(f"%%workflow --on-failure expects a task name, got {ns.on_failure!r}", line=1)
        params["on_failure"] = Reference(ns.on_failure)
    return CellOptions("workflow", params)


def _resources(kind: str, key: str, text: str) -> Resources:
    values: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, eq, value = item.partition("=")
        canonical = _RESOURCE_KEYS.get(name.strip())
        if not eq or canonical is None or not value.strip():
            raise CellError(
                f"%%{kind} --{key}: expected NAME=QUANTITY pairs such as cpu=2,mem=1Gi,gpu=1 "
                f"(names: cpu, mem, gpu, ephemeral_storage), got {item!r}", line=1,
            )
        values[canonical] = value.strip()
    if not values:
        raise CellError(f"%%{kind} --{key}: expected e.g. cpu=2,mem=1Gi", line=1)
    return Resources(values)


def _environment(kind: str, items: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise CellError(f"%%{kind} --env: expected KEY=VALUE, got {item!r}", line=1)
        env[key] = value
    return env


# --------------------------------------------------------------- functions


def parse_cell(kind: str, body: str, offset: int = 1) -> ast.Module:
    """Parse a cell body; `offset` lines (the magic line) come before it in the cell."""
    try:
        return ast.parse(body)
    except SyntaxError as exc:
        line = (exc.lineno or 1) + offset
        text = (exc.text or "").rstrip()
        where = f" (line {line}: `{text.strip()}`)" if text.strip() else f" (line {line})"
        raise CellError(f"%%{kind} cell has invalid syntax: {exc.msg}{where}", line=line) from None


def single_function(kind: str, tree: ast.Module, offset: int = 1) -> ast.FunctionDef:
    """The one top-level function a `%%task`/`%%workflow` cell must define."""
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    noun = "workflow" if kind == "workflow" else ("dynamic workflow" if kind == "dynamic" else "task")
    if not defs:
        raise CellError(
            f"a %%{kind} cell must define exactly one function, the {noun}, e.g.\n"
            f"    %%{kind}\n    def my_{noun.split()[-1]}(x: int) -> int:\n        ...\n"
            "this cell defines none", line=1,
        )
    if len(defs) > 1:
        names = ", ".join(f"`{d.name}` (line {d.lineno + offset})" for d in defs)
        raise CellError(
            f"a %%{kind} cell must define exactly one function, the {noun}; this cell defines "
            f"{len(defs)}: {names}. Move helpers to a plain cell, or make each {noun} its own "
            f"%%{kind} cell", line=defs[1].lineno + offset,
        )
    fn = defs[0]
    if isinstance(fn, ast.AsyncFunctionDef):
        raise CellError(
            f"%%{kind}: `{fn.name}` is `async def`; a {noun} is a plain `def`",
            line=fn.lineno + offset,
        )
    return fn


def function_source(body: str, fn: ast.FunctionDef) -> str:
    """The text of `fn` (with its decorators) as it appears in the cell."""
    lines = body.splitlines()
    first = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
    last = fn.end_lineno or fn.lineno
    return "\n".join(lines[first - 1:last]) + "\n"


def magic_of(source: str) -> tuple[str, str, str] | None:
    """`(name, line, body)` when `source` starts with a cell magic `%%name line`."""
    stripped = source.lstrip("\n")
    if not stripped.startswith("%%"):
        return None
    first, _, body = stripped.partition("\n")
    name, _, line = first[2:].partition(" ")
    return name.strip(), line.strip(), body
