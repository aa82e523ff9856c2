"""The dashboard of an execution's outputs: one card per output, shown by what the value is.

Outputs like a training run's: a DataFrame of metrics, a loss curve (a list of
floats), a model card, a text summary, a report file and an image. The
generated app is served by `panel serve` and read back as a browser would.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import plait
import pytest
from dashboard_serving import served, texts
from PIL import Image
from plait.dashboards import from_execution
from plait.dashboards.execution import kind_of


def outputs(folder: Path) -> dict[str, Any]:
    report = folder / "report.csv"
    report.write_text("region,churn\neu,0.12\nus,0.18\n")
    png = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(png, format="PNG")
    return {
        "metrics": pd.DataFrame({"epoch": [1, 2, 3], "accuracy": [0.71, 0.8, 0.84]}),
        "loss": [0.9, 0.55, 0.41, 0.38],
        "card": plait.ModelCard("# Churn model\n\nA gradient-boosted classifier, **84%** accurate."),
        "summary": "## Summary\nThree epochs, best at the last.",
        "report": plait.FlyteFile(str(report)),
        "confusion": Image.open(io.BytesIO(png.getvalue())),
        "thumbnail": png.getvalue(),
        "settings": {"lr": 0.01, "epochs": 3},
        "best_epoch": 3,
    }


def test_each_output_is_shown_by_its_kind(tmp_path: Path) -> None:
    kinds = {name: kind_of(value) for name, value in outputs(tmp_path).items()}
    assert kinds == {"metrics": "table", "loss": "series", "card": "markdown", "summary": "markdown",
                     "report": "file", "confusion": "image", "thumbnail": "image", "settings": "json",
                     "best_epoch": "json"}
    assert kind_of(str(tmp_path / "report.csv"), plait.FlyteFile) == "file"  # a path by its declared type
    assert kind_of([True, False]) == "json" and kind_of([1.5]) == "json"  # no plot of bools or one point


def test_the_app_carries_its_data_beside_it(tmp_path: Path) -> None:
    source = from_execution(outputs(tmp_path), execution_id="f3a9c2")
    app = source.write(tmp_path / "site")
    data = tmp_path / "site" / "data"
    assert sorted(p.name for p in data.iterdir()) == [
        "best_epoch.json", "card.md", "confusion.png", "loss.json", "metrics.pkl", "report.csv",
        "settings.json", "summary.md", "thumbnail.png"]
    assert (data / "report.csv").read_text().startswith("region,churn")
    assert pd.read_pickle(data / "metrics.pkl").equals(outputs(tmp_path)["metrics"])
    ast.parse(app.read_text())
    assert "plait" not in app.read_text().split('"""', 2)[2]  # the app runs without plait


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, list[Any]]]:
    folder = tmp_path_factory.mktemp("execution")
    app = from_execution(outputs(folder), execution_id="f3a9c2").write(folder / "site")
    with served(app) as found:
        yield found


def test_the_served_dashboard_shows_a_table_a_plot_markdown_and_a_download(page: tuple[str, str, list[Any]]
                                                                            ) -> None:
    _, html, models = page
    assert "<title>Outputs of execution f3a9c2</title>" in html
    shown = texts(models)
    for name in ("metrics", "loss", "card", "summary", "report", "confusion", "thumbnail", "settings"):
        assert name in shown, name
    assert "Churn model" in shown and "Three epochs, best at the last." in shown
    table = next(m for m in models if type(m).__name__ == "DataTabulator")
    assert list(table.source.data["accuracy"]) == [0.71, 0.8, 0.84]
    line = next(m for m in models if type(m).__name__ == "Line")
    assert line is not None
    sources = [m for m in models if type(m).__name__ == "ColumnDataSource"]
    assert any(list(s.data.get("y", [])) == [0.9, 0.55, 0.41, 0.38] for s in sources)
    downloads = {m.filename for m in models if type(m).__name__ == "FileDownload"}
    assert {"report.csv", "confusion.png", "thumbnail.png"} <= downloads
