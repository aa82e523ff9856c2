"""`from_notebook(path)`: a notebook as a Panel app script.

The page is what the notebook shows, chosen by the author:
- the cells tagged `dashboard`: each one's displayed value (its last
  expression, and what it passes to `display()`) is a row of the page; or,
  when no cell is tagged,
- the objects the notebook marks `.servable()`, as `panel serve` would.
Either way the whole notebook's code runs, top to bottom, so the page cells
see what the cells before them made.

The cell tagged `parameters` (papermill's convention) becomes widgets (see
`plait.dashboards.widgets`); when a reader changes one, the notebook runs
again with the new value assigned after the parameters cell, as papermill
injects it, and the page is redrawn.

Magic lines and shell escapes only make sense in a kernel and are left out
(listed in `DashboardSource.notes`); `%%task`, `%%dynamic` and `%%workflow`
cells become the decorated functions that `plait export` writes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from ..errors import UserError
from .source import DashboardSource
from .widgets import Parameter

PAGE_TAG = "dashboard"
PARAMETERS_TAG = "parameters"
_MAGIC_LINE = re.compile(r"^\s*([%!]|[\w.]+\s*=\s*[%!])")
_RANGE = re.compile(r"range:\s*(?P<low>-?[\d.eE+-]+)\s*\.\.\s*(?P<high>-?[\d.eE+-]+)(\s*(step|,)\s*(?P<step>[\d.eE+-]+))?")
_CHOICES = re.compile(r"choices:\s*(?P<items>[^#]+)")


class DashboardError(UserError):
    """A notebook that cannot become a dashboard; says which cell and what to change."""


def from_notebook(path: str | Path) -> DashboardSource:
    """The Panel app for the notebook at `path` (read, never executed here)."""
    import nbformat

    path = Path(path)
    try:
        nb = nbformat.read(str(path), as_version=4)
    except (OSError, ValueError) as exc:
        raise DashboardError(f"cannot read notebook {path}: {exc}") from None
    cells: list[dict[str, Any]] = []
    parameters: list[Parameter] = []
    notes: list[str] = []
    tagged = servable = False
    number = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        number += 1
        tags = list(cell.metadata.get("tags", []))
        if "raises-exception" in tags:
            notes.append(f"cell {number}: tagged raises-exception, left out")
            continue
        source = _plain_python(cell.source, f"cell {number}", notes)
        if not source.strip():
            continue
        role = "code"
        if PARAMETERS_TAG in tags:
            role = "parameters"
            parameters += _parameters(source, f"cell {number}", notes)
        elif PAGE_TAG in tags:
            role, tagged = "page", True
        servable = servable or _calls_servable(source)
        cells.append({"cell": number, "role": role, "source": source})
    if not tagged and not servable:
        raise DashboardError(
            f"{path} has no cells tagged {PAGE_TAG!r} and no `.servable()` objects, so a dashboard would be "
            f"empty; tag the cells to show with {PAGE_TAG!r} (View > Cell tags in JupyterLab) or end a "
            "cell with `pn.panel(obj).servable()`"
        )
    title = _title(nb, path)
    source = _app_source(path.name, title, cells, parameters, "page_cells" if tagged else "servable")
    files: dict[str, bytes | Path] = {}
    for module in _local_modules(cells, path.parent):
        files[module.name] = module
    return DashboardSource(title=title, source=source, files=files, widgets=[p.name for p in parameters],
                           notes=notes)


def _title(nb: Any, path: Path) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in str(cell.source).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem.replace("_", " ").replace("-", " ").capitalize()


def _plain_python(source: str, where: str, notes: list[str]) -> str:
    """The cell as plain Python: plait cell magics as decorated functions, other IPython syntax left out."""
    from ..notebook.cells import CELL_KINDS, CellError, magic_of, parse_options

    magic = magic_of(source)
    if magic is not None:
        kind, line, body = magic
        if kind not in CELL_KINDS:
            notes.append(f"{where}: a %%{kind} cell runs only in a kernel, left out")
            return ""
        try:
            decorator = parse_options(kind, line).decorator_source()
        except CellError as exc:
            raise DashboardError(f"{where}: {exc}") from None
        lines = body.splitlines()
        tree = ast.parse(body)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines.insert(first - 1, decorator)
                break
        return "\n".join(lines)
    out = []
    for line in source.splitlines():
        if _MAGIC_LINE.match(line):
            notes.append(f"{where}: `{line.strip()}` runs only in a kernel, left out")
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}pass  # left out: {line.strip()}" if indent else "")
        else:
            out.append(line)
    text = "\n".join(out)
    try:
        ast.parse(text)
    except SyntaxError as exc:
        raise DashboardError(f"{where} is not plain Python ({exc.msg}, line {exc.lineno}); fix the cell or "
                             "tag it raises-exception to leave it out") from None
    return text


def _calls_servable(source: str) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "servable"
               for n in ast.walk(ast.parse(source)))


def _parameters(source: str, where: str, notes: list[str]) -> list[Parameter]:
    """The literal assignments of a parameters cell, with the range or choices their comments give."""
    lines = source.splitlines()
    found: list[Parameter] = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value_node, annotation = node.targets[0].id, node.value, None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value_node, annotation = node.target.id, node.value, node.annotation
        else:
            continue
        try:
            value = ast.literal_eval(value_node)
        except ValueError:
            notes.append(f"{where}: parameter `{name}` is not a literal, so it has no widget")
            continue
        comment = lines[(node.end_lineno or node.lineno) - 1].partition("#")[2].strip()
        found.append(_parameter(name, value, comment, annotation, where))
    return found


def _parameter(name: str, value: Any, comment: str, annotation: ast.expr | None, where: str) -> Parameter:
    choices: tuple[Any, ...] | None = None
    bounds: tuple[float, float] | None = None
    step: float | None = None
    description = comment
    if annotation is not None and isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) in (
            "Literal", "typing.Literal", "t.Literal"):
        items = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        choices = tuple(ast.literal_eval(i) for i in items)
    match = _RANGE.search(comment)
    if match:
        try:
            low, high = float(match["low"]), float(match["high"])
            step = float(match["step"]) if match["step"] else None
        except ValueError:
            raise DashboardError(f"{where}: parameter `{name}` has range {match.group(0)!r}; write "
                                 "`# range: 1..100` or `# range: 0..1 step 0.05`") from None
        if isinstance(value, int) and not isinstance(value, bool) and low.is_integer() and high.is_integer():
            bounds = (int(low), int(high))
        else:
            bounds = (low, high)
        description = description.replace(match.group(0), "")
    match = _CHOICES.search(comment)
    if match:
        choices = tuple(_choice(item.strip()) for item in match["items"].split(",") if item.strip())
        description = description.replace(match.group(0), "")
    if choices is not None and value not in choices:
        raise DashboardError(f"{where}: parameter `{name}` = {value!r} is not one of its choices {list(choices)}; "
                             "add it to the choices or change the value")
    if bounds is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                               or not bounds[0] <= value <= bounds[1]):
        raise DashboardError(f"{where}: parameter `{name}` = {value!r} is not a number within its range "
                             f"{bounds[0]}..{bounds[1]}; widen the range or change the value")
    return Parameter(name, value, choices, bounds, step, description.strip(" ;,"))


def _choice(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _local_modules(cells: list[dict[str, Any]], folder: Path) -> list[Path]:
    """Python files beside the notebook that its cells import (they travel with the app)."""
    found: list[Path] = []
    for cell in cells:
        for node in ast.walk(ast.parse(cell["source"])):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for name in names:
                candidate = folder / f"{name.split('.')[0]}.py"
                if candidate.is_file() and candidate not in found:
                    found.append(candidate)
    return found


def _extensions(cells: list[dict[str, Any]]) -> list[str]:
    """The Panel extensions the cells load (`pn.extension("tabulator")`): loaded by the app before the page."""
    found: list[str] = []
    for cell in cells:
        for node in ast.walk(ast.parse(cell["source"])):
            if (isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name))
                    and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "extension"):
                found += [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                          and a.value not in found]
    return found


def _cell_entry(cell: dict[str, Any]) -> list[str]:
    lines = cell["source"].splitlines(keepends=True) or [""]
    return [f"    {{\"cell\": {cell['cell']}, \"role\": \"{cell['role']}\", \"source\": (",
            *[f"        {line!r}" for line in lines],
            "    )},"]


def _app_source(notebook: str, title: str, cells: list[dict[str, Any]], parameters: list[Parameter],
                mode: str) -> str:
    cell_lines = [line for cell in cells for line in _cell_entry(cell)]
    parameter_lines = [f"    {p.to_spec()!r}," for p in parameters]
    shows = ("the cells tagged `dashboard`" if mode == "page_cells" else "the notebook's `.servable()` objects")
    extension = "".join(f"{e!r}, " for e in _extensions(cells))
    return "\n".join([
        f'"""{title}: the dashboard of {notebook}, generated by `plait dashboard`.',
        "",
        f"The page shows {shows}; the notebook's parameters are the widgets in",
        "the sidebar, and changing one runs the notebook's code again with it.",
        "Serve it with `panel serve app.py`. Regenerate it from the notebook rather",
        'than editing it."""',
        "",
        "from pathlib import Path",
        "",
        "import panel as pn",
        "",
        "from plait.dashboards.runtime import notebook_page",
        "",
        f'pn.extension({extension}sizing_mode="stretch_width")',
        "",
        "PARAMETERS = [",
        *parameter_lines,
        "]",
        "",
        "CELLS = [",
        *cell_lines,
        "]",
        "",
        f"page = notebook_page(CELLS, PARAMETERS, title={title!r}, mode={mode!r}, workdir=Path(__file__).parent)",
        f"page.servable(title={title!r})",
        "",
    ])
