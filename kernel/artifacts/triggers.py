"""`OnArtifact`: a launch plan trigger that runs when a new version of an artifact is stored."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from ..errors import InputError
from .artifact import Artifact
from .query import ArtifactQuery, PartitionRef
from .store import ArtifactRecord


class OnArtifact:
    """A launch plan trigger: run when a new version of `trigger_on` is stored.

    `inputs` maps workflow inputs to literals, to the triggering artifact itself
    (its value), to its partitions (`A.partitions.key`, `A.time_partition`), or
    to queries of other artifacts (which may use the trigger's partitions).
    """

    def __init__(self, trigger_on: Artifact, inputs: Mapping[str, Any] | None = None) -> None:
        if not isinstance(trigger_on, Artifact):
            raise InputError(
                f"OnArtifact(trigger_on=...) expects an Artifact, got {type(trigger_on).__name__}"
            )
        self.trigger_on = trigger_on
        self.inputs = dict(inputs or {})
        for name, value in self.inputs.items():
            refs = [value] if isinstance(value, PartitionRef) else []
            if isinstance(value, ArtifactQuery):
                refs = [v for v in (*value.partitions.values(), value.time_partition) if isinstance(v, PartitionRef)]
                if value.bound_inputs():
                    raise InputError(
                        f"OnArtifact input `{name}`: a query in a trigger cannot read Inputs.x; "
                        "use literals or the triggering artifact's partitions"
                    )
            for ref in refs:
                if ref.artifact != trigger_on.name:
                    raise InputError(
                        f"OnArtifact input `{name}` uses a partition of `{ref.artifact}`, but the "
                        f"trigger fires on `{trigger_on.name}`; only its partitions are known"
                    )

    def inputs_for(self, record: ArtifactRecord) -> dict[str, Any]:
        """The workflow inputs of the execution that `record`, a new version, starts."""
        if record.name != self.trigger_on.name:
            raise InputError(f"OnArtifact on `{self.trigger_on.name}` cannot fire for `{record.name}`")
        out: dict[str, Any] = {}
        for name, value in self.inputs.items():
            if isinstance(value, Artifact):
                out[name] = record.value() if value.name == record.name else value.query().resolve()
            elif isinstance(value, PartitionRef):
                out[name] = record.partition(value.key, value.offset)
            elif isinstance(value, ArtifactQuery):
                out[name] = value.resolve(trigger=record)
            else:
                out[name] = value
        return out

    def to_spec(self) -> dict[str, Any]:
        def spec(value: Any) -> Any:
            if isinstance(value, Artifact):
                return {"artifact": value.name, "triggering": value.name == self.trigger_on.name}
            if isinstance(value, ArtifactQuery):
                return {"artifact_query": value.to_spec()}
            if isinstance(value, PartitionRef):
                return value.to_spec()
            if isinstance(value, (_dt.datetime, _dt.date)):
                return {"value": value.isoformat()}
            if value is None or isinstance(value, (str, int, float, bool, list, dict)):
                return {"value": value}
            return {"value": repr(value)}

        return {
            "kind": "artifact_trigger",
            "trigger_on": self.trigger_on.to_spec(),
            "inputs": {k: spec(v) for k, v in self.inputs.items()},
        }

    def __repr__(self) -> str:
        return f"OnArtifact(trigger_on={self.trigger_on.name!r}, inputs={sorted(self.inputs)})"
