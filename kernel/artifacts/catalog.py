"""`plait.catalog()`: the artifact catalog's calls over the local store, as `plait.Remote` makes them.

    catalog = plait.catalog()                     # what local runs produced
    record = catalog.get_artifact(name="model", partitions={"region": "eu"})
    model = record.value()

`plait.Remote()` answers the same calls (`get_artifact`, `list_artifacts`,
`create_artifact`, `artifact_lineage`) from the backend's catalog, so a
notebook swaps one for the other without changing a line. Both answer
`ArtifactRecord`s; the pieces they share live here too: reading a uri or a
query into the terms of a look-up, the query in words, the shape of a
backend answer as a record.
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..errors import InputError
from .artifact import Artifact, ArtifactValue, DataCard, ModelCard
from .query import ArtifactQuery, Granularity, InputRef, PartitionRef, partition_text
from .store import (
    TIME_PARTITION,
    ArtifactNotFoundError,
    ArtifactRecord,
    ArtifactStore,
    ValueSource,
    local_store,
    type_text,
)

URI_FORM = "plait://PROJECT/DOMAIN/NAME@VERSION"


@dataclass(frozen=True)
class ArtifactSummary:
    """One artifact (every version of one name): what `list_artifacts()` lists without a name."""

    name: str
    project: str
    domain: str
    versions: int
    partition_keys: tuple[str, ...]
    time_partitioned: bool
    latest: ArtifactRecord


@dataclass(frozen=True)
class Lookup:
    """What a `get_artifact` call asks for, read from its uri, query or keywords."""

    name: str
    partitions: dict[str, str]
    time_partition: _dt.datetime | None
    version: str | None
    project: str | None
    domain: str | None

    def words(self) -> str:
        """The query in words: `partitions {'region': 'eu'}, version 3f2a...`."""
        said = []
        if self.partitions:
            said.append(f"partitions {self.partitions}")
        if self.time_partition is not None:
            said.append(f"time partition {self.time_partition.isoformat()}")
        if self.version:
            said.append(f"version {self.version}")
        return ", ".join(said) or "any version"


# ------------------------------------------------------------------ reading a call


def parse_uri(uri: str) -> tuple[str | None, str | None, str, str]:
    """(project, domain, name, version) of `plait://p/d/name@v`, `p/d/name@v` or `name@v`."""
    text = str(uri).strip()
    rest = text.removeprefix("plait://")
    path, at, version = rest.rpartition("@")
    parts = path.split("/") if at else []
    if not at or not version or "/" in version or len(parts) not in (1, 3) or not all(parts):
        raise InputError(
            f"artifact uri {uri!r} is not of the form {URI_FORM} (or NAME@VERSION); "
            "copy it from a record's `.uri` or `plait get artifact NAME`"
        )
    if len(parts) == 3:
        return parts[0], parts[1], parts[2], version
    return None, None, parts[0], version


def lookup(
    uri: str | None = None,
    *,
    query: Any = None,
    name: str | None = None,
    version: str | None = None,
    partitions: Mapping[str, Any] | None = None,
    time_partition: Any = None,
) -> Lookup:
    """The terms of a `get_artifact` call: exactly one of `uri`, `query` or `name`."""
    given = [k for k, v in (("uri", uri), ("query", query), ("name", name)) if v is not None]
    if len(given) != 1:
        raise InputError(
            "get_artifact expects one of uri=..., query=Artifact.query(...) or name=...; "
            + (f"got {' and '.join(given)}" if given else "got none")
        )
    if uri is not None:
        if partitions or time_partition is not None or version is not None:
            raise InputError(f"get_artifact({uri!r}): a uri names one version; drop partitions, "
                             "time_partition and version, or pass name=... instead of the uri")
        project, domain, found, ver = parse_uri(uri)
        return Lookup(found, {}, None, ver, project, domain)
    if query is not None:
        if not isinstance(query, ArtifactQuery):
            raise InputError(f"get_artifact(query=...) expects Artifact.query(...), got {type(query).__name__}")
        if partitions or time_partition is not None:
            raise InputError(f"get_artifact(query=...): the query of `{query.artifact.name}` holds the "
                             "partitions; drop partitions= and time_partition=")
        owner = query.artifact.name
        parts = {k: _literal_binding(owner, k, v) for k, v in query.partitions.items()}
        when = _literal_binding(owner, TIME_PARTITION, query.time_partition)
        return Lookup(owner, partition_values(owner, parts), time_value(owner, when),
                      version or query.version, query.project, query.domain)
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"get_artifact(name=...) expects an artifact name, got {name!r}")
    return Lookup(name, partition_values(name, partitions or {}), time_value(name, time_partition), version,
                  None, None)


def _literal_binding(owner: str, key: str, ref: Any) -> Any:
    """A query's partition value, refused when only a launch can fill it (`Inputs.x`)."""
    if isinstance(ref, InputRef):
        raise InputError(
            f"the query of artifact `{owner}` reads `{key}` from Inputs.{ref.name}, which only a "
            f"launch fills; pass the value: {owner}.query({key}=...) or "
            f"get_artifact(name={owner!r}, partitions={{{key!r}: ...}})"
        )
    if isinstance(ref, PartitionRef):
        raise InputError(
            f"the query of artifact `{owner}` uses the partition `{ref.key}` of the artifact that "
            "fires a trigger, known only inside OnArtifact; pass the value instead"
        )
    return ref


def partition_values(owner: str, partitions: Mapping[str, Any]) -> dict[str, str]:
    """Partition values as the catalog stores them (text), each checked."""
    if not isinstance(partitions, Mapping):
        raise InputError(f"artifact `{owner}`: partitions expects a dict of key to value, got "
                         f"{type(partitions).__name__}")
    out = {}
    for key, value in partitions.items():
        if key == TIME_PARTITION:
            raise InputError(f"artifact `{owner}`: pass the time partition as time_partition=..., "
                             "not among partitions")
        out[str(key)] = partition_text(f"artifact `{owner}`", str(key), _literal_binding(owner, key, value))
    return out


def time_value(owner: str, value: Any) -> _dt.datetime | None:
    """A time partition given as a datetime, a date or ISO text."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"artifact `{owner}`: time_partition {value!r} is not an ISO date or "
                             "time (e.g. 2024-05-01 or 2024-05-01T10:00)") from None
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    raise InputError(f"artifact `{owner}`: time_partition expects a datetime, got {value!r}")


def not_found(found: Lookup, where: str) -> ArtifactNotFoundError:
    """The error for a look-up that matched nothing, with the query in words."""
    if not (found.partitions or found.time_partition or found.version):
        return ArtifactNotFoundError(f"no artifact `{found.name}` {where}; run the task that emits it first")
    return ArtifactNotFoundError(
        f"no version of artifact `{found.name}` matches {found.words()} {where}; list its versions "
        f"with list_artifacts({found.name!r}), or run the task that emits it first"
    )


# ------------------------------------------------------------------ creating


def artifact_value(artifact: Any, value: Any, partitions: Mapping[str, Any] | None,
                   time_partition: Any, cards: Iterable[Any]) -> tuple[Artifact, ArtifactValue]:
    """The artifact and its checked new version, as `create_from` checks a task's (keys, cards)."""
    if isinstance(artifact, str):
        artifact = Artifact(artifact, partition_keys=list(partitions or {}),
                            time_partitioned=time_partition is not None)
    if not isinstance(artifact, Artifact):
        raise InputError(f"create_artifact expects a plait.Artifact or an artifact name, got "
                         f"{type(artifact).__name__}")
    made = artifact.create_from(value, *[_card(artifact.name, c) for c in cards],
                                time_partition=time_value(artifact.name, time_partition), **dict(partitions or {}))
    missing = [k for k in artifact.partition_keys if k not in made.partitions]
    if missing:
        raise InputError(f"create_artifact: artifact `{artifact.name}` needs partition value(s) for "
                         f"{missing}; pass partitions={{{missing[0]!r}: ...}}")
    if artifact.time_partitioned and made.time_partition is None:
        raise InputError(f"create_artifact: artifact `{artifact.name}` is time-partitioned; pass "
                         "time_partition=<datetime>")
    return artifact, made


def _card(owner: str, card: Any) -> ModelCard:
    if isinstance(card, ModelCard):
        return card
    if isinstance(card, str):
        return ModelCard(card)
    if isinstance(card, Mapping) and isinstance(card.get("text"), str):
        return DataCard(card["text"]) if card.get("kind") == "data" else ModelCard(card["text"])
    raise InputError(f"artifact `{owner}`: cards expects ModelCard, DataCard or Markdown text, got {card!r}")


def cut_time(artifact: Artifact, when: Any) -> str | None:
    """The time partition as ISO text, cut to the artifact's granularity."""
    if when is None:
        return None
    granularity = artifact.time_partition_granularity or Granularity.DAY
    return granularity.truncate(when).isoformat()


def value_type(value: Any) -> Any:
    """An annotation for a value given without one: `list[int]` for `[1, 2]`, its class otherwise."""
    if value is None:
        return type(None)
    if isinstance(value, enum.Enum):
        return type(value)
    if isinstance(value, list):
        items = {value_type(v) for v in value}
        return list[items.pop()] if len(items) == 1 else list[Any]  # type: ignore[misc]
    if isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
        items = {value_type(v) for v in value.values()}
        return dict[str, items.pop()] if len(items) == 1 else dict[str, Any]  # type: ignore[misc]
    return type(value)


# ------------------------------------------------------------------ answers as records


def record_from_answer(data: Mapping[str, Any], source: ValueSource | None = None) -> ArtifactRecord:
    """An ArtifactVersion answer of the backend as an ArtifactRecord whose value comes from `source`."""
    producer = data.get("producer") or {}
    ref = data.get("value")
    return ArtifactRecord(
        name=str(data["name"]),
        version=str(data["version"]),
        project=str(data.get("project") or ""),
        domain=str(data.get("domain") or ""),
        seq=int(data.get("id") or 0),
        created_at=str(data.get("created_at") or ""),
        partitions={str(k): str(v) for k, v in (data.get("partitions") or {}).items()},
        time_partition=data.get("time_partition"),
        granularity=data.get("granularity"),
        execution=str(producer.get("execution_id") or ""),
        task=str(producer.get("task") or ""),
        output=str(producer.get("output") or ""),
        type=dict(data.get("type") or {}),
        cards=list(data.get("cards") or []),
        id=data.get("id"),
        value_ref=dict(ref) if isinstance(ref, Mapping) else None,
        node_path=str(producer.get("node_path") or ""),
        task_version=str(producer.get("task_version") or ""),
        preview=str(data.get("preview") or ""),
        type_name=str(data.get("type_name") or type_text(dict(data.get("type") or {}))),
        _source=source,
    )


# ------------------------------------------------------------------ the local catalog


class LocalCatalog:
    """The artifact versions local runs stored (`$PLAIT_HOME/artifacts`), with `plait.Remote`'s calls.

    `project` and `domain` (None: all) keep the versions of one scope; local
    runs store theirs under project `local`. Lineage here knows each version's
    producer (the local execution and task that emitted it) but not its
    consumers: local runs do not record which versions they read.
    """

    def __init__(self, project: str | None = None, domain: str | None = None,
                 store: ArtifactStore | None = None) -> None:
        self.project = project
        self.domain = domain
        self.store = store or local_store()

    def __repr__(self) -> str:
        scope = "/".join(p for p in (self.project, self.domain) if p) or "every project"
        return f"LocalCatalog({self.store.root}, {scope})"

    def _records(self, name: str | None = None, project: str | None = None,
                 domain: str | None = None) -> list[ArtifactRecord]:
        """Stored versions in scope, newest first."""
        project, domain = project or self.project, domain or self.domain
        found = [r for r in self.store.records(name)
                 if (not project or r.project == project) and (not domain or r.domain == domain)]
        return sorted(found, key=lambda r: r.seq, reverse=True)

    def _where(self) -> str:
        return f"in the local store ({self.store.root})"

    def _check_keys(self, name: str, versions: list[ArtifactRecord], partitions: Mapping[str, str],
                    time_partition: Any) -> None:
        """An unknown partition key is an error, worded as the backend words it; the newest
        version has the artifact's keys."""
        newest = versions[0]
        keys = set(newest.partitions) | ({TIME_PARTITION} if newest.time_partition is not None else set())
        unknown = [k for k in partitions if k not in keys]
        if time_partition is not None and TIME_PARTITION not in keys:
            unknown.append(TIME_PARTITION)
        if unknown:
            shown = sorted(k for k in keys if k != TIME_PARTITION)
            raise InputError(
                f"artifact `{name}` has no partition key {', '.join(f'`{k}`' for k in unknown)}; its keys are "
                f"{', '.join(shown) if shown else 'none'}" + (" and time_partition" if TIME_PARTITION in keys else "")
            )

    def get_artifact(
        self,
        uri: str | None = None,
        *,
        query: Any = None,
        name: str | None = None,
        version: str | None = None,
        partitions: Mapping[str, Any] | None = None,
        time_partition: Any = None,
    ) -> ArtifactRecord:
        """The latest stored version matching a uri, an `Artifact.query(...)`, or a name and partitions.

        Raises ArtifactNotFoundError, with the query in words, when none matches.
        """
        found = lookup(uri, query=query, name=name, version=version, partitions=partitions,
                       time_partition=time_partition)
        versions = self._records(found.name, found.project, found.domain)
        if not versions:
            raise not_found(replace(found, partitions={}, time_partition=None, version=None), self._where())
        self._check_keys(found.name, versions, found.partitions, found.time_partition)
        for record in versions:
            if _matches(record, found):
                return record
        raise not_found(found, self._where())

    def list_artifacts(
        self,
        name: str | None = None,
        *,
        name_contains: str | None = None,
        partitions: Mapping[str, Any] | None = None,
        time_from: Any = None,
        time_to: Any = None,
        execution: str | None = None,
        limit: int = 100,
    ) -> list[Any]:
        """Without `name`: one `ArtifactSummary` per artifact, newest first. With it: its versions
        (`ArtifactRecord`s), newest first, kept to those matching the filters."""
        if name is None:
            no_version_filters(partitions, time_from, time_to, execution)
            return self._summaries(name_contains)[:limit]
        versions = self._records(name)
        wanted = partition_values(name, partitions or {})
        if versions:
            self._check_keys(name, versions, wanted, None)
        start, end = time_value(name, time_from), time_value(name, time_to)
        return [r for r in versions
                if all(r.partitions.get(k) == v for k, v in wanted.items())
                and (execution is None or r.execution == execution)
                and _within(r, start, end)][:limit]

    def _summaries(self, name_contains: str | None) -> list[ArtifactSummary]:
        by_name: dict[tuple[str, str, str], list[ArtifactRecord]] = {}
        for record in self._records():  # newest first, so each list starts with its latest
            if name_contains and name_contains.lower() not in record.name.lower():
                continue
            by_name.setdefault((record.project, record.domain, record.name), []).append(record)
        return [
            ArtifactSummary(
                name=name, project=project, domain=domain, versions=len(versions),
                partition_keys=tuple(sorted({k for r in versions for k in r.partitions})),
                time_partitioned=any(r.time_partition for r in versions), latest=versions[0],
            )
            for (project, domain, name), versions in by_name.items()
        ]

    def create_artifact(
        self,
        artifact: Any,
        value: Any = None,
        *,
        partitions: Mapping[str, Any] | None = None,
        time_partition: Any = None,
        cards: Iterable[Any] = (),
    ) -> ArtifactRecord:
        """Store `value` as a new version of `artifact` (a plait.Artifact or its name), as a task's
        `create_from` would, without a producer."""
        from ..typesys import type_spec

        declared, made = artifact_value(artifact, value, partitions, time_partition, cards)
        granularity = declared.time_partition_granularity
        try:
            spec = dict(type_spec(value_type(value)))
        except TypeError:
            spec = {"kind": "pickle"}
        return self.store.add(
            value,
            name=declared.name,
            project=declared.project or self.project or "local",
            domain=declared.domain or self.domain or "development",
            partitions=made.partitions,
            time_partition=cut_time(declared, made.time_partition),
            granularity=granularity.value if granularity and made.time_partition is not None else None,
            type=spec,
            cards=[c.to_spec() for c in made.cards],
        )

    def artifact_lineage(self, record_or_uri: ArtifactRecord | str, depth: int = 2) -> dict[str, Any]:
        """`{nodes, edges}` as the backend answers them: the version and the local execution that
        produced it. Consumers are not tracked locally, so nothing lies downstream; `depth` is
        accepted for the same call shape."""
        if not 1 <= int(depth) <= 5:
            raise InputError(f"artifact_lineage: depth counts steps each way, 1 to 5; got {depth}")
        record = record_or_uri if isinstance(record_or_uri, ArtifactRecord) else self.get_artifact(record_or_uri)
        node = artifact_node(record)
        nodes, edges = [node], []
        if record.execution:
            nodes.append({"id": f"execution:{record.execution}", "kind": "execution",
                          "execution_id": record.execution, "entity_name": record.task, "phase": "SUCCEEDED"})
            edges.append({"source": f"execution:{record.execution}", "target": node["id"], "kind": "produced",
                          "node_path": record.node_path, "port": record.output})
        return {"nodes": nodes, "edges": edges}


def artifact_node(record: ArtifactRecord) -> dict[str, Any]:
    """A version as a lineage node."""
    return {"id": f"artifact:{record.name}@{record.version}", "kind": "artifact", "name": record.name,
            "version": record.version, "partitions": dict(record.partitions),
            "time_partition": record.time_partition, "created_at": record.created_at,
            "type_name": record.type_name}


def _matches(record: ArtifactRecord, found: Lookup) -> bool:
    if found.version and record.version != found.version:
        return False
    if any(record.partitions.get(k) != v for k, v in found.partitions.items()):
        return False
    if found.time_partition is not None:
        if record.time_partition is None:
            return False
        granularity = Granularity(record.granularity or "DAY")
        return granularity.truncate(found.time_partition).isoformat() == record.time_partition
    return True


def _within(record: ArtifactRecord, start: _dt.datetime | None, end: _dt.datetime | None) -> bool:
    """Is the version's time partition in [start, end]? Versions without one are not."""
    if start is None and end is None:
        return True
    if record.time_partition is None:
        return False
    when = _dt.datetime.fromisoformat(record.time_partition)
    naive = [t.astimezone(_dt.timezone.utc).replace(tzinfo=None) if t and t.tzinfo else t for t in (start, end)]
    return (naive[0] is None or when >= naive[0]) and (naive[1] is None or when <= naive[1])


def no_version_filters(partitions: Any, time_from: Any, time_to: Any, execution: Any) -> None:
    given = [k for k, v in (("partitions", partitions), ("time_from", time_from), ("time_to", time_to),
                            ("execution", execution)) if v]
    if given:
        raise InputError(f"list_artifacts: {', '.join(given)} filter the versions of one artifact; "
                         "pass its name first: list_artifacts('NAME', ...)")


def catalog(project: str | None = None, domain: str | None = None) -> LocalCatalog:
    """The local artifact catalog, with the calls `plait.Remote()` makes to the backend's."""
    return LocalCatalog(project, domain)
