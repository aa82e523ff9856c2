"""What an execution starts with: its inputs (checked) and its settings (merged).

Framework-free: the routes give it specs and request data and store what it
returns. Inputs come from four places, later ones winning: the interface's
defaults, the launch plan's default inputs, the request, the launch plan's
fixed inputs (which the request may not override). Each input is checked
against its declared type with `plait.model.literals.validate_literal`; every
problem is reported at once, naming the input, the type and what was given.
"""

from __future__ import annotations

import contextlib
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from plait.errors import UserError
from plait.model import InterfaceSpec, LaunchPlanSpec, TaskSpec, WorkflowSpec, parse_spec
from plait.model.literals import describe_type, literal_type_name, validate_literal
from plait.model.specs import NodeSpec, Spec
from plait.model.vocab import stored_kind

from .. import secrets
from ..compute import placement
from ..compute.cluster_file import ClusterFile, default_local
from ..execution.references import Pin, fetch_pinned, pin_of
from ..execution.values import literal_ref
from ..store import queries
from ..store.errors import InvalidRequest, NotFound
from .errors import InputProblems, InvalidField, Problem

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# A default the client could not write as a literal; the worker applies it.
UNREPRESENTABLE = "__unrepresentable__"
SETTING_KEYS = (
    "overwrite_cache", "max_parallelism", "envs", "labels", "annotations",
    "raw_output_prefix", "interruptible",
)


def _is_artifact_query(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"artifact_query"}


def merge_inputs(
    entity: str,
    interface: InterfaceSpec,
    given: dict[str, Any],
    *,
    launch_plan: LaunchPlanSpec | None = None,
    artifacts: Callable[[str, str, dict[str, Any], dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """The execution's inputs as value refs `{"literal": ..., "hash": ...}`, or `InputProblems`.

    Literals are normalised as a worker's type check would (an int given for
    a float becomes a float), so cache keys match the local engine's.

    `interface` is the interface of what runs (the workflow, for a launch plan).
    A default that is an artifact query is resolved by `artifacts` (the
    catalog's `LaunchArtifacts`: it answers the found version's value ref, or
    raises QueryProblem, reported as the input's problem); without it such a
    default is refused.
    """
    problems: list[Problem] = []
    declared = {i.name: i for i in interface.inputs}
    fixed = dict(launch_plan.fixed_inputs) if launch_plan else {}
    defaults = dict(launch_plan.default_inputs) if launch_plan else {}
    plan = f"launch plan `{launch_plan.name}`" if launch_plan else ""

    for name in given:
        if name not in declared:
            known = ", ".join(declared) or "none"
            problems.append(Problem(
                name, None, literal_type_name(given[name]),
                f"`{entity}` has no input `{name}`; its inputs: {known}",
            ))
        elif name in fixed:
            problems.append(Problem(
                name, describe_type(declared[name].type), literal_type_name(given[name]),
                f"input `{name}` is fixed to {fixed[name]!r} by {plan} and cannot be overridden; "
                "leave it out, or launch the workflow or another launch plan",
            ))

    usable_defaults = _interface_defaults(interface, queries=artifacts is not None)
    merged: dict[str, Any] = {}
    source: dict[str, str] = {}
    resolved: dict[str, dict[str, Any]] = {}  # inputs found in the artifact catalog: value refs
    for spec in interface.inputs:
        name = spec.name
        layers = []  # later layers win
        if not spec.required and name in usable_defaults:
            layers.append(("default", spec.default))
        if name in defaults:
            layers.append(("default input", defaults[name]))
        if name in given and name not in fixed:
            layers.append(("request", given[name]))
        if name in fixed:
            layers.append(("fixed input", fixed[name]))
        if layers:
            source[name], merged[name] = layers[-1]

    for spec in interface.inputs:
        expected = describe_type(spec.type)
        if spec.name not in merged:
            if spec.required:
                problems.append(Problem(
                    spec.name, expected, "nothing",
                    f"`{entity}` needs input `{spec.name}` ({expected}); none was given",
                ))
            continue
        value = merged[spec.name]
        if _is_artifact_query(value):
            if artifacts is None:
                problems.append(Problem(
                    spec.name, expected, "artifact query",
                    f"input `{spec.name}` of `{entity}` defaults to an artifact query, which is resolved "
                    f"only when an execution is created; pass a value for `{spec.name}`",
                ))
                continue
            plain = {k: v for k, v in merged.items() if not _is_artifact_query(v)}
            try:
                resolved[spec.name] = artifacts(entity, spec.name, value["artifact_query"], plain, spec.type)
            except ValueError as exc:  # the catalog's QueryProblem: the query in words
                problems.append(Problem(spec.name, expected, "artifact query", str(exc)))
            continue
        error = validate_literal(spec.type, value)
        if error is not None:
            origin = "" if source[spec.name] == "request" else f" ({source[spec.name]} of {plan or entity})"
            what = error if error.startswith("expected ") else f"expected {expected}: {error}"
            problems.append(Problem(
                spec.name, expected, literal_type_name(value),
                f"input `{spec.name}` of `{entity}`{origin}: {what}",
            ))
    if problems:
        raise InputProblems(entity, problems)
    types = {spec.name: spec.type for spec in interface.inputs}
    return {name: resolved.get(name) or literal_ref(value, types[name]) for name, value in merged.items()}


def _interface_defaults(interface: InterfaceSpec, *, queries: bool = False) -> set[str]:
    """Inputs whose interface default is a usable literal (not unrepresentable; an artifact
    query only when `queries` are resolved)."""
    out = set()
    for spec in interface.inputs:
        default = spec.default
        if isinstance(default, dict) and (UNREPRESENTABLE in default or (_is_artifact_query(default) and not queries)):
            continue
        out.add(spec.name)
    return out


def _values(block: Any) -> dict[str, str]:
    """Labels/annotations as launch plan specs write them: `{"values": {...}}` or a plain dict."""
    if isinstance(block, dict):
        inner = block.get("values", block)
        if isinstance(inner, dict):
            return {str(k): str(v) for k, v in inner.items()}
    return {}


def merge_settings(given: Any, launch_plan: LaunchPlanSpec | None) -> dict[str, Any]:
    """Execution settings: the request's, over the launch plan's, over the defaults.

    `given` is the request's `ExecutionSettings`; only the fields it sets win.
    """
    chosen = given.model_fields_set
    lp = launch_plan.settings if launch_plan else {}
    raw_config = lp.get("raw_output_data_config") or {}
    settings: dict[str, Any] = {
        "overwrite_cache": bool(lp.get("overwrite_cache") or False),
        "max_parallelism": lp.get("max_parallelism"),
        "envs": {},
        "labels": _values(lp.get("labels")),
        "annotations": _values(lp.get("annotations")),
        "raw_output_prefix": raw_config.get("output_location_prefix") if isinstance(raw_config, dict) else None,
        "interruptible": None,
    }
    for key in SETTING_KEYS:
        if key not in chosen:
            continue
        value = getattr(given, key)
        if key in ("labels", "annotations"):
            settings[key] = {**settings[key], **value}
        else:
            settings[key] = value
    return settings


# ------------------------------------------------------------------ raw output prefix

_PREFIX_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=-]*$")
_RESERVED = ("bundles", "functions")  # the server's own code lives there


def raw_output_prefix(given: str | None, store_root: str) -> str | None:
    """Where an execution's outputs go, as a path inside the object store, or None (the
    default, `executions/<id>/...`); an `InvalidField` (422) that says why it cannot be used.

    `given` is the launch plan's `RawOutputDataConfig(output_location_prefix=...)` or the
    launch's `raw_output_prefix`: a path inside the object store (`team-a/raw`), or a URL
    under the store's root (`store_root`, e.g. `s3://bucket/plait/team-a/raw`). The workers
    write only to this server's object store, so a prefix elsewhere is refused rather than
    ignored. Outputs then go to `<prefix>/executions/<id>/<node>/<attempt>/...`.
    """
    if not given:
        return None
    field = "settings.raw_output_prefix"
    path = given
    root = store_root.rstrip("/") + "/"
    if "://" in given or given.startswith("/"):
        if not (given.rstrip("/") + "/").startswith(root):
            raise InvalidField(
                f"raw output prefix `{given}` is outside this server's object store ({root}): its "
                "workers write only there; give a path inside it (e.g. `team-a/raw`) or a URL under "
                f"{root}", field=field,
            )
        path = given[len(root):] if len(given) > len(root) else ""
    segments = [seg for seg in path.strip("/").split("/")]
    if segments == [""]:
        return None
    bad = next((seg for seg in segments if not _PREFIX_SEGMENT.match(seg)), None)
    if bad is not None:
        raise InvalidField(
            f"raw output prefix `{given}`: the part {bad!r} is not a folder name (letters, digits, "
            "`.`, `_`, `-` and `=`, not starting with `.`; no `..` or empty parts)", field=field,
        )
    if segments[0] in _RESERVED:
        raise InvalidField(
            f"raw output prefix `{given}` starts with `{segments[0]}/`, where the server keeps "
            "registered code; choose another folder", field=field,
        )
    return "/".join(segments)


# ------------------------------------------------------------------ secrets

# What the tasks of an entity version request: (task, secret name) pairs, per database and
# entity version. Versions do not change once registered, so a walk that found every entity
# at its version is kept; one that fell back to a newest version is done again next time.
_REQUESTED: OrderedDict[tuple[str, ...], tuple[tuple[str, str], ...]] = OrderedDict()
_REQUESTED_MAX = 1024


def check_secrets(s: Session, project: str, domain: str, kind: str, name: str, version: str) -> None:
    """Refuse (422) a launch whose tasks request secrets that `project`/`domain` does not have,
    naming each task and secret and the command that creates it.

    `kind` and `name` are what runs (a task or a workflow, at `version`, as the execution
    records it: a launch plan's workflow for a launch plan); every task it can run is found
    as the executor will find it: a workflow's nodes and conditional cases, its subworkflows,
    launch plans (their workflows at the plan's version) and map targets, and its failure
    handler. The children of a dynamic task are known only when it runs; a secret they lack
    fails their attempt with the same message.
    """
    requested = secrets_requested(s, project, domain, kind, name, version)
    if not requested:
        return
    have = queries.secret_names(s, project, domain)
    problems = []
    for task, secret in requested:
        if secrets.name_problem(secret):
            problems.append((secret, secrets.invalid_message(task, secret)))
        elif secret not in have:
            problems.append((secret, secrets.missing_message(task, secret, project, domain)))
    if problems:
        raise InvalidRequest("; ".join(m for _, m in problems), kind="secret", name=problems[0][0])


def secrets_requested(s: Session, project: str, domain: str, kind: str, name: str,
                      version: str) -> tuple[tuple[str, str], ...]:
    """(task, secret name) of every secret the tasks of entity `name` request, sorted."""
    key = (str(s.get_bind().engine.url), project, domain, stored_kind(kind), name, version)
    found = _REQUESTED.get(key)
    if found is not None:
        return found
    walk = _Walk(s, project, domain)
    for task in walk.tasks(walk.fetch(kind, name, version), version):
        for request in secrets.requests_of(task):
            walk.requested.add((task.name, secrets.secret_name(request.get("group"), request.get("key"))))
    found = tuple(sorted(walk.requested))
    if walk.exact:
        _remember(_REQUESTED, key, found)
    return found


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    """Keep `value` in a bounded cache of entity versions (the oldest go past _REQUESTED_MAX)."""
    cache[key] = value
    while len(cache) > _REQUESTED_MAX:
        with contextlib.suppress(KeyError):  # another request thread took it first
            cache.popitem(last=False)


class _Walk:
    """The tasks an entity can run, each entity fetched once, as the executor fetches them."""

    def __init__(self, s: Session, project: str, domain: str) -> None:
        self.s, self.project, self.domain = s, project, domain
        self.specs: dict[tuple[str, str, str], Spec | None] = {}  # fetched once each
        self.walked: set[tuple[str, str]] = set()  # workflows walked (name, version)
        self.requested: set[tuple[str, str]] = set()
        self.exact = True  # every entity was found at the version asked for
        self.missing: list[Pin] = []  # pinned references whose version is not registered

    def fetch(self, kind: str, name: str, version: str) -> Spec | None:
        """An entity's spec at `version`, else its newest; None if it is gone (the run says so)."""
        for wanted in (version, None):
            try:
                record = queries.get_entity(self.s, stored_kind(kind), self.project, self.domain, name, wanted)
            except NotFound:
                self.exact = False
                continue
            return parse_spec(record.spec)
        return None

    def tasks(self, spec: Spec | None, version: str) -> Iterator[TaskSpec]:
        """Every task `spec` can run (a task called by several nodes comes once per node)."""
        for task, _ in self.calls(spec, version):
            yield task

    def calls(self, spec: Spec | None, version: str) -> Iterator[tuple[TaskSpec, dict[str, Any]]]:
        """Each task `spec` can run with the overrides of the node that calls it (a map's for
        its items); entities fetched once, each workflow walked once, pinned references at
        exactly their version (a missing one is noted in `missing`, not walked)."""
        if isinstance(spec, TaskSpec):
            yield spec, {}
        elif isinstance(spec, LaunchPlanSpec):
            yield from self._entity("workflow", spec.workflow or spec.name, spec.version or version, {})
        elif isinstance(spec, WorkflowSpec):
            if (spec.name, version) in self.walked:
                return
            self.walked.add((spec.name, version))
            if spec.on_failure:
                yield from self._entity("task", spec.on_failure, version, {})
            for node in _nodes(spec.nodes):
                pin = pin_of(node)
                if pin is not None:
                    yield from self._pinned(pin, node.overrides)
                elif node.map is not None:
                    yield from self._entity(node.map.target_kind, node.map.target, version, node.overrides)
                elif node.kind not in ("branch", "gate"):  # described by their node
                    yield from self._entity(node.kind, node.entity, version, node.overrides)

    def _entity(self, kind: str, name: str, version: str,
                overrides: dict[str, Any]) -> Iterator[tuple[TaskSpec, dict[str, Any]]]:
        mark = (kind if kind in ("workflow", "launch_plan") else "task", name, version)
        if mark not in self.specs:
            self.specs[mark] = self.fetch(kind, name, version)
        yield from self._spec(self.specs[mark], version, overrides)

    def _pinned(self, pin: Pin, overrides: dict[str, Any]) -> Iterator[tuple[TaskSpec, dict[str, Any]]]:
        mark = (f"{pin.project}/{pin.domain}/{pin.kind}", pin.name, pin.version)
        if mark not in self.specs:
            try:
                self.specs[mark] = fetch_pinned(self.s, pin)[0]
            except NotFound:
                self.specs[mark] = None
                self.missing.append(pin)  # check_references refuses the launch, naming it
        yield from self._spec(self.specs[mark], pin.version, overrides)

    def _spec(self, spec: Spec | None, version: str,
              overrides: dict[str, Any]) -> Iterator[tuple[TaskSpec, dict[str, Any]]]:
        if isinstance(spec, TaskSpec):
            yield spec, dict(overrides or {})  # the node's overrides apply to a task it runs
        else:
            yield from self.calls(spec, version)


def _nodes(nodes: tuple[NodeSpec, ...]) -> Iterator[NodeSpec]:
    for node in nodes:
        yield node
        if node.branch is not None:
            for case in node.branch.cases:
                yield from _nodes(case.nodes)


# ------------------------------------------------------------------ pools

# What the tasks of an entity version ask of the pools: (task name, settings, node overrides)
# per call, and the workflow's interruptible default, per database and entity version.
_CALLS: OrderedDict[tuple[str, ...], tuple[tuple[tuple[str, dict[str, Any], dict[str, Any]], ...], bool]] = OrderedDict()


def launch_pools(settings: Any) -> ClusterFile | None:
    """The cluster file whose pools run this server's tasks, as the executor has it: the one
    given (`--cluster`), the embedded default's (`compute.default_local()`), or None for an
    external scheduler (its workers are checked when a node starts)."""
    if settings is None:
        return None
    if settings.cluster is not None:
        return settings.cluster  # type: ignore[no-any-return]
    return default_local() if settings.dask_scheduler is None else None


def check_pools(s: Session, cluster: ClusterFile | None, project: str, domain: str, kind: str, name: str,
                version: str, settings: dict[str, Any]) -> None:
    """Refuse (422) a launch with a task that no pool of `cluster` could run, naming the task,
    what it asked and the pools that exist (`compute.placement.problem`, which the executor
    asks too), and a task whose GPU is in `requests` only or differs from its limit.

    Every task the execution can run is found as for secrets (`_Walk`), each with the
    overrides of the node that calls it (a map's for its items); whether it is
    interruptible comes from the launch's `settings`, the task, then the workflow."""
    if cluster is None:
        return
    calls, workflow_default = _task_calls(s, project, domain, kind, name, version)
    problems: list[tuple[str, str]] = []
    for task, task_settings, overrides in calls:
        try:
            problem = placement.gpu_problem(task, task_settings, overrides) or placement.problem(
                cluster, placement.ask_of(task, task_settings, overrides, execution=settings.get("interruptible"),
                                          workflow=workflow_default))
        except UserError as exc:  # a quantity or an image the SDK would not have written
            problem = f"task {task}: {exc}"
        if problem and all(problem != p for _, p in problems):
            problems.append((task, problem))
    if problems:
        raise InvalidRequest("; ".join(p for _, p in problems), kind="task", name=problems[0][0])


def _task_calls(s: Session, project: str, domain: str, kind: str, name: str, version: str,
                ) -> tuple[tuple[tuple[str, dict[str, Any], dict[str, Any]], ...], bool]:
    key = (str(s.get_bind().engine.url), project, domain, stored_kind(kind), name, version)
    found = _CALLS.get(key)
    if found is not None:
        return found
    walk = _Walk(s, project, domain)
    root = walk.fetch(kind, name, version)
    seen: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for task, overrides in walk.calls(root, version):
        call = (task.name, dict(task.settings), dict(overrides))
        if call not in seen:
            seen.append(call)
    found = (tuple(seen), bool(getattr(root, "interruptible", False)))
    if walk.exact:
        _remember(_CALLS, key, found)
    return found


# ------------------------------------------------------------------ references


def check_references(s: Session, project: str, domain: str, kind: str, name: str, version: str) -> None:
    """Refuse (422) a launch that would run a pinned reference (`reference_task`,
    `reference_launch_plan`) whose exact version is not registered, naming its project,
    domain, name and version. A reference never runs another version than its own."""
    walk = _Walk(s, project, domain)
    for _ in walk.tasks(walk.fetch(kind, name, version), version):
        pass
    if walk.missing:
        first = walk.missing[0]
        raise InvalidRequest("; ".join(p.missing() for p in walk.missing), kind=first.kind, name=first.name)
