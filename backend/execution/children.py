"""Child executions: launch plan nodes, and the items of a map over a launch plan.

A launch plan node runs its plan's workflow as an execution of its own, named
`<parent id>-<node path>` (an item of a map: `<parent id>-<map path>-<index>`),
so that a resumed parent finds the child it had created instead of creating
another. The child inherits the parent's `envs` and `overwrite_cache` settings.
When it ends, the executor hands the parent a "child" event (`on_done`).

A launch plan node obeys its plan's `ConcurrencyPolicy` as a manual launch
does: over the limit the child is not created and the node fails with the
message a refused launch gets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from plait.errors import UserError
from plait.model.specs import LaunchPlanSpec
from plait.model.vocab import ENDED

from ..store import queries as q
from ..store.errors import NotFound
from ..store.queries import concurrency
from . import values
from .references import pin_of

if TYPE_CHECKING:
    from plait.model.specs import NodeSpec
    from sqlalchemy.orm import Session

    from .run import ExecutionRun
    from .scope import Scope

INHERITED_SETTINGS = ("envs", "overwrite_cache")  # what a child takes of its parent's settings


class ConcurrencyLimitReached(UserError):
    """A launch plan node's plan has as many active executions as its policy allows."""


class ChildExecutions:
    """The child executions one run waits for."""

    def __init__(self, run: ExecutionRun) -> None:
        self.run = run
        self.waiting: dict[str, str] = {}  # child execution id -> node path (a map's, for an item)

    def start(self, scope: Scope, path: str, node: NodeSpec, inputs: dict[str, Any]) -> None:
        """Run a launch plan node as a child execution (one that already ended answers at once)."""
        run = self.run
        plan = run.entity_for(scope, node, LaunchPlanSpec)
        pin = pin_of(node)
        project, domain = (pin.project, pin.domain) if pin else (run.project, run.domain)
        child_id = f"{run.id}-{path}"
        with run.host.db.session() as s:
            try:
                child = q.get_execution(s, child_id)
                if child.phase in ENDED:
                    self.waiting[child_id] = path
                    run.host.post(("child", run.id, child_id, child.phase, child.outputs, child.error))
                    return
            except NotFound:
                self.admit(s, plan, project, domain)
                self.create(s, child_id, plan, inputs, path, project=project, domain=domain)
            q.upsert_node(s, run.id, path, entity_name=node.entity, kind=node.kind, phase="RUNNING", inputs=inputs)
        self.wait(child_id, path)

    def admit(self, s: Session, plan: LaunchPlanSpec, project: str, domain: str) -> None:
        """Raise if the plan's `ConcurrencyPolicy` admits no more executions now (in the
        transaction that then creates the child, so the count holds until it commits)."""
        policy = concurrency.policy_of(plan.settings)
        ok, active = concurrency.admit_launch_plan(s, project, domain, plan.name, policy)
        if not ok:
            assert policy is not None
            raise ConcurrencyLimitReached(concurrency.limit_message(plan.name, project, domain, policy, active))

    def create(self, s: Session, child_id: str, plan: LaunchPlanSpec, inputs: dict[str, Any], path: str, *,
               project: str | None = None, domain: str | None = None) -> None:
        """Record a child execution of a launch plan: its workflow, run with the plan's inputs
        (in the run's project and domain, or those of a pinned reference)."""
        run = self.run
        merged = {**{k: values.literal_ref(v) for k, v in plan.default_inputs.items()},
                  **inputs,
                  **{k: values.literal_ref(v) for k, v in plan.fixed_inputs.items()}}
        version = plan.version or run.version
        q.create_execution(
            s, id=child_id, project=project or run.project, domain=domain or run.domain, entity_kind="workflow",
            entity_name=plan.workflow or plan.name, entity_version=version,
            launch_plan_name=plan.name, launch_plan_version=version, inputs=merged,
            settings={k: v for k, v in run.settings.items() if k in INHERITED_SETTINGS},
            parent_execution_id=run.id, parent_node_path=path)

    def wait(self, child_id: str, path: str) -> None:
        """Have the executor run the child; the node at `path` waits for it."""
        self.waiting[child_id] = path
        self.run.host.submit(child_id)

    def on_done(self, child_id: str, phase: str, outputs: dict[str, Any] | None, error: Any) -> None:
        """A child execution ended: it answers its launch plan node, or an item of its map."""
        run = self.run
        path = self.waiting.pop(child_id, None)
        if path is None:
            return
        if path in run.maps:
            index = int(child_id.rsplit("-", 1)[1])
            run.maps.item_done(path, index, outputs if phase == "SUCCEEDED" else None,
                               None if phase == "SUCCEEDED" else (error or {"message": phase}))
            return
        if phase == "SUCCEEDED":
            run.node_succeeded(path, outputs or {})
        else:
            run.node_failed(path, error or {"kind": "USER", "message": f"child execution {child_id} {phase}"})

    def abort_all(self, reason: str) -> None:
        """The run is aborted: so is every child it waits for, with `reason` saying why."""
        host = self.run.host
        for child in list(self.waiting):
            try:
                with host.db.session() as s:
                    q.request_abort(s, child, reason=reason)
            except Exception:  # noqa: BLE001 - the child may have ended meanwhile
                pass
            host.abort(child)
