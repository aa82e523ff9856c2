"""A notebook as a Panel dashboard: `notebooks/dashboard.ipynb` served by `panel serve`, and the rules.

The served page must answer HTTP 200 and carry the parameters' widgets and the
tagged cells' output; the rules (which cells make the page, what becomes a
widget, what is left out) are checked on the generated code without a server.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import plait
import pytest
from dashboard_serving import served, texts
from nbformat.v4 import new_code_cell, new_notebook
from plait.dashboards import DashboardError, from_notebook
from plait.dashboards.runtime import compile_cell, run_cells
from plait.dashboards.widgets import Parameter, kind_of, widget_for

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "dashboard.ipynb"
SERVABLE_ONLY = ROOT / "tests" / "resources" / "dashboards" / "servable_only.ipynb"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, list[Any]]]:
    """notebooks/dashboard.ipynb, written out and served (once for this module)."""
    app = from_notebook(NOTEBOOK).write(tmp_path_factory.mktemp("dashboard"))
    with served(app, workdir=NOTEBOOK.parent) as found:
        yield found


def test_the_served_notebook_answers_with_its_title_widgets_and_tagged_cells(page: tuple[str, str, list[Any]]
                                                                              ) -> None:
    url, html, models = page
    assert url.endswith("/app")
    assert "<title>Noisy signal</title>" in html
    shown = texts(models)
    for widget in ("n_points", "noise", "curve", "title", "show_table"):
        assert widget in shown, widget
    assert "A noisy curve" in shown  # the markdown cell, with the parameter's value
    assert "60 samples of a sine, noise 0.20" in shown
    kinds = {type(m).__name__ for m in models}
    assert {"Slider", "CustomSelect", "TextInput", "Checkbox", "DataTabulator", "Line"} <= kinds, kinds
    assert "raised" not in shown  # no cell failed


def test_the_widgets_carry_the_ranges_and_choices_the_comments_give(page: tuple[str, str, list[Any]]) -> None:
    models = page[2]
    sliders = {m.title: (m.start, m.end, m.step, m.value) for m in models if type(m).__name__ == "Slider"}
    assert sliders == {"n_points": (10, 400, 1, 60), "noise": (0.0, 1.0, 0.05, 0.2)}
    select = next(m for m in models if type(m).__name__ == "CustomSelect")
    assert (select.title, select.value, list(select.options)) == ("curve", "sine", ["sine", "cosine"])


def test_only_tagged_cells_make_the_page_and_magics_are_left_out() -> None:
    source = from_notebook(NOTEBOOK)
    assert source.widgets == ["n_points", "noise", "curve", "title", "show_table"]
    assert source.notes == ["cell 1: `%load_ext plait` runs only in a kernel, left out"]
    assert "@plait.task\ndef signal(" in eval(_cells(source.source)[2])  # the %%task cell, as a module has it
    cells = [compile_cell(c["cell"], c["role"], c["source"]) for c in _cell_dicts(source.source)]
    page = run_cells(cells, {"n_points": 12, "noise": 0.0, "curve": "cosine", "title": "T", "show_table": False})
    assert len(page) == 3  # the three tagged cells; the summary table of cell 5 is not on the page
    assert "12 samples of a cosine" in page[0].object
    assert page[2].object == "*table hidden*"


def _cell_dicts(app_source: str) -> list[dict[str, Any]]:
    tree = ast.parse(app_source)
    value = next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "CELLS")
    return list(ast.literal_eval(value))


def _cells(app_source: str) -> list[str]:
    return [repr(c["source"]) for c in _cell_dicts(app_source)]


def test_without_tags_the_servable_objects_are_the_page() -> None:
    source = from_notebook(SERVABLE_ONLY)
    assert "mode='servable'" in source.source
    cells = [compile_cell(c["cell"], c["role"], c["source"]) for c in _cell_dicts(source.source)]
    page = run_cells(cells, {"warehouse": "south", "minimum": 5})
    assert [p.object for p in page] == ["## south: restock bolts"]


def notebook(tmp_path: Path, *cells: Any) -> Path:
    path = tmp_path / "made.ipynb"
    nbformat.write(new_notebook(cells=list(cells)), str(path))
    return path


def test_a_notebook_with_nothing_to_show_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = notebook(tmp_path, new_code_cell("x = 1"), new_code_cell("x + 1"))
    with pytest.raises(DashboardError, match=r"made.ipynb has no cells tagged 'dashboard' and no `.servable\(\)` "
                                             r"objects, so a dashboard would be empty; tag the cells"):
        from_notebook(path)


def test_a_failing_cell_shows_its_error_on_the_page(tmp_path: Path) -> None:
    path = notebook(tmp_path, new_code_cell("rate = 0.5", metadata={"tags": ["parameters"]}),
                    new_code_cell("answer = 1 / (rate - 0.5)\nanswer", metadata={"tags": ["dashboard"]}))
    source = from_notebook(path)
    cells = [compile_cell(c["cell"], c["role"], c["source"]) for c in _cell_dicts(source.source)]
    alert = run_cells(cells, {"rate": 0.5})[-1]
    assert type(alert).__name__ == "Alert"
    assert "cell 2, line 1 raised ZeroDivisionError:** float division by zero" in alert.object
    assert run_cells(cells, {"rate": 1.5}) == [1.0]


def test_a_parameter_outside_its_range_or_choices_is_refused(tmp_path: Path) -> None:
    path = notebook(tmp_path, new_code_cell("n = 500  # range: 1..100", metadata={"tags": ["parameters"]}),
                    new_code_cell("n", metadata={"tags": ["dashboard"]}))
    with pytest.raises(DashboardError, match=r"cell 1: parameter `n` = 500 is not a number within its range "
                                             r"1..100; widen the range or change the value"):
        from_notebook(path)
    path = notebook(tmp_path, new_code_cell('mode = "fast"  # choices: slow, careful',
                                            metadata={"tags": ["parameters"]}),
                    new_code_cell("mode", metadata={"tags": ["dashboard"]}))
    with pytest.raises(DashboardError, match=r"parameter `mode` = 'fast' is not one of its choices"):
        from_notebook(path)


@pytest.mark.parametrize(
    ("parameter", "kind", "widget"),
    [
        (Parameter("flag", True), "checkbox", "Checkbox"),
        (Parameter("n", 3), "int_input", "IntInput"),
        (Parameter("n", 3, bounds=(0, 10)), "int_slider", "IntSlider"),
        (Parameter("x", 0.5), "float_input", "FloatInput"),
        (Parameter("x", 0.5, bounds=(0.0, 1.0)), "float_slider", "FloatSlider"),
        (Parameter("s", "hi"), "text", "TextInput"),
        (Parameter("s", "b", choices=("a", "b")), "select", "Select"),
        (Parameter("xs", [1, 2]), "literal", "LiteralInput"),
    ],
)
def test_a_parameter_type_maps_to_its_widget(parameter: Parameter, kind: str, widget: str) -> None:
    assert kind_of(parameter) == kind
    made = widget_for(parameter.name, parameter.value, choices=parameter.choices, bounds=parameter.bounds)
    assert type(made).__name__ == widget and made.value == parameter.value
    assert getattr(made, "label", made.name) == parameter.name
    assert plait.widgets.widget_for is widget_for


def test_changing_a_widget_runs_the_notebook_again_and_redraws_the_page() -> None:
    import html

    from bokeh.models import Model
    from plait.dashboards.runtime import notebook_page

    source = from_notebook(SERVABLE_ONLY)
    tree = ast.parse(source.source)
    parameters = ast.literal_eval(next(n.value for n in tree.body
                                       if isinstance(n, ast.Assign) and n.targets[0].id == "PARAMETERS"))
    page = notebook_page(_cell_dicts(source.source), parameters, title="Inventory check", mode="servable")
    root = page.main[0].get_root()  # the page as the models a browser is sent

    def shown() -> list[str]:
        return [html.unescape(m.text) for m in root.select({"type": Model}) if isinstance(getattr(m, "text", None), str)]

    assert any("north: restock nuts" in t for t in shown())
    warehouse = next(w for w in page.sidebar if getattr(w, "value", None) == "north")
    warehouse.value = "south"
    assert any("south: restock bolts" in t for t in shown())
    minimum = next(w for w in page.sidebar if getattr(w, "value", None) == 5)
    minimum.value = 1
    assert any("south: restock nothing" in t for t in shown())
