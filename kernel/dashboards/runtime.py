"""What a generated notebook dashboard calls when `panel serve` runs it.

`notebook_page` compiles the notebook's cells once, makes the parameter
widgets, and draws the page by running the cells in a fresh namespace each
time a widget changes (the parameters cell first, then the widgets' values
assigned over it, as papermill injects parameters). A cell that raises stops
the run and shows its error on the page instead of a blank one.
"""

from __future__ import annotations

import ast
import builtins
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .widgets import widgets_for

WORKDIR_ENV = "PLAIT_DASHBOARD_WORKDIR"  # where the notebook's relative paths point (default: the app's folder)


@dataclass(frozen=True)
class _Cell:
    number: int
    role: str  # "code", "page" or "parameters"
    code: Any


class _Rewrite(ast.NodeTransformer):
    """`x.servable(...)` -> `__plait_servable__(x, ...)`; a page cell's last expression -> `__plait_show__(...)`."""

    def visit_Call(self, node: ast.Call) -> Any:
        self.generic_visit(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "servable":
            call = ast.Call(ast.Name("__plait_servable__", ast.Load()), [node.func.value, *node.args], node.keywords)
            return ast.copy_location(call, node)
        return node


def compile_cell(number: int, role: str, source: str) -> _Cell:
    tree = _Rewrite().visit(ast.parse(source))
    if role == "page" and tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        last.value = ast.copy_location(ast.Call(ast.Name("__plait_show__", ast.Load()), [last.value], []), last.value)
    ast.fix_missing_locations(tree)
    return _Cell(number, role, compile(tree, f"<cell {number}>", "exec"))


def run_cells(cells: Sequence[_Cell], values: Mapping[str, Any], workdir: Path | None = None) -> list[Any]:
    """Run the cells with the parameters' `values`; return what the page shows, in order."""
    page: list[Any] = []
    showing = [False]

    def add(obj: Any) -> None:
        if obj is not None and all(obj is not seen for seen in page):
            page.append(obj)

    def show(obj: Any) -> None:
        add(obj)

    def display(*objs: Any, **_: Any) -> None:
        if showing[0]:
            for obj in objs:
                add(obj)

    def servable(obj: Any, *_: Any, **__: Any) -> Any:
        add(obj)
        return obj

    import plait  # `%%task` cells become `@plait.task` functions

    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins, "display": display,
                                 "__plait_show__": show, "__plait_servable__": servable, "plait": plait}
    previous = os.getcwd()
    if workdir is not None:
        if str(workdir) not in sys.path:
            sys.path.insert(0, str(workdir))
        os.chdir(workdir)
    try:
        if not any(c.role == "parameters" for c in cells):
            namespace.update(values)
        for cell in cells:
            showing[0] = cell.role == "page"
            try:
                exec(cell.code, namespace)  # noqa: S102 - the notebook's own code, as its kernel ran it
            except Exception as exc:  # noqa: BLE001 - shown on the page; the server keeps serving
                page.append(_error(cell, exc))
                break
            if cell.role == "parameters":
                namespace.update(values)
    finally:
        os.chdir(previous)
    return page


def _error(cell: _Cell, exc: BaseException) -> Any:
    import panel as pn

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell ")]
    where = f", line {frames[-1].lineno}" if frames else ""
    return pn.pane.Alert(f"**cell {cell.number}{where} raised {type(exc).__name__}:** {exc}", alert_type="danger")


def notebook_page(cells: Sequence[Mapping[str, Any]], parameters: Sequence[Mapping[str, Any]], *,
                  title: str, mode: str = "page_cells", workdir: str | Path | None = None) -> Any:
    """The dashboard: the parameter widgets in a sidebar, the page the cells make beside them."""
    import panel as pn

    compiled = [compile_cell(int(c["cell"]), str(c["role"]) if mode == "page_cells" or c["role"] != "page"
                             else "code", str(c["source"])) for c in cells]
    where = Path(os.environ.get(WORKDIR_ENV) or workdir or Path.cwd())
    widgets = widgets_for(parameters)

    def render(**values: Any) -> Any:
        return pn.Column(*run_cells(compiled, values, where), sizing_mode="stretch_width")

    main = pn.panel(pn.bind(render, **widgets)) if widgets else render()
    sidebar = [pn.pane.Markdown("### Parameters"), *widgets.values()] if widgets else []
    return pn.template.BootstrapTemplate(title=title, main=[main], sidebar=sidebar)
