"""Notebooks as typed tasks: run by papermill in real kernels, inside workflows."""

from __future__ import annotations

import datetime
import importlib.util
import json
import shutil
import sys
import time
from pathlib import Path
from types import ModuleType

import plait
import pytest
from plait.run.engine import execute
from plait.task_types.notebook_task import NotebookError, NotebookTask

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "notebooks" / "pipeline"
NOTEBOOKS = ROOT / "tests" / "resources" / "notebooks"


def load_pipeline() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebook_pipeline_example", PIPELINE / "pipeline.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_three_notebooks_compose_into_one_typed_pipeline(plait_home: Path) -> None:
    pipeline = load_pipeline()
    result = execute(pipeline.notebook_pipeline, {"n": 30, "seed": 3})
    assert [(r.path, r.entity, r.phase) for r in result.nodes.values()] == [
        ("n0", "load", "SUCCEEDED"), ("n1", "stats", "SUCCEEDED"), ("n2", "report", "SUCCEEDED"),
    ]
    summary = result.outputs["o0"]
    assert summary.startswith("30 values, mean ") and " ± " in summary
    # every step keeps its executed notebook and an HTML rendering of it
    run_dir = plait_home / "data" / "local" / result.id
    executed = json.loads((run_dir / "n0" / "load-out.ipynb").read_text())
    tags = [c["metadata"].get("tags", []) for c in executed["cells"]]
    assert tags[1:3] == [["parameters"], ["injected-parameters"]] and ["plait-injected"] not in tags
    assert "Stats" in (run_dir / "n1" / "stats-out.html").read_text()
    assert (run_dir / "n0" / "data.csv").read_text().startswith("i,value")


def test_notebook_inputs_and_outputs_are_type_checked_in_workflows() -> None:
    pipeline = load_pipeline()
    with pytest.raises(plait.TypeMismatchError, match="`stats` expects input `data: FlyteFile"):
        @plait.workflow
        def wrong(n: int) -> float:
            return pipeline.stats(data=n).mean

    assert list(pipeline.stats.interface.outputs) == ["mean", "stdev", "count", "out_nb", "out_rendered_nb"]


def test_a_failing_cell_fails_the_task_and_keeps_the_notebook(plait_home: Path) -> None:
    divide = NotebookTask("divide", NOTEBOOKS / "broken_cell.ipynb", inputs={"divisor": int},
                          outputs={"ratio": float})
    with pytest.raises(NotebookError, match=r"failed in the cell `ratio = 10 / divisor`: ZeroDivisionError") as info:
        divide(divisor=0)
    assert info.value.cell == "ratio = 10 / divisor\nrecord('ratio', ratio)"
    kept = Path(info.value.kept)
    cells = json.loads(kept.read_text())["cells"]
    assert any(o.get("ename") == "ZeroDivisionError" for c in cells for o in c.get("outputs", []))


def test_an_output_the_notebook_never_records_is_named() -> None:
    divide = NotebookTask("divide", NOTEBOOKS / "broken_cell.ipynb", inputs={"divisor": int},
                          outputs={"ratio": float, "remainder": int})
    with pytest.raises(plait.UserError, match=r"did not record `remainder: int`; call `plait.record"):
        divide(divisor=4)


def test_values_that_are_not_literals_go_in_and_out_through_files() -> None:
    days = NotebookTask("days", NOTEBOOKS / "calendar_days.ipynb",
                        inputs={"start": datetime.date, "days": int},
                        outputs={"end": datetime.date, "weekdays": list[str]})
    end, weekdays, notebook, html = days(start=datetime.date(2024, 5, 3), days=4)
    assert end == datetime.date(2024, 5, 7) and weekdays == ["Fri", "Sat", "Sun", "Mon"]
    cells = json.loads(Path(notebook).read_text())["cells"]
    shown = next("".join(c["source"]) for c in cells if "plait-injected-inputs" in c["metadata"].get("tags", []))
    assert "start = _plait_load_input(" in shown and "# datetime.date(2024, 5, 3)" in shown
    assert Path(html).read_text().lstrip().lower().startswith("<!doctype html")


def test_a_cached_notebook_runs_again_only_when_its_code_changes(tmp_path: Path) -> None:
    copy = tmp_path / "report.ipynb"
    shutil.copy(PIPELINE / "report.ipynb", copy)
    report = NotebookTask("report", copy, inputs={"mean": float, "stdev": float, "count": int},
                          outputs={"summary": str}, cache=True)
    first = execute(report, {"mean": 1.0, "stdev": 0.5, "count": 3})
    started = time.perf_counter()
    again = execute(report, {"mean": 1.0, "stdev": 0.5, "count": 3})
    assert time.perf_counter() - started < 0.5
    assert again.nodes[""].phase == "CACHE_HIT" and again.outputs["summary"] == first.outputs["summary"]
    nb = json.loads(copy.read_text())
    nb["cells"][2]["source"] = ["from plait.task_types.notebook_task import record\n", "record('summary', f'n={count}')"]
    copy.write_text(json.dumps(nb))
    edited = execute(report, {"mean": 1.0, "stdev": 0.5, "count": 3})
    assert edited.nodes[""].phase == "SUCCEEDED" and edited.outputs["summary"] == "n=3"


def test_without_nbconvert_the_html_is_still_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from plait.task_types.notebook_task import to_html

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("1 < 2")]
    nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "True"}),
                           nbformat.v4.new_output("stream", text="a <b>\n")]
    monkeypatch.setitem(sys.modules, "nbconvert", None)  # as if it were not installed
    page = to_html(nb)
    assert page.startswith("<!DOCTYPE html>") and "1 &lt; 2" in page and "a &lt;b&gt;" in page
