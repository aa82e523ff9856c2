"""`%plait launch | executions | logs | outputs`: remote runs from a notebook.

Extension point for the backend client. Each function receives the IPython
shell and the words after the command, and is reached through `%plait`
(errors are shortened there). The intended implementations:

- `launch WF --a 1 [--wait]`: resolve WF with `plait.magics.lookup`, parse the
  inputs with `plait.cli.parse_inputs`, call
  `plait.remote.Remote().execute(entity, inputs, wait=False)`, then poll
  `RemoteExecution.nodes()` into a `plait.notebook.progress.ProgressModel`
  (`planned_rows(entity)` first; `observe` takes any record with path,
  entity, kind and phase, attempts as a count or a list, optional
  started/ended on the model's `clock`, which is `time.time` for remote
  timestamps) shown by `ProgressWidget` (the same view as local runs),
  add a link to the execution in JupyterLab, stream `logs()` into the cell
  output, and with `--wait` return `outputs` as `%plait run` does.
  Tasks defined in cells carry their source in `fn.__plait_source__`; before
  launching, refuse a kernel/worker Python version mismatch with a message.
- `executions`: a table of recent executions; `logs EXEC NODE`: the node's
  log text; `outputs EXEC`: the outputs as Python values.
"""

from __future__ import annotations

from typing import Any

from ..notebook.cells import CellError


def _client(command: str) -> Any:
    try:
        from ..remote import Remote
    except ImportError:
        raise CellError(
            f"%plait {command} runs on a plait backend, and this installation has no backend "
            "client (plait.remote) yet; run locally with `%plait run` meanwhile"
        ) from None
    return Remote


def launch(shell: Any, args: list[str]) -> Any:
    _client("launch")
    raise CellError("%plait launch is not implemented yet; use `%plait run` for a local run")


def executions(shell: Any, args: list[str]) -> Any:
    _client("executions")
    raise CellError("%plait executions is not implemented yet")


def logs(shell: Any, args: list[str]) -> Any:
    _client("logs")
    raise CellError("%plait logs is not implemented yet")


def outputs(shell: Any, args: list[str]) -> Any:
    _client("outputs")
    raise CellError("%plait outputs is not implemented yet")
