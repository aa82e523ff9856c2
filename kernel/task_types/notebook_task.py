"""`NotebookTask`: a notebook run as a typed task, and `record` for its outputs.

The notebook is executed by papermill in a fresh kernel. Inputs are injected
after the cell tagged `parameters` (plain values as code; anything else, a
DataFrame or a FlyteFile, through a pickle file read by an injected line).
Outputs are declared with types and recorded in the notebook either with
`plait.record("name", value)` or by assigning the names in a cell tagged
`outputs`. Besides the declared outputs the task returns the executed
notebook (`out_nb`) and its HTML rendering (`out_rendered_nb`), as Flyte's
papermill plugin does. The kernel runs in the notebook's own folder, so
relative paths work as they do in Jupyter; files a notebook returns should be
written under `plait.current_context().working_directory`.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from typing import Any

from ..config.settings import build_settings
from ..errors import UserError
from ..model.keys import content_version
from ..sdk.files import FlyteFile
from ..sdk.interface import Interface, Param
from ..sdk.tasks import PythonFunctionTask, check_params

_INJECTED = "plait-injected"
_RESERVED = ("out_nb", "out_rendered_nb")
_PLAIN = (str, int, float, bool, type(None))

# ------------------------------------------------------------ in the notebook

_session: dict[str, Any] = {}  # set by `begin` when the notebook runs as a task
recorded: dict[str, Any] = {}  # what `record` saw (also outside a task run)
_UNSET: Any = object()


def record(name: str | None = None, value: Any = _UNSET, /, **values: Any) -> Any:
    """Record notebook outputs: `record("accuracy", acc)` or `record(accuracy=acc, model=m)`.

    Outside a NotebookTask run the values are only kept in `recorded`, so the
    notebook runs unchanged on its own. Returns the (single) value recorded.
    """
    if name is not None:
        if value is _UNSET:
            raise UserError(f'record("{name}") needs a value: record("{name}", value)')
        values = {name: value, **values}
    if not values:
        raise UserError('record() needs outputs: record("name", value) or record(name=value)')
    declared = _session.get("outputs")
    for key, v in values.items():
        if declared is not None and key not in declared:
            raise UserError(
                f"this notebook declares the output(s) {declared}; `{key}` is not one of them. "
                "Record a declared name or add it to the NotebookTask's outputs"
            )
        recorded[key] = v
        folder = _session.get("record_to")
        if folder:
            with open(os.path.join(folder, f"{key}.pkl"), "wb") as fh:
                pickle.dump(v, fh)
    return v if len(values) == 1 else None


def begin(session: dict[str, Any]) -> None:
    """Called by the injected first cell: where to record, and the task's context."""
    from ..sdk import context as _ctx

    _session.clear()
    _session.update(session)
    recorded.clear()
    _ctx.push(_ctx.ExecutionParameters(
        _ctx.ExecutionId(session["execution"]), session["task"], session["attempt"],
        session["node"], tmp_root=session["workdir"],
    ))


def load_input(path: str) -> Any:
    """Called by the injected inputs cell for values that are not plain literals."""
    with open(path, "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - written by this task's own process


def collect(namespace: dict[str, Any]) -> None:
    """Run after a cell tagged `outputs`: record the declared names it defines."""
    for name in _session.get("outputs", ()):
        if name in namespace and name not in recorded:
            record(name, namespace[name])


# ---------------------------------------------------------------- the task


class NotebookError(UserError):
    """A notebook cell failed while the notebook ran as a task."""

    def __init__(self, message: str, *, notebook: str, cell: str, kept: str) -> None:
        super().__init__(message)
        self.notebook = notebook  # the notebook's file name
        self.cell = cell  # the failing cell's source
        self.kept = kept  # where the executed notebook, with the error, was saved


class NotebookTask(PythonFunctionTask):
    """A notebook as a typed task: `NotebookTask(name, notebook_path, inputs=..., outputs=...)`."""

    task_type = "notebook"

    def __init__(
        self,
        name: str,
        notebook_path: str | os.PathLike[str],
        inputs: dict[str, Any] | None = None,
        outputs: dict[str, Any] | None = None,
        *,
        kernel_name: str | None = None,
        render_html: bool = True,
        start_timeout: float = 60,
        docs: str | None = None,
        **task_params: Any,
    ) -> None:
        check_params("NotebookTask", task_params)
        owner = f"notebook task `{name}`"
        path = Path(notebook_path)
        if not path.is_absolute():
            caller = sys._getframe(1).f_globals.get("__file__")
            path = (Path(caller).resolve().parent if caller else Path.cwd()) / path
        if path.suffix != ".ipynb":
            raise UserError(f"{owner}: notebook_path must name a .ipynb file, got {notebook_path!s}")
        if not path.exists():
            raise UserError(f"{owner}: no notebook at {path}; check notebook_path")
        clash = [n for n in (outputs or {}) if n in _RESERVED]
        if clash:
            raise UserError(f"{owner}: output names {_RESERVED} are added by the task itself; rename {clash}")
        self.notebook_path = path
        self.kernel_name = kernel_name
        self.render_html = render_html
        self.start_timeout = start_timeout
        self.declared_outputs = list(outputs or {})
        interface = Interface(
            {n: Param(n, t) for n, t in (inputs or {}).items()},
            {**(outputs or {}), "out_nb": FlyteFile["ipynb"], "out_rendered_nb": FlyteFile["html"]},
        )

        def run_notebook(**kwargs: Any) -> Any:
            return self.invoke(kwargs)

        run_notebook.__name__ = run_notebook.__qualname__ = name.rsplit(".", 1)[-1]
        run_notebook.__doc__ = docs or f"Runs the notebook {path.name}."
        settings = build_settings(owner, **{k: v for k, v in task_params.items() if k != "name"})
        super().__init__(run_notebook, settings, name=name, interface=interface, docs=docs)
        # The engine remembers cache versions per task; forget them when the file changes.
        self.__dict__["_cache_versions"] = _VersionsOfFile(path)

    @property
    def source(self) -> str:
        """The notebook's code (not its outputs): what a cache version depends on."""
        import json

        try:
            nb = json.loads(self.notebook_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return ""
        cells = nb.get("cells", [])
        return "\n# ---\n".join(
            "".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code"
        )

    def to_spec(self) -> dict[str, Any]:
        spec = super().to_spec()
        spec.pop("version", None)
        spec["notebook"] = {"path": self.notebook_path.name, "kernel_name": self.kernel_name,
                            "outputs": self.declared_outputs}
        spec["version"] = content_version(spec)
        return spec

    # --------------------------------------------------------------- running

    def invoke(self, kwargs: dict[str, Any]) -> Any:
        import nbformat
        import papermill
        from papermill.exceptions import PapermillExecutionError

        from ..sdk.context import current_context

        ctx = current_context()
        workdir = Path(ctx.working_directory)
        stem = self.notebook_path.stem
        record_to = workdir / ".plait-record"
        record_to.mkdir(exist_ok=True)
        nb = self._prepare(nbformat, kwargs, workdir, {
            "record_to": str(record_to), "outputs": self.declared_outputs,
            "execution": ctx.execution_id.name, "task": self.name, "node": ctx.node_id,
            "attempt": ctx.attempt_number, "workdir": str(workdir),
        })
        out_nb = workdir / f"{stem}-out.ipynb"
        plain = {k: v for k, v in kwargs.items() if _is_plain(v)}
        try:
            papermill.execute_notebook(
                nb, str(out_nb), parameters=plain, kernel_name=self.kernel_name,
                progress_bar=False, log_output=False, request_save_on_cell_execute=False,
                start_timeout=self.start_timeout,
                resources={"metadata": {"path": str(self.notebook_path.parent)}},
            )
        except PapermillExecutionError as exc:
            kept = self._keep_failed(nbformat, out_nb, ctx)
            first = next((ln.strip() for ln in str(exc.source).splitlines() if ln.strip()), "")
            raise NotebookError(
                f"notebook {self.notebook_path.name} (task `{self.name}`) failed in the cell "
                f"`{first}`: {exc.ename}: {exc.evalue}; the executed notebook is at {kept}",
                notebook=self.notebook_path.name, cell=str(exc.source), kept=str(kept),
            ) from None
        executed = _without_injected(nbformat.read(str(out_nb), as_version=4))
        nbformat.write(executed, str(out_nb))
        out_html = workdir / f"{stem}-out.html"
        out_html.write_text(to_html(executed) if self.render_html else "", encoding="utf-8")
        values = self._read_outputs(record_to)
        return (*(values[n] for n in self.declared_outputs), FlyteFile(out_nb), FlyteFile(out_html))

    def _prepare(self, nbformat: Any, kwargs: dict[str, Any], workdir: Path, session: dict[str, Any]) -> Any:
        nb = nbformat.read(str(self.notebook_path), as_version=4)
        nb.cells = [c for c in nb.cells if _INJECTED not in c.metadata.get("tags", [])]

        def cell(code: str) -> Any:
            c = nbformat.v4.new_code_cell(code)
            c.metadata["tags"] = [_INJECTED]
            c.metadata["jupyter"] = {"source_hidden": True}
            return c

        mod = "__import__('plait.task_types.notebook_task', fromlist=['begin'])"
        cells = list(nb.cells)
        for i in range(len(cells) - 1, -1, -1):  # after each `outputs` cell: collect its names
            if "outputs" in cells[i].metadata.get("tags", []):
                cells.insert(i + 1, cell(f"{mod}.collect(globals())"))
        complex_inputs = {k: v for k, v in kwargs.items() if not _is_plain(v)}
        if complex_inputs:
            # Kept in the executed notebook (unlike the other injected cells): it shows the inputs.
            folder = workdir / ".plait-inputs"
            folder.mkdir(exist_ok=True)
            lines = ["# Parameters injected by plait from files (values that are not literals)",
                     "from plait.task_types.notebook_task import load_input as _plait_load_input", ""]
            for k, v in complex_inputs.items():
                path = folder / f"{k}.pkl"
                with open(path, "wb") as fh:
                    pickle.dump(v, fh)
                shown = repr(v).replace("\n", " ")
                shown = shown if len(shown) <= 60 else shown[:57] + "..."
                lines.append(f"{k} = _plait_load_input({str(path)!r})  # {shown}")
            inputs_cell = nbformat.v4.new_code_cell("\n".join(lines))
            inputs_cell.metadata["tags"] = ["plait-injected-inputs"]
            params = next((i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])), -1)
            cells.insert(params + 1, inputs_cell)
        cells.insert(0, cell(f"{mod}.begin({session!r})"))
        nb.cells = cells
        return nb

    def _read_outputs(self, folder: Path) -> dict[str, Any]:
        values = {}
        for name in self.declared_outputs:
            path = folder / f"{name}.pkl"
            if path.exists():
                with open(path, "rb") as fh:
                    values[name] = pickle.load(fh)  # noqa: S301 - written by this task's kernel
        missing = [n for n in self.declared_outputs if n not in values]
        if missing:
            from ..typesys import describe

            need = ", ".join(f"`{n}: {describe(self.interface.outputs[n])}`" for n in missing)
            raise UserError(
                f"notebook {self.notebook_path.name} (task `{self.name}`) did not record {need}; "
                f'call `plait.record("{missing[0]}", value)` in the notebook, or assign '
                f"`{missing[0]}` in a cell tagged `outputs`"
            )
        return values

    def _keep_failed(self, nbformat: Any, out_nb: Path, ctx: Any) -> Path:
        """Move a failed run's notebook out of the working directory, which is removed."""
        from ..model.home import local_data_dir

        folder = local_data_dir(ctx.execution_id.name, ctx.node_id)
        folder.mkdir(parents=True, exist_ok=True)
        kept: Path = folder / out_nb.name
        if out_nb.exists():
            nbformat.write(_without_injected(nbformat.read(str(out_nb), as_version=4)), str(kept))
        return kept


class _VersionsOfFile(dict):  # type: ignore[type-arg]
    """Per-task memo of cache versions, cleared when the notebook file changes."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.stamp: tuple[float, int] | None = None

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime, st.st_size)
        except OSError:
            stamp = None
        if stamp != self.stamp:
            self.clear()
            self.stamp = stamp
        return super().get(key, default)


def _is_plain(value: Any) -> bool:
    """Values papermill writes as code: scalars and lists/dicts of them."""
    if isinstance(value, _PLAIN):
        return True
    if type(value) is list:
        return all(_is_plain(v) for v in value)
    if type(value) is dict:
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def _without_injected(nb: Any) -> Any:
    nb.cells = [c for c in nb.cells if _INJECTED not in c.metadata.get("tags", [])]
    return nb


def to_html(nb: Any) -> str:
    """The executed notebook as HTML: nbconvert when installed, else a plain page."""
    try:
        from nbconvert import HTMLExporter
    except ImportError:
        return _minimal_html(nb)
    try:
        body, _ = HTMLExporter().from_notebook_node(nb)
        return str(body)
    except Exception:  # noqa: BLE001 - templates missing or broken: still give a page
        return _minimal_html(nb)


def _minimal_html(nb: Any) -> str:
    from html import escape

    title = escape(str(nb.metadata.get("papermill", {}).get("input_path", "notebook")))
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>",
             "<style>body{font-family:sans-serif;max-width:960px;margin:auto}"
             "pre{background:#f6f6f6;padding:8px;overflow:auto}.out{background:#fff;border-left:3px solid #ddd}"
             "</style></head><body>"]
    for c in nb.cells:
        if c.cell_type == "markdown":
            parts.append(f"<div class='md'><pre>{escape(c.source)}</pre></div>")
            continue
        if c.cell_type != "code":
            continue
        parts.append(f"<pre class='in'>{escape(c.source)}</pre>")
        for o in c.get("outputs", []):
            if o.output_type == "stream":
                parts.append(f"<pre class='out'>{escape(o.text)}</pre>")
            elif o.output_type == "error":
                parts.append(f"<pre class='out' style='color:#a00'>{escape(o.ename)}: {escape(o.evalue)}</pre>")
            else:
                data = o.get("data", {})
                if "text/html" in data:
                    parts.append(f"<div class='out'>{''.join(data['text/html'])}</div>")
                elif "image/png" in data:
                    parts.append(f"<img src='data:image/png;base64,{data['image/png']}'/>")
                elif "text/plain" in data:
                    parts.append(f"<pre class='out'>{escape(''.join(data['text/plain']))}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)
