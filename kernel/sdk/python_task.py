"""User-defined task classes: Flyte's `PythonTask` and `Interface` (`flytekit.extend`).

A class that subclasses `PythonTask` and defines `execute(**kwargs)` is a task:

    class WaitFor(PythonTask):
        def __init__(self, name: str, **kwargs):
            super().__init__(task_type="wait-for", name=name,
                             interface=Interface(inputs={"path": str}, outputs={"path": str}), **kwargs)

        def execute(self, **kwargs):
            return kwargs["path"]

    wait = WaitFor(name="wait_for_file")

An instance runs like any task: called directly, in a workflow, with retries,
caching and the other settings given as keyword arguments or through
`metadata=TaskMetadata(...)`. Registration finds a module-level instance by its
attribute (or pickles it when it has no module), so it runs on the backend too.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from ..errors import UserError
from .interface import Interface as _Interface
from .interface import Param
from .tasks import PythonFunctionTask, TaskMetadata

T = TypeVar("T")


class Interface(_Interface):
    """Flyte's `Interface(inputs=..., outputs=...)`: inputs are `name: type` or
    `name: (type, default)`, outputs `name: type` (a single output may have any name)."""

    def __init__(self, inputs: Mapping[str, Any] | None = None, outputs: Mapping[str, Any] | None = None,
                 output_tuple_name: str | None = None, docstring: Any = None) -> None:
        params: dict[str, Param] = {}
        for name, spec in (inputs or {}).items():
            if isinstance(spec, tuple):
                if len(spec) != 2:
                    raise UserError(f"Interface input `{name}` is {spec!r}; give a type, or (type, default)")
                params[name] = Param(name, spec[0], spec[1])
            else:
                params[name] = Param(name, spec)
        super().__init__(params, dict(outputs or {}), None)


class PythonTask(PythonFunctionTask, Generic[T]):
    """Base of task classes: subclass it and define `execute(**kwargs)` (see the module).

    `task_config` is kept as `self.task_config` for the subclass; `metadata`
    (`TaskMetadata`) or keyword arguments (`retries`, `cache`, `requests`,
    `environment`, `secret_requests`, ...) set how it runs.
    """

    def __init__(self, task_type: str, name: str, task_config: T | None = None,
                 interface: _Interface | None = None, environment: Mapping[str, str] | None = None,
                 metadata: TaskMetadata | None = None, **kwargs: Any) -> None:
        from ..task_types.shell import caller_module, placeholder_function, settings_from

        if not isinstance(name, str) or not name:
            raise UserError(f"{type(self).__name__} needs a name, e.g. {type(self).__name__}(name=\"my_task\", ...), "
                            f"got {name!r}")
        if interface is not None and not isinstance(interface, _Interface):
            raise UserError(f"{type(self).__name__} `{name}`: interface expects plait.extend.Interface(inputs=..., "
                            f"outputs=...), got {type(interface).__name__}")
        self.task_type = task_type
        self.task_config = task_config
        docs = kwargs.pop("docs", None)
        for ignored in ("disable_deck", "enable_deck", "deck_fields", "task_resolver"):
            kwargs.pop(ignored, None)  # decks are not rendered; instances resolve by attribute
        security = kwargs.pop("security_ctx", None)
        if security is not None and getattr(security, "secrets", None):
            kwargs.setdefault("secret_requests", list(security.secrets))
        if environment:
            kwargs["environment"] = dict(environment)
        module, _ = caller_module()
        doc = inspect.cleandoc(type(self).__doc__ or "") or f"{task_type} task {name}."
        super().__init__(
            placeholder_function(name, module, doc, type(self).__name__),
            settings_from(f"{type(self).__name__} `{name}`", metadata, kwargs),
            name=name,
            interface=interface if interface is not None else Interface(),
            docs=docs,
        )

    @property
    def python_interface(self) -> _Interface:
        return self.interface

    def execute(self, **kwargs: Any) -> Any:
        raise UserError(f"{type(self).__name__} `{self.name}` defines no execute(**kwargs); a task class "
                        "runs its execute method: define it in the subclass")

    def invoke(self, kwargs: dict[str, Any]) -> Any:
        return self.execute(**kwargs)

    @property
    def source(self) -> str:
        """The class's source: what cache versions and registration hashes read."""
        if self._source is None:
            try:
                self._source = textwrap.dedent(inspect.getsource(type(self)))
            except (OSError, TypeError):
                self._source = f"{type(self).__module__}.{type(self).__qualname__}"
        return self._source


class PythonInstanceTask(PythonTask[T]):
    """Flyte's base for tasks that are instances of a class with an `execute` method;
    as `PythonTask`, with `task_type` defaulting to "python-task"."""

    def __init__(self, name: str, task_config: T | None = None, task_type: str = "python-task",
                 task_resolver: Any = None, **kwargs: Any) -> None:
        super().__init__(task_type=task_type, name=name, task_config=task_config, **kwargs)
