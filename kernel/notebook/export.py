"""`plait export NOTEBOOK -o module.py`: a notebook's tasks and workflows as a module.

`%%task`, `%%dynamic` and `%%workflow` cells become functions under the
matching decorator (`%%task --retries 2` -> `@plait.task(retries=2)`).
Supporting code (imports, constants, plain functions and classes) is kept.
What only makes sense interactively is commented out with the reason: other
magics and shell escapes, calls that run a task or workflow, displays,
prints and asserts, and cells tagged `raises-exception`. The module is what
`plait run module.py WORKFLOW` and registration accept. The notebook is read
as JSON, so exporting needs neither Jupyter nor IPython.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..sdk.entity import notebook_module
from .cells import (
    CELL_KINDS,
    CellError,
    magic_of,
    parse_cell,
    parse_options,
    single_function,
)

_MAGIC_LINE = re.compile(r"^\s*([%!]|[\w.]+\s*=\s*[%!])")
_DECORATORS = {"task", "workflow", "dynamic", "reference_task"}
_SHOWING = {"print", "display", "pprint"}


class ExportError(UserError):
    """A notebook cell that cannot be exported; names the cell."""


@dataclass
class Exported:
    """The module text and what went into it."""

    source: str
    entities: dict[str, str] = field(default_factory=dict)  # name -> task | dynamic | workflow
    skipped: list[str] = field(default_factory=list)  # "cell 3: %%bash cell"


def export_notebook(path: str | Path) -> Exported:
    """Read the notebook at `path` and build the module text."""
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read notebook {path}: {exc}") from None
    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    sources = ["".join(c.get("source", "")) for c in cells]
    result = Exported("")
    names = _entity_names(sources)
    parts = [
        f'"""Tasks and workflows of {path.name}, exported by `plait export`.',
        "",
        "Edit the notebook and export again rather than editing this file.",
        '"""',
        "",
        "import plait",
    ]
    number = 0
    for cell, source in zip(cells, sources, strict=True):
        number += 1
        if not source.strip():
            continue
        where = f"cell {number}"
        tags = cell.get("metadata", {}).get("tags", [])
        if "raises-exception" in tags:
            result.skipped.append(f"{where}: tagged raises-exception")
            parts += ["", "", f"# %% {where} (skipped: tagged raises-exception)", _commented(source)]
            continue
        text = _export_cell(source, where, names, result)
        parts += ["", "", f"# %% {where}", text.rstrip("\n")]
    result.source = "\n".join(parts).rstrip("\n") + "\n"
    try:
        ast.parse(result.source)
    except SyntaxError as exc:  # pragma: no cover - a bug here, not in the notebook
        raise ExportError(f"the exported module does not parse ({exc}); please report it") from None
    return result


def _entity_names(sources: list[str]) -> set[str]:
    """Functions that become tasks or workflows (magic cells and decorated defs)."""
    names: set[str] = set()
    for source in sources:
        magic = magic_of(source)
        body = magic[2] if magic is not None and magic[0] in CELL_KINDS else source
        try:
            tree = ast.parse(body)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                decorated = any(_decorator_name(d) in _DECORATORS for d in node.decorator_list)
                if decorated or (magic is not None and magic[0] in CELL_KINDS):
                    names.add(node.name)
    return names


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _export_cell(source: str, where: str, names: set[str], result: Exported) -> str:
    magic = magic_of(source)
    if magic is not None:
        kind, line, body = magic
        if kind not in CELL_KINDS:
            result.skipped.append(f"{where}: %%{kind} cell")
            return f"# skipped: a %%{kind} cell runs only in a notebook\n" + _commented(source)
        return _plait_cell(kind, line, body, where, result)
    lines = source.splitlines()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        lines = [f"# skipped: {ln}" if _MAGIC_LINE.match(ln) else ln for ln in lines]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            result.skipped.append(f"{where}: not plain Python")
            return "# skipped: not plain Python (IPython syntax)\n" + _commented(source)
        result.skipped.append(f"{where}: magic or shell lines")
    out = list(lines)
    for stmt in tree.body:
        reason = _interactive(stmt, names)
        if reason is None:
            continue
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
        last = stmt.end_lineno or stmt.lineno
        out[first - 1] = f"# skipped ({reason}): {out[first - 1]}"
        for i in range(first, last):
            out[i] = f"#   {out[i]}"
    return "\n".join(out)


def _plait_cell(kind: str, line: str, body: str, where: str, result: Exported) -> str:
    try:
        options = parse_options(kind, line)
        tree = parse_cell(kind, body, offset=1)
        fn = single_function(kind, tree, offset=1)
    except CellError as exc:
        raise ExportError(f"{where}: {exc}") from None
    lines = body.splitlines()
    first = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
    lines.insert(first - 1, options.decorator_source())
    result.entities[fn.name] = kind
    return "\n".join(lines)


def _commented(source: str) -> str:
    return "\n".join(f"# {ln}" if ln.strip() else "#" for ln in source.splitlines())


def _interactive(stmt: ast.stmt, names: set[str]) -> str | None:
    """Why a top-level statement belongs to the notebook only (None: keep it)."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                         ast.ClassDef, ast.Pass)):
        return None
    if isinstance(stmt, ast.Expr):
        value = stmt.value
        if isinstance(value, ast.Constant):
            return None  # a docstring or a bare literal
        if _runs_entity(value, names):
            return "runs a task or workflow"
        if not isinstance(value, ast.Call) or _call_name(value) in _SHOWING:
            return "display"
        return None
    if isinstance(stmt, ast.Assert):
        return "assert"
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        if stmt.value is not None and _runs_entity(stmt.value, names):
            return "runs a task or workflow"
        return None
    if isinstance(stmt, (ast.If, ast.Try, ast.With)):
        inner = [s for s in ast.walk(stmt) if isinstance(s, ast.stmt) and s is not stmt]
        if any(_interactive(s, names) for s in inner if not isinstance(s, (ast.If, ast.Try, ast.With))):
            return "runs notebook code"
        return None
    return "runs notebook code"


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _runs_entity(node: Any, names: set[str]) -> bool:
    """Does the expression call a task or workflow of this notebook?"""
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names
        for n in ast.walk(node)
    )


def for_registration(path: str | Path, folder: Path) -> list[Path]:
    """What `plait register NOTEBOOK` registers: the notebook exported into `folder`.

    The module is named after the notebook (`analysis.ipynb` -> `analysis`,
    so its tasks are `analysis.<function>`, as after `plait export -o
    analysis.py`). Modules and packages it imports from beside the notebook
    come first, so that they are importable and travel in the bundle.
    """
    path = Path(path)
    exported = export_notebook(path)
    if not exported.entities:
        raise ExportError(f"{path} has no %%task, %%dynamic or %%workflow cells to register")
    module = folder / f"{notebook_module(path)}.py"
    module.write_text(exported.source, encoding="utf-8")
    return [*_local_imports(exported.source, path.resolve().parent), module]


def _local_imports(source: str, beside: Path) -> list[Path]:
    """Modules (.py files) and packages (folders) in `beside` that `source` imports."""
    found: dict[str, Path] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            heads = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            heads = [node.module.split(".")[0]]
        else:
            continue
        for head in heads:
            if (beside / f"{head}.py").is_file():
                found.setdefault(head, beside / f"{head}.py")
            elif (beside / head / "__init__.py").is_file():
                found.setdefault(head, beside / head)
    return list(found.values())
