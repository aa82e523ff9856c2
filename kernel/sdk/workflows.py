"""Workflows: `@workflow` functions compiled to graphs, and imperative `Workflow`."""

from __future__ import annotations

import contextlib
import enum
import inspect
import io
import sys
import threading
from collections.abc import Callable
from typing import Any

from ..errors import CompileError, UserError
from ..model.keys import content_version
from .compiler import Graph, GraphBuilder, collect_outputs, to_binding
from .entity import Entity, description_of, qualified_name
from .interface import Interface, Param, interface_from_function
from .promise import Promise


class WorkflowFailurePolicy(enum.Enum):
    FAIL_IMMEDIATELY = "FAIL_IMMEDIATELY"
    FAIL_AFTER_EXECUTABLE_NODES_COMPLETE = "FAIL_AFTER_EXECUTABLE_NODES_COMPLETE"


class _GraphEntity(Entity):
    """Shared by decorated and imperative workflows: a compiled graph and its failure policy
    (plait.run.nodes runs it)."""

    kind = "workflow"
    failure_policy: WorkflowFailurePolicy = WorkflowFailurePolicy.FAIL_IMMEDIATELY
    on_failure: Any = None
    interruptible: bool = False
    docs: dict[str, str]

    def compile(self) -> Graph:  # pragma: no cover - overridden
        raise NotImplementedError

    def on_node_added(self, node: Any) -> None:
        self.compile()  # a subworkflow's own mistakes surface where it is used

    def to_spec(self) -> dict[str, Any]:
        graph = self.compile()
        body: dict[str, Any] = {
            "kind": "workflow",
            "name": self.name,
            "interface": self.interface.to_spec(),
            "docs": self.docs,
            "failure_policy": self.failure_policy.value,
            "interruptible": self.interruptible,
            "on_failure": self.on_failure.name if self.on_failure is not None else None,
            **graph.to_spec(self.interface.outputs),
        }
        body["version"] = content_version(body)
        return body

    def entities(self) -> list[Any]:
        """Every entity this workflow uses, recursively (for registration)."""
        seen: dict[int, Any] = {}

        def visit(nodes: list[Any]) -> None:
            for n in nodes:
                e = n.entity
                if id(e) in seen:
                    continue
                seen[id(e)] = e
                for sub in getattr(e, "sub_entities", lambda: [])():
                    seen.setdefault(id(sub), sub)
                    if isinstance(sub, _GraphEntity):
                        visit(sub.compile().nodes)
                if isinstance(e, _GraphEntity):
                    visit(e.compile().nodes)

        visit(self.compile().nodes)
        return list(seen.values())


def _check_on_failure(owner: str, interface: Interface, handler: Any) -> Any:
    if handler is None:
        return None
    if not isinstance(handler, Entity):
        raise UserError(f"{owner}: on_failure expects a @task or @workflow, got {type(handler).__name__}")
    # As in Flyte, the handler takes the workflow's inputs, and `err` (the error) only if it
    # wants it: a handler that just cleans up need not declare it.
    got = set(handler.interface.inputs) - {"err", "error"}
    if got != set(interface.inputs):
        raise CompileError(
            f"{owner}: on_failure handler `{handler.name}` must take the workflow's inputs "
            f"{sorted(interface.inputs)} plus `err: FlyteError` if it reads the error (it may "
            f"leave `err` out); it takes {sorted(handler.interface.inputs)}"
        )
    return handler


class WorkflowEntity(_GraphEntity):
    """What `@workflow` makes.

    Its body runs once, when it is defined, to build the graph: a mistake shows where the
    workflow is written. What the body prints then is held back (`printed`), not shown at
    import, and shown each time the workflow runs locally, where Flyte runs the body; never
    twice for one run. A run on the backend runs the graph and prints nothing of the body.
    """

    printed: str = ""

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        failure_policy: WorkflowFailurePolicy | None = None,
        interruptible: bool = False,
        on_failure: Any = None,
        docs: Any = None,
    ) -> None:
        self.function = function
        self.name = qualified_name(function)
        self.interface = interface_from_function(function, "workflow")
        self.failure_policy = failure_policy or WorkflowFailurePolicy.FAIL_IMMEDIATELY
        self.interruptible = interruptible
        self.on_failure = _check_on_failure(f"workflow `{self.name}`", self.interface, on_failure)
        self.docs = description_of(function, docs)
        self.__doc__ = function.__doc__
        self.__wrapped__ = function
        self._graph: Graph | None = None
        try:
            self.compile()
        except NameError:
            pass  # something it calls is defined later: compile on first use

    def compile(self) -> Graph:
        if self._graph is not None:
            return self._graph
        owner = f"workflow `{self.name}`"
        builder = GraphBuilder(owner)
        promises = {n: Promise(None, n, p.type) for n, p in self.interface.inputs.items()}
        held = io.StringIO()
        # sys.stdout is the process's: held back only where no task of a run may be printing
        hold = threading.current_thread() is threading.main_thread()
        try:
            with builder, contextlib.redirect_stdout(held) if hold else contextlib.nullcontext():
                result = self.function(**promises)
        except NameError as exc:
            if self._compiling_lazily():
                sys.stdout.write(held.getvalue())
                raise CompileError(f"{owner}: {exc}; define it before running the workflow") from exc
            raise  # compiled again on first use, which prints again
        except BaseException:
            sys.stdout.write(held.getvalue())  # what the body printed explains its error
            raise
        outputs = collect_outputs(result, self.interface, owner)
        self.printed = held.getvalue()
        self._graph = Graph(builder.nodes, outputs)
        return self._graph

    def _compiling_lazily(self) -> bool:
        # During the decorator call the frame above __init__ is the definition;
        # any later compile is "first use".
        return not any(f.function == "__init__" and f.frame.f_locals.get("self") is self
                       for f in inspect.stack(0)[1:4])


def workflow(
    _fn: Callable[..., Any] | None = None,
    *,
    failure_policy: WorkflowFailurePolicy | None = None,
    interruptible: bool = False,
    on_failure: Any = None,
    docs: Any = None,
) -> Any:
    """Make a workflow: `@workflow` or `@workflow(failure_policy=..., on_failure=...)`."""

    def wrap(fn: Callable[..., Any]) -> WorkflowEntity:
        return WorkflowEntity(
            fn, failure_policy=failure_policy, interruptible=interruptible,
            on_failure=on_failure, docs=docs,
        )

    return wrap(_fn) if _fn is not None else wrap


class ImperativeWorkflow(_GraphEntity):
    """A workflow built by calls: inputs, entities and outputs added one by one."""

    def __init__(
        self,
        name: str,
        failure_policy: WorkflowFailurePolicy | None = None,
        interruptible: bool = False,
    ) -> None:
        self.name = name
        self.failure_policy = failure_policy or WorkflowFailurePolicy.FAIL_IMMEDIATELY
        self.interruptible = interruptible
        self.docs = {"short": "", "long": ""}
        self.interface = Interface({}, {})
        self._builder = GraphBuilder(f"workflow `{name}`")
        self._outputs: dict[str, Any] = {}
        self.inputs: dict[str, Promise] = {}
        self._graph: Graph | None = None

    def add_workflow_input(self, name: str, python_type: Any) -> Promise:
        if name in self.interface.inputs:
            raise CompileError(f"workflow `{self.name}` already has an input `{name}`")
        inputs = {**self.interface.inputs, name: Param(name, python_type)}
        self.interface = Interface(inputs, self.interface.outputs)
        self.inputs[name] = Promise(None, name, python_type)
        self._graph = None
        return self.inputs[name]

    def add_entity(self, entity: Any, **kwargs: Any) -> Any:
        if not isinstance(entity, Entity):
            raise CompileError(
                f"workflow `{self.name}`: add_entity expects a task, workflow or launch plan, "
                f"got {type(entity).__name__}"
            )
        with self._builder:
            self._builder.add(entity, (), kwargs)
        self._graph = None
        return self._builder.nodes[-1]

    add_task = add_subwf = add_launch_plan = add_entity

    def add_workflow_output(self, output_name: str, p: Any, python_type: Any = None) -> None:
        if output_name in self.interface.outputs:
            raise CompileError(f"workflow `{self.name}` already has an output `{output_name}`")
        if python_type is None:
            if not isinstance(p, Promise):
                raise CompileError(
                    f"workflow `{self.name}` output `{output_name}`: pass python_type=... "
                    "when the output is a list of promises or a literal"
                )
            python_type = p.type
        owner = f"workflow `{self.name}`"
        self._outputs[output_name] = to_binding(p, python_type, owner, output_name, owner)
        outputs = {**self.interface.outputs, output_name: python_type}
        self.interface = Interface(self.interface.inputs, outputs)
        self._graph = None

    def compile(self) -> Graph:
        if self._graph is None:
            self._graph = Graph(list(self._builder.nodes), dict(self._outputs))
        return self._graph


Workflow = ImperativeWorkflow
