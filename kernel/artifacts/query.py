"""Queries of stored versions and what they bind to: `Inputs.x`, a trigger's partitions, time granularity.

`Model.query(region=Inputs.region)` is an `ArtifactQuery`: the latest stored
version whose partitions match, found when it is used (as a launch plan's
default input, or inside an `OnArtifact` trigger).
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..model.times import truncate_time
from .store import TIME_PARTITION, ArtifactNotFoundError, ArtifactRecord, local_store

if TYPE_CHECKING:
    from .artifact import Artifact


class Granularity(enum.Enum):
    """How finely a time partition tells versions apart."""

    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"

    def truncate(self, when: _dt.datetime | _dt.date) -> _dt.datetime:
        """`when` cut down to this granularity, in UTC when it carries a zone."""
        return truncate_time(when, self.value)


# ------------------------------------------------------------------ references


@dataclass(frozen=True)
class InputRef:
    """`Inputs.x`: the value of input `x` of the running task or launched workflow."""

    name: str

    def to_spec(self) -> dict[str, Any]:
        return {"input": self.name}

    def __repr__(self) -> str:
        return f"Inputs.{self.name}"


class _Inputs:
    """`Inputs.<name>` refers to an input by name in partition bindings and queries."""

    def __getattr__(self, name: str) -> InputRef:
        if name.startswith("_"):
            raise AttributeError(name)
        return InputRef(name)

    def __repr__(self) -> str:
        return "Inputs"


Inputs = _Inputs()


@dataclass(frozen=True)
class PartitionRef:
    """A partition of the artifact that fired a trigger, e.g. `Daily.time_partition - 1 day`."""

    artifact: str
    key: str
    offset: _dt.timedelta = _dt.timedelta(0)

    def _shift(self, delta: Any, sign: int) -> PartitionRef:
        if self.key != TIME_PARTITION or not isinstance(delta, _dt.timedelta):
            raise InputError(
                f"only a time partition can be shifted, by a datetime.timedelta; got "
                f"{self.artifact}.{self.key} {'+' if sign > 0 else '-'} {delta!r}"
            )
        return PartitionRef(self.artifact, self.key, self.offset + sign * delta)

    def __add__(self, delta: _dt.timedelta) -> PartitionRef:
        return self._shift(delta, 1)

    def __sub__(self, delta: _dt.timedelta) -> PartitionRef:
        return self._shift(delta, -1)

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"trigger_partition": self.key, "artifact": self.artifact}
        if self.offset:
            spec["offset_seconds"] = self.offset.total_seconds()
        return spec


class PartitionRefs:
    """`Model.partitions.<key>`: the partitions of the version that fires a trigger, by key."""

    def __init__(self, artifact: Artifact) -> None:
        self._artifact = artifact

    def __getattr__(self, key: str) -> PartitionRef:
        if key.startswith("_"):
            raise AttributeError(key)
        a = self._artifact
        if a.partition_keys and key not in a.partition_keys:
            raise InputError(
                f"artifact `{a.name}` has no partition `{key}`; its partition keys are "
                f"{list(a.partition_keys)}"
            )
        return PartitionRef(a.name, key)


def binding_spec(value: Any) -> Any:
    """A bound partition value as its spec: a reference, or `{"value": ...}`."""
    if value is None:
        return None
    if isinstance(value, (InputRef, PartitionRef)):
        return value.to_spec()
    if isinstance(value, (_dt.datetime, _dt.date)):
        return {"value": value.isoformat()}
    return {"value": value}


def partition_text(owner: str, key: str, value: Any) -> str:
    """A partition value as the text a version stores (dates in ISO form, enums by value)."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, (str, int, float, bool, _dt.date)) and not isinstance(value, _dt.datetime):
        return value.isoformat() if isinstance(value, _dt.date) else str(value)
    raise InputError(f"{owner}: partition `{key}` expects a string, got {type(value).__name__} {value!r}")


# -------------------------------------------------------------------- queries


class ArtifactQuery:
    """The latest version of an artifact matching partition values, found when used."""

    is_artifact_query = True

    def __init__(
        self,
        artifact: Artifact,
        partitions: dict[str, Any],
        time_partition: Any,
        project: str | None,
        domain: str | None,
        version: str | None = None,
    ) -> None:
        self.artifact = artifact
        self.partitions = partitions
        self.time_partition = time_partition
        self.project = project
        self.domain = domain
        self.version = version

    def bound_inputs(self) -> list[str]:
        """Names of the inputs this query reads (`Inputs.x`)."""
        refs = [*self.partitions.values(), self.time_partition]
        return [r.name for r in refs if isinstance(r, InputRef)]

    def _value_of(self, key: str, ref: Any, inputs: Mapping[str, Any] | None, trigger: ArtifactRecord | None) -> Any:
        if isinstance(ref, InputRef):
            if inputs is None or ref.name not in inputs:
                raise InputError(
                    f"the query for artifact `{self.artifact.name}` reads `{key}` from input "
                    f"`{ref.name}`, which has no value here; pass {ref.name}=..."
                )
            return inputs[ref.name]
        if isinstance(ref, PartitionRef):
            if trigger is None:
                raise InputError(
                    f"the query for artifact `{self.artifact.name}` uses the partition "
                    f"`{ref.key}` of a triggering artifact; it resolves only inside OnArtifact"
                )
            return trigger.partition(ref.key, ref.offset)
        return ref

    def find(self, inputs: Mapping[str, Any] | None = None, *, trigger: ArtifactRecord | None = None) -> ArtifactRecord | None:
        """The matching version's record, or None."""
        owner = f"{self.artifact.name}.query"
        parts = {
            k: partition_text(owner, k, self._value_of(k, v, inputs, trigger))
            for k, v in self.partitions.items()
        }
        when = None
        if self.time_partition is not None:
            when = self._value_of(TIME_PARTITION, self.time_partition, inputs, trigger)
            if not isinstance(when, (_dt.datetime, _dt.date)):
                raise InputError(f"{owner}: time_partition must be a datetime, got {when!r}")
        best: ArtifactRecord | None = None
        for record in local_store().records(self.artifact.name):
            if self.project and record.project != self.project:
                continue
            if self.domain and record.domain != self.domain:
                continue
            if self.version and record.version != self.version:
                continue
            if any(record.partitions.get(k) != v for k, v in parts.items()):
                continue
            if when is not None:
                if record.time_partition is None:
                    continue
                g = Granularity(record.granularity or "DAY")
                if g.truncate(when).isoformat() != record.time_partition:
                    continue
            if best is None or record.seq > best.seq:
                best = record
        return best

    def resolve(self, inputs: Mapping[str, Any] | None = None, *, trigger: ArtifactRecord | None = None) -> Any:
        """The matching version's value; raises ArtifactNotFoundError when there is none."""
        record = self.find(inputs, trigger=trigger)
        if record is None:
            raise ArtifactNotFoundError(
                f"no version of artifact `{self.artifact.name}` matches {self._describe(inputs)}; "
                "run the task that emits it first, or pass the input explicitly"
            )
        return record.value()

    get = resolve

    def _describe(self, inputs: Mapping[str, Any] | None) -> str:
        parts = {k: (inputs or {}).get(v.name, v) if isinstance(v, InputRef) else v for k, v in self.partitions.items()}
        if self.time_partition is not None:
            parts[TIME_PARTITION] = self.time_partition
        return f"partitions {parts}" if parts else "the query (no version stored yet)"

    def to_spec(self) -> dict[str, Any]:
        return {
            "artifact": self.artifact.name,
            "project": self.project,
            "domain": self.domain,
            "version": self.version,
            "partitions": {k: binding_spec(v) for k, v in self.partitions.items()},
            TIME_PARTITION: binding_spec(self.time_partition),
        }

    def __repr__(self) -> str:
        return f"{self.artifact.name}.query({self._describe(None)})"
