"""Partial re-runs of local executions, and runs with some nodes skipped.

    done = plait.rerun(execution, from_nodes=["n3"])          # n3 and what follows run again
    done = plait.rerun(err.execution, map_items={"n2": "failed"})

A re-run runs the same entity again in a new execution. A node runs again
when it is *forced*: chosen (`from_nodes`), inside a forced node, after a node
that ran again (so everything downstream of a chosen node runs), or given
inputs that differ from the original run's (an overridden workflow input: only
its consumers and what follows). A node containing a chosen one (a subworkflow,
dynamic node or conditional) runs again so that its inside can be partly
reused; a launch plan node runs as a child execution, so it runs again whole. Every
other node that completed in the original run is REUSED: it takes the
original's output objects themselves, never recomputed and never looked up in
the cache, and its record says which node computed them (`reused_from`).

`skip={path: {output: value}}` (for `plait.run.engine.execute` and re-runs)
does not run those nodes: their outputs are the given values, checked against
the node's output types before anything runs; they are recorded SKIPPED.

The engine's scheduler asks the execution's `Reuse` (its `hook`) before each
node runs; the map runner asks it which items to keep.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ..errors import InputError, TypeMismatchError, UserError
from ..model.vocab import CACHE_HIT, REUSED, SKIPPED, SUCCEEDED
from ..typesys import ValueTypeError, checker, describe, value_hash
from .attempt import short_repr
from .engine import Execution, LocalExecution, NodeRecord, check_inputs, run_root

REUSABLE = frozenset({SUCCEEDED, CACHE_HIT, REUSED})
"""Phases of an original node whose outputs a re-run may take."""
_LISTED = 40  # node paths named in an error, at most


def rerun(
    execution: LocalExecution,
    from_nodes: str | Sequence[str] = (),
    inputs: Mapping[str, Any] | None = None,
    node_inputs: Mapping[str, Mapping[str, Any]] | None = None,
    map_items: Mapping[str, str | Sequence[int]] | None = None,
    skip: Mapping[str, Mapping[str, Any]] | None = None,
    **options: Any,
) -> LocalExecution:
    """Run `execution`'s entity again from `from_nodes`, reusing the outputs of every other node.

    `execution` is what a local run returned, or the `.execution` of the error
    a failed run raised. `inputs` override workflow inputs (only the nodes that
    consume them, and what follows, run again); `node_inputs={path: {input:
    value}}` override inputs of chosen nodes; `map_items={path: "failed" |
    [indices]}` runs only those items of a map node and keeps the others'
    outputs; `skip` gives outputs for nodes that should not run. Other keyword
    arguments are engine options (`observer`, `max_parallelism`, `name`, ...),
    by default those of the original run. Returns the new LocalExecution; a
    failure raises with it as the error's `.execution`, so it can be re-run too.
    """
    if not isinstance(execution, LocalExecution):
        raise UserError(
            f"plait.rerun expects a local execution (what a local run returns, or the `.execution` "
            f"of the error a failed run raised), got {short_repr(execution)}; re-run a backend "
            "execution with plait.Remote().rerun(...)"
        )
    if execution.entity is None:
        raise UserError(
            f"execution {execution.id} was run in another process, and its nodes stay there; re-run it "
            "in the process (kernel) that ran it, or run it again with plait.run"
        )
    chosen = [from_nodes] if isinstance(from_nodes, str) else list(from_nodes)
    overrides = {p: dict(v) for p, v in (node_inputs or {}).items()}
    items = dict(map_items or {})
    if not chosen and not items and not skip and not inputs:
        raise UserError(
            f"plait.rerun of execution {execution.id}: name the nodes to run again with "
            "from_nodes=[...] (or new workflow inputs with inputs=..., map items with "
            "map_items=..., nodes to skip with skip=...); "
            f"its nodes: {_listing(execution.nodes)}"
        )
    unknown = [p for p in dict.fromkeys([*chosen, *overrides, *items]) if p not in execution.nodes]
    if unknown:
        raise InputError(
            f"plait.rerun: execution {execution.id} of `{execution.entity.name}` has no node(s) "
            f"{', '.join(map(repr, unknown))}; expected paths of its nodes: {_listing(execution.nodes)}"
        )
    for path in overrides:
        if path not in chosen:
            raise InputError(
                f"plait.rerun: node_inputs overrides inputs of chosen nodes only, and node {path!r} "
                f"is not in from_nodes {chosen}; add it to from_nodes"
            )
    for path, spec in items.items():
        _check_items(execution, path, spec)
    merged = {**execution.inputs, **(inputs or {})}
    checked = check_inputs(execution.entity, merged)
    carried = {p: v for p, v in execution.skip.items() if p not in chosen}
    settings = {**execution.options, **options}
    exe = Execution(**settings)
    exe.hook = Reuse(
        execution.entity, original=execution, chosen=[p for p in chosen if p not in items],
        node_inputs=overrides, map_items=items, skip={**carried, **(skip or {})}, carried=carried,
    )
    return run_root(exe, execution.entity, checked, settings, rerun_of=execution.id)


def _check_items(execution: LocalExecution, path: str, spec: Any) -> None:
    rec = execution.nodes[path]
    if rec.kind != "map" or rec.items is None:
        what = f"a {rec.kind} node" if rec.kind != "map" else "a map node whose items never ran"
        raise InputError(
            f"plait.rerun: map_items names node {path!r} of execution {execution.id}, which is "
            f"{what}; expected a map node that ran"
        )
    if spec == "failed":
        return
    count = len(rec.items)
    if isinstance(spec, str) or not isinstance(spec, Iterable) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < count for i in spec
    ):
        raise InputError(
            f"plait.rerun: map_items[{path!r}] expects \"failed\" or a list of item indices "
            f"0..{count - 1}, got {short_repr(spec)}"
        )


def _listing(paths: Iterable[str]) -> str:
    names = [p for p in paths if p]
    shown = ", ".join(names[:_LISTED])
    more = f" and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
    return (shown + more) or "none"


# ------------------------------------------------------------------ the scheduler's hook


class Reuse:
    """Decides, node by node, whether a node runs, is reused or is skipped (the engine's `hook`)."""

    def __init__(
        self,
        entity: Any,
        *,
        original: LocalExecution | None = None,
        chosen: Iterable[str] = (),
        node_inputs: Mapping[str, dict[str, Any]] | None = None,
        map_items: Mapping[str, Any] | None = None,
        skip: Mapping[str, Mapping[str, Any]] | None = None,
        carried: Iterable[str] = (),
    ) -> None:
        static = dict(static_nodes(entity))
        self.original = original
        self.by_path: dict[str, NodeRecord] = original.nodes if original is not None else {}
        self.sorted_paths = sorted(self.by_path)
        self.parents = {a for p in self.by_path for a in _ancestors(p)}  # paths with nodes inside
        self.chosen = set(chosen)
        self.map_items = dict(map_items or {})
        self.carried = set(carried)
        self.skip = {p: check_outputs(p, static.get(p), v, entity) for p, v in (skip or {}).items()}
        self.node_inputs: dict[str, dict[str, Any]] = {}
        self.unchecked: set[str] = set()  # nodes found only as they run (inside a dynamic node)
        for path, values in (node_inputs or {}).items():
            node = static.get(path)
            if node is None:
                self.unchecked.add(path)
                self.node_inputs[path] = dict(values)
            else:
                self.node_inputs[path] = check_node_inputs(path, node.entity, values)
        opened = [*self.chosen, *self.map_items, *(p for p in self.skip if p not in self.carried)]
        self.opens = {a for p in opened for a in _ancestors(p)} | set(self.map_items)
        self.forced: set[str] = set()  # run again whole: chosen, inside or after one, new inputs
        self.ran: set[str] = set()  # not reused: forced, opened, or skipped with new outputs

    def take(self, exe: Execution, path: str, node: Any, inputs: dict[str, Any], prefix: str) -> dict[str, Any] | None:
        """The outputs node `path` takes without running (reused or given), or None: it runs.

        Overrides of the node's inputs go into `inputs`.
        """
        given = self.skip.get(path)
        if given is not None:
            rec = exe.record(path, node.entity_name, node.entity.kind)
            rec.outputs = given
            exe.set_phase(rec, SKIPPED)
            if path not in self.carried:
                self.ran.add(path)
            return given
        override = self.node_inputs.get(path)
        if override is not None:
            if path in self.unchecked:
                override = check_node_inputs(path, node.entity, override)
            inputs.update(override)
        if self.original is None:
            return None
        if self.forces(path, node, inputs, prefix):
            self.forced.add(path)
            self.ran.add(path)
            return None
        if path in self.opens or (node.entity.kind == "branch" and any(
                p in self.opens or p in self.chosen or p in self.skip for p in _case_paths(path, node))):
            self.ran.add(path)  # opened again: what is inside (or, for a branch, beside) is chosen
            return None
        return self.reuse(exe, path, node)

    def forces(self, path: str, node: Any, inputs: dict[str, Any], prefix: str) -> bool:
        """Whether node `path` must run again whole (see the module's docstring)."""
        if path in self.chosen:
            return True
        i = path.rfind("-")
        while i > 0:
            if path[:i] in self.forced:
                return True
            i = path.rfind("-", 0, i)
        ran = self.ran
        if ran and any(f"{prefix}{u}" in ran for u in node.upstream):
            return True
        orig = self.by_path.get(path)
        if orig is None:
            return True
        if path not in self.map_items and (orig.phase not in REUSABLE or orig.outputs is None):
            return True  # nothing to reuse (a map in map_items keeps its items' outputs even so)
        return not _same_inputs(node.entity, inputs, orig.inputs)

    def reuse(self, exe: Execution, path: str, node: Any) -> dict[str, Any]:
        """Record node `path` (and every node inside it) REUSED; the original's outputs."""
        orig = self.by_path[path]
        self._copy(exe, path, orig)
        if path in self.parents:
            inside = f"{path}-"
            start = bisect.bisect_left(self.sorted_paths, inside)
            for inner in self.sorted_paths[start:]:
                if not inner.startswith(inside):
                    break
                self._copy(exe, inner, self.by_path[inner])
        if node.entity.kind == "branch":  # its cases' nodes sit beside it, not inside
            for case_path in _case_paths(path, node):
                found = self.by_path.get(case_path)
                if found is not None:
                    self._copy(exe, case_path, found)
        assert orig.outputs is not None
        return orig.outputs

    def _copy(self, exe: Execution, path: str, orig: NodeRecord) -> None:
        """Record `orig` (the original's node `path`) in `exe` as REUSED, or as it was if it did not run."""
        assert self.original is not None
        rec = exe.record(path, orig.entity, orig.kind)  # a launch plan's child records keep their own paths
        rec.inputs, rec.outputs, rec.items = orig.inputs, orig.outputs, orig.items
        if orig.phase in REUSABLE:
            rec.reused_from = orig.reused_from or (self.original.id, path)
            exe.set_phase(rec, REUSED)
        else:  # skipped (a branch not taken, or given outputs): as it was
            rec.reused_from = orig.reused_from
            exe.set_phase(rec, orig.phase, orig.error)

    def kept_items(self, path: str, count: int) -> dict[int, dict[str, Any]] | None:
        """The items of map node `path` that keep the original's outputs, by index (None: all run).

        Only for a map named in `map_items` whose inputs did not change; its
        other items (and items that have no outputs to keep) run again.
        """
        spec = self.map_items.get(path)
        if spec is None or path in self.forced:
            return None
        orig = self.by_path.get(path)
        items = orig.items if orig is not None else None
        if items is None or len(items) != count:
            return None
        if spec == "failed":
            again = {i for i, r in enumerate(items) if r is None}
        else:
            again = set(spec)
        kept = {i: r for i, r in enumerate(items) if i not in again and r is not None}
        self.forced.update(f"{path}-{i}" for i in range(count) if i not in kept)
        return kept


def _ancestors(path: str) -> Iterator[str]:
    """The paths of the nodes that may contain node `path` (`n2` for `n2-n1`)."""
    i = path.rfind("-")
    while i > 0:
        yield path[:i]
        i = path.rfind("-", 0, i)


def _case_paths(path: str, node: Any) -> Iterator[str]:
    """The paths of the nodes in the cases of branch node `path` (beside it, with its prefix)."""
    parent = path.rsplit("-", 1)[0] + "-" if "-" in path else ""
    for case in node.entity.cases:
        for n in getattr(case.builder, "nodes", ()):
            yield f"{parent}{n.id}"


def _same_inputs(entity: Any, new: dict[str, Any], old: dict[str, Any] | None) -> bool:
    """Whether a node's inputs are the original run's: the same objects, or equal value hashes."""
    if old is None or new.keys() != old.keys():
        return False
    if all(value is old[name] for name, value in new.items()):
        return True
    types = getattr(getattr(entity, "interface", None), "input_types", {})
    for name, value in new.items():
        before = old[name]
        if value is before:
            continue
        try:
            tp = types.get(name, Any)
            if value_hash(tp, value) != value_hash(tp, before):
                return False
        except Exception:  # noqa: BLE001 - a value that cannot be hashed counts as changed
            return False
    return True


# ------------------------------------------------------------------ nodes known before a run


def static_nodes(entity: Any) -> Iterator[tuple[str, Any]]:
    """(path, node) for every node of a run of `entity` whose path is known before it runs.

    That is the nodes of its workflow, of its subworkflows and of its
    conditionals' cases; not the insides of dynamic, map and launch plan nodes.
    """
    target = entity.workflow if entity.kind == "launch_plan" else entity
    if target.kind != "workflow":
        return

    def visit(nodes: Iterable[Any], prefix: str, depth: int) -> Iterator[tuple[str, Any]]:
        for node in nodes:
            yield f"{prefix}{node.id}", node
            e = node.entity
            if e.kind == "branch":
                for case in e.cases:
                    yield from visit(getattr(case.builder, "nodes", ()), prefix, depth)
            elif e.kind == "workflow" and depth < 32:
                yield from visit(e.compile().nodes, f"{prefix}{node.id}-", depth + 1)

    yield from visit(target.compile().nodes, "", 0)


def check_outputs(path: str, node: Any, values: Mapping[str, Any], entity: Any) -> dict[str, Any]:
    """The outputs given for skipped node `path`, checked against its output types."""
    if node is None:
        known = [p for p, _ in static_nodes(entity)]
        raise InputError(
            f"skip: `{entity.name}` has no node {path!r} whose outputs can be given before the run; "
            f"expected one of {_listing(known)} (nodes inside dynamic, map and launch plan nodes "
            "cannot be skipped)"
        )
    name = node.entity_name
    declared = node.entity.interface.outputs
    if not isinstance(values, Mapping):
        raise InputError(
            f"skip: node {path!r} (`{name}`) expects its outputs as {{name: value}} for "
            f"{list(declared) or 'no outputs'}, got {short_repr(values)}"
        )
    missing = [o for o in declared if o not in values]
    extra = [o for o in values if o not in declared]
    if missing or extra:
        found = f"missing {missing}" if missing else f"unknown {extra}"
        raise InputError(
            f"skip: node {path!r} (`{name}`) has outputs {list(declared) or 'none'}; the given "
            f"outputs are {found}: give one value for each of its outputs"
        )
    return {o: _checked(f"skip: node {path!r} (`{name}`) output", o, declared[o], values[o], name)
            for o in declared}


def check_node_inputs(path: str, entity: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs given for chosen node `path`, checked against its input types."""
    types = entity.interface.input_types
    unknown = [n for n in values if n not in types]
    if unknown:
        raise InputError(
            f"plait.rerun: node {path!r} (`{entity.name}`) has no input(s) {unknown}; its inputs "
            f"are {list(types) or 'none'}"
        )
    return {n: _checked(f"plait.rerun: node {path!r} (`{entity.name}`) input", n, types[n], v, entity.name)
            for n, v in values.items()}


def _checked(what: str, name: str, tp: Any, value: Any, entity: str) -> Any:
    try:
        return checker(tp)(value)
    except ValueTypeError as exc:
        raise TypeMismatchError(
            f"{what} `{name}` expects `{describe(tp)}`, got {short_repr(value)} of type `{exc.found}`",
            entity=entity, name=name, expected=describe(tp), found=exc.found,
        ) from None
