"""The entity specs a run uses: fetched once per version, parsed once, shared by every run.

Specs are stored as JSON; the first run that needs an entity version parses it
into `plait.model` (a `TaskSpec`, `WorkflowSpec` or `LaunchPlanSpec`) and puts
it in the executor's spec cache, so a node attempt reads attributes of a
parsed spec and never parses. Specs that a dynamic expansion brings live in
its scope (`Scope.entities`) and are found before the stored ones.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from plait.errors import UserError
from plait.model.specs import NodeSpec, Spec, TaskSpec, WorkflowSpec, parse_spec
from plait.model.vocab import stored_kind

from ..store import queries as q
from ..store.errors import NotFound

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .ports import RunHost
    from .scope import Scope

S = TypeVar("S", bound=Spec)

TASK_OVERRIDES = ("retries", "timeout", "cache")
"""The settings a task node's `with_overrides` may change for its attempts."""
MAP_OVERRIDES = ("retries", "timeout")
"""The settings a map node's overrides change for the attempts of its items."""


class EntitySpecs:
    """Spec lookup for one run (its project, domain and version), through the shared cache."""

    def __init__(self, host: RunHost, project: str, domain: str, version: str) -> None:
        self.host = host
        self.project, self.domain, self.version = project, domain, version

    def fetch(self, s: Session, kind: str, name: str, version: str | None) -> Spec:
        """The spec of an entity version (the run's version when None; else the latest).

        A task whose code names no bundle and no pickle runs from its registration's bundle.
        """
        key = (self.project, self.domain, f"{kind}:{name}", version or self.version)
        cached = self.host.spec_cache.get(key)
        if cached is not None:
            return cached
        stored = "task" if kind in ("task", "dynamic") else kind
        try:
            rec = q.get_entity(s, stored, self.project, self.domain, name, version or self.version)
        except NotFound:
            rec = q.get_entity(s, stored, self.project, self.domain, name, None)
        spec = parse_spec(rec.spec)
        if (isinstance(spec, TaskSpec) and rec.bundle_digest
                and "bundle" not in spec.code and "pickle" not in spec.code):
            spec = replace(spec, code={**spec.code, "bundle": rec.bundle_digest})
        self.host.spec_cache[key] = spec
        return spec

    def for_node(self, scope: Scope, kind: str, name: str, want: type[S]) -> S:
        """The spec of the entity a node of `kind` runs: from the scope (or those around
        it) if a dynamic expansion brought it, else the stored one."""
        outer: Scope | None = scope
        while outer is not None:
            found = outer.entities.get(name)
            if found is not None:
                return expect(found, want, name)
            outer = outer.parent
        stored = stored_kind(kind)
        cached = self.host.spec_cache.get((self.project, self.domain, f"{stored}:{name}", self.version))
        if cached is None:
            with self.host.db.session(readonly=True) as s:
                cached = self.fetch(s, stored, name, None)
        return expect(cached, want, name)


def expect(spec: Spec, want: type[S], name: str) -> S:
    """`spec` as a `want`, or a UserError naming what `name` is instead."""
    if not isinstance(spec, want):
        raise UserError(f"`{name}` is a {_kind_name(type(spec))}, but is used here as a {_kind_name(want)}")
    return spec


def _kind_name(cls: type) -> str:
    return {"TaskSpec": "task", "WorkflowSpec": "workflow", "LaunchPlanSpec": "launch plan"}.get(
        cls.__name__, cls.__name__)


def with_overrides(spec: TaskSpec, overrides: dict[str, Any], keys: tuple[str, ...] = TASK_OVERRIDES) -> TaskSpec:
    """The task's spec with the node's overrides of `keys` laid over its settings."""
    chosen = {k: v for k, v in overrides.items() if k in keys} if overrides else None
    if not chosen:
        return spec
    return replace(spec, settings={**spec.settings, **chosen})


def single_node_workflow(task: TaskSpec) -> WorkflowSpec:
    """A one-node workflow around a task, so that a task execution runs like any other."""
    inputs = {i.name: {"ref": {"node": None, "output": i.name}} for i in task.interface.inputs}
    node = NodeSpec(id="n0", kind=task.kind, entity=task.name, inputs=inputs)
    outputs = {n: {"ref": {"node": "n0", "output": n}} for n, _ in task.interface.outputs}
    return WorkflowSpec(name=task.name, version=task.version, interface=task.interface, nodes=(node,),
                        outputs=outputs)
