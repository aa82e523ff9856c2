"""`flytekit.core.task` as `plait.core.task`: the task decorators, and `Echo`.

`Echo(name="pass_through", inputs={"a": int})` is a task with no body: its
outputs (`o0`, `o1`, ... in input order) are its inputs. Flyte programs use it
as the "do nothing" branch of a conditional. Locally and on the backend it
runs like any task, in the process of its workflow's node.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import UserError
from ..sdk.interface import interface_from_types
from ..sdk.tasks import PythonFunctionTask, TaskMetadata, reference_task, task
from ..task_types.shell import caller_module, placeholder_function, settings_from

__all__ = ["Echo", "PythonFunctionTask", "TaskMetadata", "reference_task", "task"]


class Echo(PythonFunctionTask):
    """A task that hands its inputs back as its outputs, unchanged."""

    task_type = "echo"

    def __init__(self, name: str, inputs: Mapping[str, Any] | None = None,
                 metadata: TaskMetadata | None = None, **params: Any) -> None:
        if not isinstance(name, str) or not name:
            raise UserError(f"Echo needs a name, e.g. Echo(name=\"pass_through\", inputs={{'a': int}}), got {name!r}")
        if inputs is not None and not isinstance(inputs, Mapping):
            raise UserError(
                f"Echo `{name}`: inputs expects a dict of input names to types such as {{'a': int}}, "
                f"got {type(inputs).__name__}"
            )
        types = dict(inputs or {})
        module, _ = caller_module()
        docs = params.pop("docs", None)
        super().__init__(
            placeholder_function(name, module, f"Echo task {name}.", "Echo"),
            settings_from(f"Echo `{name}`", metadata, params),
            name=name,
            interface=interface_from_types(types, {f"o{i}": t for i, t in enumerate(types.values())}),
            docs=docs if docs is not None else "",
        )

    def invoke(self, kwargs: dict[str, Any]) -> Any:
        values = [kwargs[n] for n in self.interface.inputs]
        if not values:
            return None
        return values[0] if len(values) == 1 else tuple(values)

    @property
    def source(self) -> str:
        return f"echo {list(self.interface.inputs)}"
