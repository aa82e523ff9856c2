"""What runs and launches do with the catalog: record versions, link cache hits, resolve queries.

- `record` queues the versions a successful attempt made (as the worker answered
  them) into the executor's journal, so they commit with the node's success:
  a version exists exactly when its node succeeded, once.
- `type_problem` refuses a version whose type is not the artifact's (the type
  of its newest version), before anything is recorded.
- `LaunchArtifacts` resolves the artifact queries among an execution's input
  defaults when the execution is created, and notes which versions it read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from plait.model.literals import describe_type
from plait.model.times import GRANULARITIES, truncate_time

from ..store.queries import artifacts as aq

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..execution.ports import RunHost
    from ..store import Database


def record(host: RunHost, project: str, domain: str, execution_id: str, path: str, task_version: str | None,
           versions: list[dict[str, Any]], outputs: Mapping[str, dict[str, Any]]) -> None:
    """Queue the versions a node made; they commit with the node's success (the same flush)."""
    outputs = dict(outputs)

    def write(s: Session) -> None:
        aq.record_versions(s, project=project, domain=domain, execution_id=execution_id, node_path=path,
                           task_version=task_version, versions=versions, outputs=outputs)

    host.write(write)


def link_cache_hit(host: RunHost, execution_id: str, path: str, hit: Any) -> None:
    """A node answered from the cache makes no version: it is linked to the cached node's."""
    def write(s: Session) -> None:
        aq.link_cached(s, execution_id=execution_id, node_path=path, from_execution=hit.execution_id,
                       from_node=hit.node_path)

    host.write(write)


def _type_name(spec: dict[str, Any]) -> str:
    try:
        return describe_type(spec)
    except Exception:  # noqa: BLE001 - a type this backend cannot name is still compared
        return str(spec.get("kind", "?"))


def type_problem(db: Database, project: str, domain: str, task: str, versions: list[dict[str, Any]]) -> str | None:
    """Why these versions do not fit the catalog (a type other than the artifact's), or None."""
    with db.session(readonly=True) as s:
        for v in versions:
            newest = aq.latest(s, v.get("project") or project, v.get("domain") or domain, v["name"])
            if newest is None or not newest.type or not v.get("type"):
                continue
            if _type_name(newest.type) != _type_name(v["type"]):
                return (
                    f"task `{task}` output `{v['output']}` makes a version of artifact `{v['name']}` of type "
                    f"`{_type_name(v['type'])}`, but `{v['name']}` holds `{_type_name(newest.type)}` values "
                    f"(its newest version {newest.version}); return a `{_type_name(newest.type)}` or "
                    "declare another artifact for this output"
                )
    return None


class QueryProblem(ValueError):
    """An artifact query that cannot be resolved at launch; the message says it in words."""


class LaunchArtifacts:
    """The artifact queries of one launch, resolved against the catalog.

    Called by `launching.merge_inputs` for each input whose default is a query;
    `resolved` keeps what each input got, and `note(execution_id)` records the
    uses once the execution exists (same transaction).
    """

    def __init__(self, s: Session, project: str, domain: str) -> None:
        self.s = s
        self.project, self.domain = project, domain
        self.resolved: dict[str, aq.ArtifactVersionRecord] = {}

    def __call__(self, entity: str, input_name: str, query: Mapping[str, Any], literals: Mapping[str, Any],
                 type_spec: dict[str, Any]) -> dict[str, Any]:
        """The value ref of the version the query finds for `input_name`; raises QueryProblem."""
        name = str(query.get("artifact") or "")
        project = query.get("project") or self.project
        domain = query.get("domain") or self.domain
        owner = f"input `{input_name}` of `{entity}` (a query of artifact `{name}`)"
        keys = aq.known_keys(self.s, project, domain, name)
        partitions: dict[str, str] = {}
        for key, binding in (query.get("partitions") or {}).items():
            if keys is not None and key not in keys:
                raise QueryProblem(
                    f"{owner}: `{name}` has no partition key `{key}`; its keys are "
                    f"{sorted(k for k in keys if k != aq.TIME_PARTITION) or 'none'}"
                )
            partitions[key] = _text(self._bound(owner, key, binding, literals))
        time_partition = None
        binding = query.get(aq.TIME_PARTITION)
        if binding is not None:
            when = _when(owner, self._bound(owner, aq.TIME_PARTITION, binding, literals))
            newest = aq.latest(self.s, project, domain, name)
            granularity = (newest.granularity if newest is not None else None) or "DAY"
            time_partition = truncate_time(when, granularity if granularity in GRANULARITIES else "DAY").isoformat()
        found = aq.latest(self.s, project, domain, name, partitions, time_partition, query.get("version"))
        if found is None:
            where = "" if (project, domain) == (self.project, self.domain) else f" in {project}/{domain}"
            raise QueryProblem(
                f"{owner}: no version of {aq.describe_query(name, partitions, time_partition, query.get('version'))}"
                f"{where}; run the task that emits it first, or pass `{input_name}` explicitly"
            )
        if found.type and type_spec and _type_name(found.type) != _type_name(type_spec):
            raise QueryProblem(
                f"{owner}: version {found.version} holds `{_type_name(found.type)}`, but `{input_name}` "
                f"expects `{_type_name(type_spec)}`"
            )
        self.resolved[input_name] = found
        return dict(found.value)

    @staticmethod
    def _bound(owner: str, key: str, binding: Any, literals: Mapping[str, Any]) -> Any:
        if isinstance(binding, Mapping) and "input" in binding:
            source = binding["input"]
            if source not in literals:
                raise QueryProblem(
                    f"{owner}: `{key}` is bound to input `{source}`, which has no value here; pass {source}=..."
                )
            return literals[source]
        if isinstance(binding, Mapping) and "value" in binding:
            return binding["value"]
        raise QueryProblem(f"{owner}: `{key}` has a binding this server does not read: {binding!r}")

    def summary(self) -> dict[str, dict[str, Any]]:
        """What each input got, for the execution's `artifact_inputs`."""
        return {k: {"name": v.name, "version": v.version, "uri": v.uri} for k, v in self.resolved.items()}

    def note(self, execution_id: str, *, how: str = "query") -> None:
        """Record the uses of the resolved versions by `execution_id` (in the launch's transaction)."""
        for input_name, found in self.resolved.items():
            aq.record_use(self.s, found.id, execution_id, how, port=input_name)


def _text(value: Any) -> str:
    if isinstance(value, Mapping) and "__datetime__" in value:
        return str(value["__datetime__"])
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise QueryProblem(f"a partition value must be a string, found {value!r}")
    return str(value)


def _when(owner: str, value: Any) -> dt.datetime:
    text = value.get("__datetime__") if isinstance(value, Mapping) else value
    try:
        return dt.datetime.fromisoformat(str(text))
    except ValueError:
        raise QueryProblem(f"{owner}: the time partition must be a date-time, found {value!r}") from None


def carried_inputs(old_inputs: Mapping[str, Any], new_inputs: Mapping[str, Any],
                   found: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Of an execution's `artifact_inputs`, those a relaunch or re-run keeps (the same value ref)."""
    return {k: dict(v) for k, v in (found or {}).items() if old_inputs.get(k) == new_inputs.get(k)}


def note_carried(s: Session, project: str, domain: str, execution_id: str,
                 found: Mapping[str, Mapping[str, Any]]) -> None:
    """A relaunch reads the versions its original read: recorded as its own uses."""
    for input_name, ref in found.items():
        try:
            version = aq.get_version(s, project, domain, str(ref["name"]), str(ref["version"]))
        except Exception:  # noqa: BLE001 - a version removed since: nothing to link
            continue
        aq.record_use(s, version.id, execution_id, "query", port=input_name)
