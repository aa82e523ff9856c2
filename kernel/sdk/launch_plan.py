"""Launch plans: a workflow plus default and fixed inputs and run settings.

Locally a launch plan runs its workflow with its defaults merged under the
caller's inputs; fixed inputs cannot be overridden. Called inside a workflow
it is a sub-launch plan: a child execution with its own id. Schedules,
notifications, triggers and security settings are validated here and carried
in the spec for the backend.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ..errors import CompileError, InputError, UserError
from ..model.keys import content_version
from ..typesys import ValueTypeError, checker, describe, to_literal
from .entity import Entity
from .interface import Interface, Param, interface_from_function

_registry: dict[str, LaunchPlan] = {}
_registry_lock = threading.Lock()


def _spec_of(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_spec_of(v) for v in value]
    if isinstance(value, dict):
        return {k: _spec_of(v) for k, v in value.items()}
    if hasattr(value, "to_spec"):
        return value.to_spec()
    return repr(value)


class LaunchPlan(Entity):
    kind = "launch_plan"

    def __init__(
        self,
        name: str,
        workflow: Any,
        *,
        default_inputs: dict[str, Any] | None = None,
        fixed_inputs: dict[str, Any] | None = None,
        schedule: Any = None,
        notifications: Any = None,
        labels: Any = None,
        annotations: Any = None,
        max_parallelism: int | None = None,
        security_context: Any = None,
        auth_role: Any = None,
        raw_output_data_config: Any = None,
        trigger: Any = None,
        concurrency: Any = None,
        overwrite_cache: bool | None = None,
        auto_activate: bool = False,
    ) -> None:
        if not isinstance(workflow, Entity) or workflow.kind != "workflow":
            raise UserError(
                f"launch plan `{name}`: expected a @workflow, got {type(workflow).__name__}; "
                "wrap a task in a workflow first"
            )
        self.name = name
        self.workflow = workflow
        owner = f"launch plan `{name}`"
        wf_inputs = workflow.interface.inputs
        self.fixed_inputs = self._checked(owner, "fixed_inputs", fixed_inputs or {}, wf_inputs)
        self.default_inputs = self._checked(owner, "default_inputs", default_inputs or {}, wf_inputs)
        both = set(self.fixed_inputs) & set(self.default_inputs)
        if both:
            raise InputError(f"{owner}: input(s) {sorted(both)} are both fixed and defaulted; choose one")
        inputs = {}
        for n, p in wf_inputs.items():
            if n in self.fixed_inputs:
                continue
            inputs[n] = Param(n, p.type, self.default_inputs[n]) if n in self.default_inputs else p
        self.interface = Interface(inputs, workflow.interface.outputs, workflow.interface.output_tuple)
        if max_parallelism is not None and (not isinstance(max_parallelism, int) or max_parallelism < 0):
            raise InputError(f"{owner}: max_parallelism expects a whole number >= 0, got {max_parallelism!r}")
        self.schedule = schedule
        self._check_schedule(owner)
        self.notifications = list(notifications) if isinstance(notifications, (list, tuple)) else (
            [notifications] if notifications is not None else []
        )
        self.labels = labels
        self.annotations = annotations
        self.max_parallelism = max_parallelism
        self.security_context = security_context
        self.auth_role = auth_role
        self.raw_output_data_config = raw_output_data_config
        self.trigger = trigger
        self.concurrency = concurrency
        self.overwrite_cache = overwrite_cache
        self.auto_activate = auto_activate
        self.docs = getattr(workflow, "docs", {"short": "", "long": ""})

    @staticmethod
    def _checked(owner: str, what: str, values: dict[str, Any], wf_inputs: dict[str, Param]) -> dict[str, Any]:
        out = {}
        for k, v in values.items():
            if k not in wf_inputs:
                raise InputError(
                    f"{owner}: {what} names `{k}`, which is not an input of the workflow; "
                    f"its inputs are {list(wf_inputs)}"
                )
            if hasattr(v, "is_artifact_query"):
                out[k] = v  # resolved when the plan runs
                continue
            try:
                out[k] = checker(wf_inputs[k].type)(v)
            except ValueTypeError as exc:
                raise InputError(
                    f"{owner}: {what}[{k!r}] expects `{describe(wf_inputs[k].type)}`, got {v!r} "
                    f"of type `{exc.found}`"
                ) from None
        return out

    def _check_schedule(self, owner: str) -> None:
        arg = getattr(self.schedule, "kickoff_time_input_arg", None)
        if arg:
            import datetime as _dt

            p = self.workflow.interface.inputs.get(arg)
            if p is None or p.type is not _dt.datetime:
                raise InputError(
                    f"{owner}: the schedule's kickoff_time_input_arg `{arg}` must name a "
                    "`datetime` input of the workflow"
                )

    # ------------------------------------------------------------ constructors
    @classmethod
    def get_or_create(cls, workflow: Any, name: str | None = None, **settings: Any) -> LaunchPlan:
        """The launch plan `name` (default: the workflow's default launch plan)."""
        if name is None:
            if settings:
                raise UserError(
                    f"LaunchPlan.get_or_create({getattr(workflow, 'name', workflow)}): settings "
                    f"{sorted(settings)} need a name; the default launch plan has none"
                )
            name = workflow.name
        with _registry_lock:
            existing = _registry.get(name)
            candidate = cls(name, workflow, **settings)
            if existing is not None:
                same = existing._settings_spec() == candidate._settings_spec()
                if same and existing.workflow is workflow:
                    return existing
                if existing.workflow is workflow:
                    raise UserError(
                        f"launch plan `{name}` already exists for workflow `{workflow.name}` with "
                        "other settings; give the new one another name"
                    )
            _registry[name] = candidate  # first definition, or a re-defined workflow
            return candidate

    @classmethod
    def create(cls, name: str, workflow: Any, **settings: Any) -> LaunchPlan:
        with _registry_lock:
            if name in _registry and _registry[name].workflow is workflow:
                raise UserError(f"launch plan `{name}` already exists; use get_or_create or another name")
            lp = cls(name, workflow, **settings)
            _registry[name] = lp
            return lp

    @classmethod
    def get_default_launch_plan(cls, ctx: Any, workflow: Any) -> LaunchPlan:
        return cls.get_or_create(workflow)

    # ----------------------------------------------------------------- running
    def merged_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        fixed = [k for k in inputs if k in self.fixed_inputs]
        if fixed:
            raise InputError(
                f"launch plan `{self.name}` fixes input(s) {fixed} "
                f"({', '.join(f'{k}={self.fixed_inputs[k]!r}' for k in fixed)}); they cannot be "
                "overridden. Remove them from the call, or use a launch plan that defaults them"
            )
        merged = {**self.default_inputs, **inputs, **self.fixed_inputs}
        plain = {k: v for k, v in merged.items() if not hasattr(v, "is_artifact_query")}
        for k, v in list(merged.items()):
            if hasattr(v, "is_artifact_query"):
                merged[k] = v.resolve(plain)
        return merged

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fixed = [k for k in kwargs if k in self.fixed_inputs]
        if fixed:
            from .compiler import current_builder

            err = CompileError if current_builder() is not None else InputError
            raise err(
                f"launch plan `{self.name}` fixes input(s) {fixed}; they cannot be overridden. "
                "Remove them from the call, or use a launch plan that defaults them"
            )
        return super().__call__(*args, **kwargs)

    # -------------------------------------------------------------------- spec
    def _settings_spec(self) -> dict[str, Any]:
        wf_types = self.workflow.interface.input_types

        def lits(values: dict[str, Any]) -> dict[str, Any]:
            out = {}
            for k, v in values.items():
                if hasattr(v, "to_spec") and hasattr(v, "is_artifact_query"):
                    out[k] = {"artifact_query": v.to_spec()}
                else:
                    try:
                        out[k] = to_literal(wf_types[k], v)
                    except TypeError:
                        out[k] = repr(v)
            return out

        return {
            "workflow": self.workflow.name,
            "default_inputs": lits(self.default_inputs),
            "fixed_inputs": lits(self.fixed_inputs),
            "schedule": _spec_of(self.schedule),
            "notifications": _spec_of(self.notifications),
            "labels": _spec_of(self.labels),
            "annotations": _spec_of(self.annotations),
            "max_parallelism": self.max_parallelism,
            "security_context": _spec_of(self.security_context),
            "auth_role": _spec_of(self.auth_role),
            "raw_output_data_config": _spec_of(self.raw_output_data_config),
            "trigger": _spec_of(self.trigger),
            "concurrency": _spec_of(self.concurrency),
            "overwrite_cache": self.overwrite_cache,
            "auto_activate": self.auto_activate,
        }

    def to_spec(self) -> dict[str, Any]:
        body = {"kind": "launch_plan", "name": self.name, "interface": self.interface.to_spec(), **self._settings_spec()}
        body["version"] = content_version(body)
        return body

    def sub_entities(self) -> list[Any]:
        return [self.workflow]


class ReferenceLaunchPlan(Entity):
    """A launch plan registered elsewhere; the decorated function gives its interface."""

    kind = "launch_plan"

    def __init__(self, project: str, domain: str, name: str, version: str, fn: Callable[..., Any]) -> None:
        self.name = name
        self.interface = interface_from_function(fn, "reference launch plan")
        self.reference = {"project": project, "domain": domain, "name": name, "version": version}

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "launch_plan", "name": self.name, "workflow": self.name, "interface": self.interface.to_spec(),
                "default_inputs": {}, "fixed_inputs": {}, "reference": self.reference,
                "version": self.reference["version"]}

    def node_spec(self) -> dict[str, Any]:
        """What a workflow node calling this reference carries: the exact identity it runs."""
        return {"reference": dict(self.reference)}


def reference_launch_plan(project: str, domain: str, name: str, version: str) -> Callable[[Callable[..., Any]], ReferenceLaunchPlan]:
    def wrap(fn: Callable[..., Any]) -> ReferenceLaunchPlan:
        return ReferenceLaunchPlan(project, domain, name, version, fn)

    return wrap
