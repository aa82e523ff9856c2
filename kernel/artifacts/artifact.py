"""`Artifact`: a named, versioned, partitioned task output; `create_from` and the cards of a version.

Declare an artifact once (`Model = Artifact(name="model", partition_keys=["region"])`),
mark a task output with it (`-> Annotated[T, Model(region=Inputs.region)]`) or
return `Model.create_from(value, region="eu")`, and each run of the task makes
a new version.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .query import (
    ArtifactQuery,
    Granularity,
    InputRef,
    PartitionRef,
    PartitionRefs,
    binding_spec,
    partition_text,
)
from .store import TIME_PARTITION, ArtifactNotFoundError

MAX_PARTITION_KEYS = 10


@dataclass(frozen=True)
class ModelCard:
    """Markdown that describes a model; pass it to `create_from`."""

    text: str
    kind = "model"

    def to_spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text}


@dataclass(frozen=True)
class DataCard(ModelCard):
    """Markdown that describes a data set; pass it to `create_from`."""

    kind = "data"


class Artifact:
    """A named artifact; its versions are made by the tasks that emit it.

    `partition_keys` (up to 10) are filled per version with strings; a
    `time_partitioned` artifact also carries a time, cut to
    `time_partition_granularity` (default `Granularity.DAY`).
    """

    __plait_artifact__ = True  # the engine looks for this in output annotations

    def __init__(
        self,
        name: str,
        partition_keys: list[str] | tuple[str, ...] | None = None,
        time_partitioned: bool = False,
        time_partition_granularity: Granularity | None = None,
        *,
        project: str | None = None,
        domain: str | None = None,
        version: str | None = None,
        partitions: Mapping[str, Any] | None = None,
        time_partition: Any = None,
        description: str = "",
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"Artifact expects a non-empty name, got {name!r}")
        owner = f"artifact `{name}`"
        keys = list(partition_keys or [])
        for k in partitions or {}:
            if k not in keys:
                keys.append(k)
        if len(keys) > MAX_PARTITION_KEYS:
            raise InputError(f"{owner}: at most {MAX_PARTITION_KEYS} partition keys, got {len(keys)}")
        for k in keys:
            if not isinstance(k, str) or not k.isidentifier() or k == TIME_PARTITION:
                raise InputError(
                    f"{owner}: partition key {k!r} must be a Python identifier other than "
                    f"`{TIME_PARTITION}` (set time_partitioned=True for a time partition)"
                )
        if len(set(keys)) != len(keys):
            raise InputError(f"{owner}: partition keys {keys} repeat a name")
        if time_partition_granularity is not None:
            if not isinstance(time_partition_granularity, Granularity):
                raise InputError(
                    f"{owner}: time_partition_granularity expects a Granularity (MINUTE, HOUR, "
                    f"DAY or MONTH), got {time_partition_granularity!r}"
                )
            if not time_partitioned and time_partition is None:
                raise InputError(
                    f"{owner}: time_partition_granularity needs time_partitioned=True"
                )
        self.name = name
        self.project = project
        self.domain = domain
        self.version = version
        self.description = description
        self.partition_keys: tuple[str, ...] = tuple(keys)
        self.time_partitioned = bool(time_partitioned or time_partition is not None)
        self.time_partition_granularity = (
            (time_partition_granularity or Granularity.DAY) if self.time_partitioned else None
        )
        self._bound: dict[str, Any] = {}
        self._bound_time: Any = None
        if partitions or time_partition is not None:
            self._bind(dict(partitions or {}), time_partition)

    # -------------------------------------------------------------- binding
    def _bind(self, values: dict[str, Any], time_value: Any) -> None:
        owner = f"artifact `{self.name}`"
        for key, value in values.items():
            if key not in self.partition_keys:
                raise InputError(
                    f"{owner} has no partition key `{key}`; its keys are "
                    f"{list(self.partition_keys) or 'none'} (declare it in partition_keys)"
                )
            if not isinstance(value, (str, InputRef, PartitionRef)):
                raise InputError(
                    f"{owner}: partition `{key}` expects a string or Inputs.<name>, got {value!r}"
                )
            self._bound[key] = value
        if time_value is not None:
            if not self.time_partitioned:
                raise InputError(f"{owner} is not time-partitioned; declare it with time_partitioned=True")
            if not isinstance(time_value, (_dt.datetime, _dt.date, InputRef, PartitionRef)):
                raise InputError(
                    f"{owner}: time_partition expects a datetime or Inputs.<name>, got {time_value!r}"
                )
            self._bound_time = time_value

    def __call__(self, *args: Any, **kwargs: Any) -> Artifact:
        """`Model(region=Inputs.region)`: this artifact with partition values bound."""
        if args:
            raise InputError(
                f"artifact `{self.name}`: bind partitions by name, e.g. "
                f"{self.name}(key=Inputs.key); got positional {args!r}"
            )
        bound = object.__new__(Artifact)
        bound.__dict__.update(self.__dict__)
        bound._bound = dict(self._bound)
        time_value = kwargs.pop(TIME_PARTITION, None)
        bound._bind(kwargs, time_value)
        return bound

    @property
    def partition_values(self) -> dict[str, Any]:
        """Partition values bound with `Model(key=...)` (strings or `Inputs.x`)."""
        return dict(self._bound)

    @property
    def time_partition(self) -> PartitionRef:
        """In an `OnArtifact` trigger: the time partition of the version that fired it."""
        if not self.time_partitioned:
            raise InputError(
                f"artifact `{self.name}` is not time-partitioned; declare it with "
                "time_partitioned=True to use its time_partition"
            )
        return PartitionRef(self.name, TIME_PARTITION)

    @property
    def partitions(self) -> PartitionRefs:
        """In an `OnArtifact` trigger: `Model.partitions.region` of the version that fired it."""
        return PartitionRefs(self)

    # ------------------------------------------------------------- emitting
    def create_from(self, value: Any, *cards: Any, time_partition: Any = None, **partitions: Any) -> ArtifactValue:
        """Return this from a task to emit `value` as a new version with these partitions."""
        owner = f"{self.name}.create_from"
        if isinstance(value, ArtifactValue):
            raise InputError(f"{owner}: the value is already an artifact of `{value.artifact.name}`")
        for card in cards:
            if not isinstance(card, ModelCard):
                raise InputError(
                    f"{owner}: extra positional arguments must be ModelCard or DataCard, got "
                    f"{type(card).__name__}; pass partition values by name"
                )
        values: dict[str, str] = {}
        for key, v in partitions.items():
            if self.partition_keys and key not in self.partition_keys:
                raise InputError(
                    f"{owner}: `{self.name}` has no partition key `{key}`; its keys are "
                    f"{list(self.partition_keys)}"
                )
            values[key] = partition_text(owner, key, v)
        if time_partition is not None:
            if not self.time_partitioned:
                raise InputError(
                    f"{owner}: `{self.name}` is not time-partitioned; declare it with "
                    "time_partitioned=True or drop time_partition"
                )
            if not isinstance(time_partition, (_dt.datetime, _dt.date)):
                raise InputError(f"{owner}: time_partition expects a datetime, got {time_partition!r}")
        return ArtifactValue(self, value, values, time_partition, cards)

    # ------------------------------------------------------------- consuming
    def query(
        self,
        project: str | None = None,
        domain: str | None = None,
        time_partition: Any = None,
        partitions: Mapping[str, Any] | None = None,
        version: str | None = None,
        **kwargs: Any,
    ) -> ArtifactQuery:
        """The latest version whose partitions match; values may be literals or `Inputs.x`.

        `version` pins one version (its uri's part after `@`): as a workflow's default it is
        that version, locally and on the backend."""
        wanted = {**(partitions or {}), **kwargs}
        declared = bool(self.partition_keys) or self.time_partitioned
        owner = f"{self.name}.query"
        if declared:
            unknown = [k for k in wanted if k not in self.partition_keys]
            if unknown:
                raise InputError(
                    f"{owner}: `{self.name}` has no partition key(s) {unknown}; its keys are "
                    f"{list(self.partition_keys) or 'none'}"
                )
            if time_partition is not None and not self.time_partitioned:
                raise InputError(f"{owner}: `{self.name}` is not time-partitioned")
        for k, v in wanted.items():
            if not isinstance(v, (InputRef, PartitionRef)):
                partition_text(owner, k, v)
        return ArtifactQuery(
            self,
            wanted,
            time_partition,
            project or self.project,
            domain or self.domain,
            (version.rsplit("@", 1)[-1] if version else None) or self.version,
        )

    def get(self, uri_or_version: str) -> Any:
        """The value of one stored version: `Model.get("proj/dom/model@v1")` or `.get("v1")`."""
        version = uri_or_version.rsplit("@", 1)[-1]
        record = ArtifactQuery(self, {}, None, None, None, version).find()
        if record is None:
            raise ArtifactNotFoundError(f"artifact `{self.name}` has no version `{version}` here")
        return record.value()

    def to_spec(self) -> dict[str, Any]:
        granularity = self.time_partition_granularity
        return {
            "kind": "artifact",
            "name": self.name,
            "project": self.project,
            "domain": self.domain,
            "version": self.version,
            "partition_keys": list(self.partition_keys),
            "time_partitioned": self.time_partitioned,
            "time_partition_granularity": granularity.value if granularity else None,
            "bindings": {
                "partitions": {k: binding_spec(v) for k, v in self._bound.items()},
                TIME_PARTITION: binding_spec(self._bound_time),
            },
        }

    def __repr__(self) -> str:
        extra = f", partition_keys={list(self.partition_keys)}" if self.partition_keys else ""
        if self.time_partitioned:
            extra += f", time_partitioned=True, granularity={self.time_partition_granularity.name}"  # type: ignore[union-attr]
        return f"Artifact(name={self.name!r}{extra})"


class ArtifactValue:
    """What `create_from` returns: a task output plus the partitions of its new version."""

    __slots__ = ("artifact", "value", "partitions", "time_partition", "cards")

    def __init__(self, artifact: Artifact, value: Any, partitions: dict[str, str], time_partition: Any, cards: tuple[Any, ...]) -> None:
        self.artifact = artifact
        self.value = value
        self.partitions = partitions
        self.time_partition = time_partition
        self.cards = cards

    def __plait_artifact_unwrap__(self) -> Any:  # the engine checks the plain value
        return self.value

    def __repr__(self) -> str:
        return f"ArtifactValue({self.artifact.name}, {type(self.value).__name__})"
