"""Map nodes: one target run over many items, in batches, within a window.

A map node's mapped inputs are lists of equal length; item `i` takes the `i`-th
element of each, with the bound inputs whole. Items of a task go to Dask in
batches (one attempt runs several items, recorded as the child node
`<map>-<first item>`), at most `Executor.map_window` batches at once; items of
a launch plan are child executions, at most `concurrency` at once. The node
succeeds when enough items succeed (`min_success_ratio`), with each output a
list in item order (None where an item failed).

When a map node ends, its items' answers are kept beside its outputs
(`items.json`: each item's outputs, and which failed), so that a re-run with
`map_items` runs only the failed items (or those listed) and reuses the others'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plait.errors import UserError
from plait.model.specs import LaunchPlanSpec, NodeSpec, TaskSpec

from ..artifacts import catalog
from ..store import queries as q
from ..store.errors import NotFound
from . import values
from .attempts import SYSTEM_RETRIES, usage_fields
from .children import ConcurrencyLimitReached
from .entities import MAP_OVERRIDES, with_overrides
from .reruns import same_refs

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .run import ExecutionRun
    from .scope import Scope

ItemResult = tuple[int, "dict[str, Any] | None", "str | None"]
"""(item index, the item's answer, or None with the SYSTEM error that lost it)."""


@dataclass
class MapState:
    path: str
    target: TaskSpec | LaunchPlanSpec
    items: list[dict[str, dict[str, Any]]]  # per item: input name -> value ref
    concurrency: int
    min_success_ratio: float
    overrides: dict[str, Any] = field(default_factory=dict)  # the map node's (its items' pool)
    results: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    errors: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_index: int = 0  # position in `todo` of the next item to send
    in_flight: int = 0  # batches (or child executions) on their way
    batch: int = 1  # items per batch
    todo: list[int] = field(default_factory=list)  # the items to run, in order (all, unless a re-run)


def items_uri(execution_id: str, path: str) -> str:
    """Where a map node's items' answers are kept once it ends."""
    return f"executions/{execution_id}/{path}/items.json"


class MapNodes:
    """The running map nodes of one run, by path."""

    def __init__(self, run: ExecutionRun) -> None:
        self.run = run
        self.states: dict[str, MapState] = {}

    def __contains__(self, path: str) -> bool:
        return path in self.states

    def start(self, scope: Scope, path: str, node: NodeSpec, inputs: dict[str, Any]) -> None:
        """Split the inputs into items and send the first window of them on their way."""
        info = node.map
        if info is None:
            raise UserError(f"map node `{node.id}` names no target")
        target: TaskSpec | LaunchPlanSpec
        if info.target_kind == "launch_plan":
            target = self.run.specs.for_node(scope, info.target_kind, info.target, LaunchPlanSpec)
        else:
            target = self.run.specs.for_node(scope, info.target_kind, info.target, TaskSpec)
            if info.target_kind == "task":
                target = with_overrides(target, node.overrides, MAP_OVERRIDES)
        bound = set(info.bound_inputs)
        mapped = [n for n in inputs if n not in bound]
        lists = {n: values.items_of(inputs[n]) for n in mapped}
        lengths = {n: len(v) for n, v in lists.items()}
        if len(set(lengths.values())) > 1:
            raise UserError(f"map over `{info.target}`: mapped inputs have different lengths {lengths}")
        count = next(iter(lengths.values()), 0)
        fixed = {n: inputs[n] for n in inputs if n in bound}
        fixed.update({n: values.literal_ref(v) for n, v in info.bound_values.items()})
        items = [{**fixed, **{n: lists[n][i] for n in mapped}} for i in range(count)]
        concurrency = node.overrides.get("concurrency") or info.concurrency or 0
        ratio = node.overrides.get("min_success_ratio", info.min_success_ratio)
        state = MapState(path, target, items, int(concurrency), float(ratio), dict(node.overrides or {}))
        if isinstance(target, TaskSpec):
            problem = self.run.host.unsatisfiable(target, state.overrides, run=self.run)
            if problem:
                self.run.node_failed(path, {"kind": "USER", "type": "ResourceError", "message": problem})
                return
        state.todo = self._rerun_items(path, inputs, state) if self.run.rerun is not None else list(range(count))
        self.states[path] = state
        self.run.record_node(path, "RUNNING")
        if not state.todo:
            self._progress(state)
            return
        state.batch = self.run.host.map_batch_size(len(state.todo), state.concurrency)
        self._pump(state)

    def _rerun_items(self, path: str, inputs: dict[str, Any], state: MapState) -> list[int]:
        """The items a re-run runs of this map node; the others take the original items' answers.

        Only a map node named in `map_items` whose inputs are the original's reuses items:
        `"failed"` runs the items that did not succeed, a list of indices runs those (an item
        not listed that did not succeed counts as failed again).
        """
        rerun, count = self.run.rerun, len(state.items)
        assert rerun is not None
        wanted = rerun.map_items.get(path)
        old = rerun.nodes.get(path)
        every = list(range(count))
        if wanted is None or old is None or not same_refs(inputs, old.inputs):
            return every
        try:
            kept = self.run.host.storage.get_json(items_uri(rerun.original_id, path))
        except (FileNotFoundError, OSError, ValueError):
            return every
        if kept.get("count") != count:
            return every
        results = kept.get("results") or {}
        # Failed, or never answered: a map that failed stops sending items once too many failed.
        failed = {int(i) for i in kept.get("failed") or ()} | {i for i in every if results.get(str(i)) is None}
        if wanted == "failed":
            todo = sorted(failed)
        else:
            beyond = [i for i in wanted if i >= count]
            if beyond:
                raise UserError(f"map node `{path}` has {count} items; `map_items` asks for item {beyond[0]}")
            todo = sorted(set(wanted))
        for i in every:
            if i in todo:
                continue
            if i in failed:
                state.results[i] = None
                state.errors[i] = {"message": f"item {i} failed in execution {rerun.original_id}"}
            else:
                state.results[i] = results[str(i)]
        return todo

    def _pump(self, state: MapState) -> None:
        """Send items on their way until the window is full or none are left."""
        window = self.run.host.map_window(state.concurrency)
        while state.next_index < len(state.todo) and state.in_flight < window:
            start = state.next_index
            size = 1 if state.concurrency else state.batch
            indices = state.todo[start:start + size]
            state.next_index = start + len(indices)
            state.in_flight += 1
            if isinstance(state.target, LaunchPlanSpec):
                for i in indices:
                    self._start_child(state, i)
            else:
                self.run.host.submit_items(self.run, state, indices)

    def _start_child(self, state: MapState, index: int) -> None:
        """Item `index` of a launch plan map: its child execution (created unless resumed), or,
        when the plan's ConcurrencyPolicy admits no more executions, a failure that says so."""
        assert isinstance(state.target, LaunchPlanSpec)
        run = self.run
        child_id = f"{run.id}-{state.path}-{index}"
        refused: str | None = None
        with run.host.db.session() as s:
            try:
                q.get_execution(s, child_id)
            except NotFound:
                try:  # the plan's ConcurrencyPolicy counts map items as it counts any launch
                    run.children.admit(s, state.target, run.project, run.domain)
                except ConcurrencyLimitReached as exc:
                    refused = str(exc)
                else:
                    run.children.create(s, child_id, state.target, state.items[index], f"{state.path}-{index}")
        run.children.wait(child_id, state.path)
        if refused is not None:  # the item ends as a child refused at launch would: FAILED, with why
            run.host.post(("child", run.id, child_id, "FAILED", None,
                           {"kind": "USER", "type": "ConcurrencyLimitReached", "message": refused}))

    def on_items_done(self, path: str, results: list[ItemResult], batch: dict[str, Any] | None = None) -> None:
        """A batch of items ended: keep each item's answer, or send it again.

        An item lost with its worker (a SYSTEM error) is sent again, within a budget of
        SYSTEM_RETRIES per hundred items for the whole map, and the loss is recorded as a
        failed attempt of the map node. An item that failed recoverably is sent again up
        to the target's `retries`; any other failure is that item's answer.
        """
        run = self.run
        state = self.states.get(path)
        if state is None or run.done:
            return
        state.in_flight -= 1
        if batch is not None and results:
            self._record_batch(state, results, batch)
        retry: list[int] = []
        for index, result, system_error in results:
            if system_error is not None:
                retry.append(index)
                continue
            assert result is not None
            if result["status"] == "SUCCEEDED":
                state.results[index] = result.get("outputs") or {}
                if result.get("artifacts"):  # each item's versions, as its own node's
                    catalog.record(run.host, run.project, run.domain, run.id, f"{path}-{index}",
                                   state.target.version, result["artifacts"], state.results[index])
            else:
                err = result.get("error") or {}
                fails = run.user_failures.get(f"{path}-{index}", 0) + 1
                run.user_failures[f"{path}-{index}"] = fails
                if err.get("recoverable") and fails <= int(state.target.settings.get("retries") or 0):
                    retry.append(index)
                else:
                    state.results[index] = None
                    state.errors[index] = err
        lost = [i for i, _, err in results if err is not None]
        if lost:
            self._record_lost(path, f"items {lost[0]}..{lost[-1]} lost their worker: {results[0][2]}")
        if retry:
            sys_key = f"{path}-system"
            run.system_failures[sys_key] = run.system_failures.get(sys_key, 0) + 1
            if run.system_failures[sys_key] > SYSTEM_RETRIES * max(1, len(state.items) // 100 + 1):
                run.node_failed(path, {"kind": "SYSTEM", "message": "map items kept losing their workers"})
                return
            state.in_flight += 1
            run.host.submit_items(run, state, retry)
        self._progress(state)

    def _record_lost(self, path: str, message: str) -> None:
        """A lost batch is a SYSTEM failure of the map node: recorded as an attempt."""
        run = self.run
        number = run.attempts.get(path, 0) + 1
        run.attempts[path] = number
        node, eid = run.spec_of[path], run.id

        def write(s: Session) -> None:
            q.node_transition(s, eid, path, "RUNNING", entity_name=node.entity, kind=node.kind)
            attempt = q.attempt_begin(s, eid, path, number)
            q.attempt_end(s, attempt, "FAILED", error_kind="SYSTEM", error={"message": message})

        run.host.write(write)

    def _record_batch(self, state: MapState, results: list[ItemResult], batch: dict[str, Any]) -> None:
        """A batch of map items is a child node `<map>-<first item>`, with its log, worker and usage."""
        run = self.run
        first, last = results[0][0], results[-1][0]
        child = f"{state.path}-{first}"
        number = run.attempts.get(child, 0) + 1
        run.attempts[child] = number
        eid = run.id
        failed = [i for i, r, _ in results if r is None or r.get("status") != "SUCCEEDED"]
        phase = "FAILED" if failed else "SUCCEEDED"
        error = {"message": f"items {failed} of {first}..{last} failed"} if failed else None
        usage = usage_fields(batch.get("usage") or {})
        entity = state.target.name

        def write(s: Session) -> None:
            q.node_transition(s, eid, child, "RUNNING", entity_name=f"{entity}[{first}..{last}]", kind="task")
            attempt = q.attempt_begin(s, eid, child, number)
            q.attempt_end(s, attempt, phase, error_kind="USER" if failed else None, error=error,
                          logs_uri=batch.get("logs_uri"), worker=batch.get("worker"), pool=batch.get("pool"),
                          **usage)
            q.node_transition(s, eid, child, phase, error=error if failed else q.UNSET)

        run.host.write(write)

    def item_done(self, path: str, index: int, outputs: dict[str, Any] | None, error: Any) -> None:
        """A launch plan map's item (a child execution) ended."""
        state = self.states[path]
        state.in_flight -= 1
        state.results[index] = outputs
        if outputs is None:
            state.errors[index] = error or {}
        self._progress(state)

    def _progress(self, state: MapState) -> None:
        """Fail the node once too many items failed, finish it once all answered, else go on."""
        count = len(state.items)
        needed = math.ceil(state.min_success_ratio * count - 1e-9)
        if len(state.errors) > count - needed:
            first = min(state.errors)
            err = state.errors[first]
            self.states.pop(state.path, None)
            self._keep_items(state)
            self.run.node_failed(state.path, {
                "kind": err.get("kind", "USER"), "type": err.get("type", "Error"),
                "message": f"map over `{state.target.name}`: {len(state.errors)} of {count} item(s) failed "
                           f"(at least {needed} must succeed); first failure at item {first}: {err.get('message', '')}",
            })
            return
        if len(state.results) == count:
            self._finish(state)
        else:
            self._pump(state)

    def _keep_items(self, state: MapState) -> None:
        """Keep the items' answers (what a re-run with `map_items` reuses)."""
        self.run.host.storage.put_json(items_uri(self.run.id, state.path), {
            "count": len(state.items), "failed": sorted(state.errors),
            "results": {str(i): r for i, r in state.results.items()},
        })

    def _finish(self, state: MapState) -> None:
        """The node succeeds: each output is the list of the items' outputs (None where one failed)."""
        self.states.pop(state.path, None)
        self._keep_items(state)
        outputs = {}
        for name, _type in state.target.interface.outputs:
            refs = []
            for i in range(len(state.items)):
                r = state.results.get(i)
                refs.append(r[name] if r is not None else {"literal": None, "hash": "N:None"})
            outputs[name] = values.combine_list(refs)
        self.run.node_succeeded(state.path, outputs)
