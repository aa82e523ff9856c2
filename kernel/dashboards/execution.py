"""`from_execution(outputs)`: a Panel dashboard of an execution's outputs, one card per output.

Each output is shown by what it is: a DataFrame as a table, a list or series
of numbers as a line plot, an image (PIL, PNG/JPEG/GIF bytes, an image file)
as an image, a model or data card and any text as Markdown, a file as a
download, and anything else as JSON (or, when it is not JSON, its repr).
The values are written beside `app.py` (under `data/`), so the app needs
neither the backend nor plait to run: `panel serve app.py` and pandas for tables.
"""

from __future__ import annotations

import io
import json
import numbers
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .source import DashboardSource

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
_SIGNATURES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg", b"GIF87a": ".gif", b"GIF89a": ".gif"}


def kind_of(value: Any, tp: Any = None) -> str:
    """How an output is shown: table, series, image, markdown, file or json."""
    cls = type(value)
    module = cls.__module__.split(".")[0]
    if module == "pandas" and cls.__name__ == "DataFrame":
        return "table"
    if module == "PIL" and hasattr(value, "save") and hasattr(value, "mode"):
        return "image"
    if isinstance(value, (bytes, bytearray)) and _image_suffix(bytes(value)) is not None:
        return "image"
    if isinstance(value, os.PathLike) or (isinstance(value, str) and _is_path_type(tp)):
        path = Path(os.fspath(value))
        if path.is_file():
            return "image" if path.suffix.lower() in _IMAGE_SUFFIXES else "file"
        return "json"
    if hasattr(value, "text") and getattr(value, "kind", None) in ("model", "data"):
        return "markdown"  # a ModelCard or DataCard
    if isinstance(value, str):
        return "markdown"
    if _numbers(value) is not None:
        return "series"
    return "json"


def _is_path_type(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, os.PathLike)


def _image_suffix(data: bytes) -> str | None:
    return next((suffix for magic, suffix in _SIGNATURES.items() if data.startswith(magic)), None)


def _numbers(value: Any) -> list[float] | None:
    """The values of a 1-D numeric sequence (list, tuple, pandas Series, NumPy array), else None."""
    cls = type(value)
    if cls.__module__.split(".")[0] in ("pandas", "numpy"):
        shape = getattr(value, "shape", ())
        if len(shape) != 1 or getattr(getattr(value, "dtype", None), "kind", "") not in "iuf":
            return None
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        return None
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
        return [float(v) for v in value]
    return None


def _json_text(value: Any) -> str | None:
    try:
        return json.dumps(value, indent=1, default=_jsonable)
    except (TypeError, ValueError):
        return None


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "to_spec"):
        return value.to_spec()
    raise TypeError(type(value).__name__)


def from_execution(outputs: Mapping[str, Any], types: Mapping[str, Any] | None = None, *,
                   title: str | None = None, execution_id: str | None = None) -> DashboardSource:
    """The dashboard of `outputs` (name -> value, as `RemoteExecution.outputs` gives them)."""
    title = title or (f"Outputs of execution {execution_id}" if execution_id else "Execution outputs")
    files: dict[str, bytes | Path] = {}
    cards: list[str] = []
    used: set[str] = set()
    for index, (name, value) in enumerate(outputs.items()):
        stem = _file_stem(name, index, used)
        kind = kind_of(value, (types or {}).get(name))
        label = f"{name}"
        if kind == "table":
            buffer = io.BytesIO()
            value.to_pickle(buffer)
            files[f"data/{stem}.pkl"] = buffer.getvalue()
            cards.append(f'table({label!r}, pd.read_pickle(DATA / "{stem}.pkl"))')
        elif kind == "series":
            files[f"data/{stem}.json"] = json.dumps(_numbers(value)).encode()
            cards.append(f'series({label!r}, json.loads((DATA / "{stem}.json").read_text()))')
        elif kind == "image":
            relative = _image_file(value, stem, files)
            cards.append(f'image({label!r}, DATA / "{relative}")')
        elif kind == "markdown":
            markdown = value if isinstance(value, str) else str(value.text)
            files[f"data/{stem}.md"] = markdown.encode()
            cards.append(f'markdown({label!r}, (DATA / "{stem}.md").read_text())')
        elif kind == "file":
            path = Path(os.fspath(value))
            relative = f"{stem}{path.suffix}"
            files[f"data/{relative}"] = path
            cards.append(f'download({label!r}, DATA / "{relative}", {path.name!r})')
        else:
            shown = _json_text(value)
            if shown is None:
                files[f"data/{stem}.txt"] = repr(value).encode()
                cards.append(f'text({label!r}, (DATA / "{stem}.txt").read_text())')
            else:
                files[f"data/{stem}.json"] = shown.encode()
                cards.append(f'as_json({label!r}, json.loads((DATA / "{stem}.json").read_text()))')
    return DashboardSource(title=title, source=_app_source(title, cards, execution_id), files=files)


def _file_stem(name: str, index: int, used: set[str]) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or f"output{index}"
    while stem in used:
        stem = f"{stem}_{index}"
    used.add(stem)
    return stem


def _image_file(value: Any, stem: str, files: dict[str, bytes | Path]) -> str:
    if isinstance(value, (bytes, bytearray)):
        relative = f"{stem}{_image_suffix(bytes(value))}"
        files[f"data/{relative}"] = bytes(value)
    elif isinstance(value, (os.PathLike, str)):
        path = Path(os.fspath(value))
        relative = f"{stem}{path.suffix.lower()}"
        files[f"data/{relative}"] = path
    else:  # a PIL image
        buffer = io.BytesIO()
        value.save(buffer, format="PNG")
        relative = f"{stem}.png"
        files[f"data/{relative}"] = buffer.getvalue()
    return relative


_HELPERS = '''
def card(name, body):
    return pn.Card(body, title=name, collapsible=False, sizing_mode="stretch_width")


def table(name, frame):
    return card(name, pn.widgets.Tabulator(frame, disabled=True, pagination="remote", page_size=20))


def series(name, values):
    from bokeh.plotting import figure

    plot = figure(height=280, sizing_mode="stretch_width", x_axis_label="index", y_axis_label=name)
    plot.line(list(range(len(values))), values, line_width=2)
    return card(name, pn.pane.Bokeh(plot))


def image(name, path):
    return card(name, pn.Column(pn.pane.Image(str(path), max_height=480),
                                pn.widgets.FileDownload(file=str(path), filename=path.name)))


def markdown(name, text):
    return card(name, pn.pane.Markdown(text))


def download(name, path, filename):
    return card(name, pn.widgets.FileDownload(file=str(path), filename=filename, label=f"Download {filename}"))


def as_json(name, value):
    return card(name, pn.pane.JSON(value, depth=2))


def text(name, value):
    return card(name, pn.pane.Str(value))
'''


def _app_source(title: str, cards: list[str], execution_id: str | None) -> str:
    what = f"execution {execution_id}" if execution_id else "an execution"
    imports = ["import json", "from pathlib import Path", "", "import panel as pn"]
    if any(c.startswith("table(") for c in cards):
        imports.append("import pandas as pd")
    extensions = '"tabulator"' if any(c.startswith("table(") for c in cards) else ""
    return "\n".join([
        f'"""{title}: a dashboard of the outputs of {what}, generated by `plait dashboard`.',
        "",
        "The values are in data/ beside this file. Serve it with `panel serve app.py`.",
        '"""',
        "",
        *imports,
        "",
        f'pn.extension({extensions + ", " if extensions else ""}sizing_mode="stretch_width")',
        "",
        'DATA = Path(__file__).parent / "data"',
        _HELPERS,
        "",
        "OUTPUTS = [",
        *[f"    {c}," for c in cards],
        "]",
        "",
        f"pn.template.BootstrapTemplate(title={title!r}, main=OUTPUTS or [markdown('outputs', "
        f"'{what} has no outputs')]).servable(title={title!r})",
        "",
    ])
