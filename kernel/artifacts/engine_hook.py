"""The engine's hook: after a task attempt, store a new version of each artifact output.

Its own module because it reads everything below it: the artifacts a task
declares (`artifact`), the `Inputs.x` they bind (`query`) and the store.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from ..errors import UserError
from .artifact import Artifact, ArtifactValue
from .query import InputRef, partition_text
from .store import TIME_PARTITION, ArtifactRecord, local_store


def declared_artifact(tp: Any) -> Artifact | None:
    """The Artifact in an output's `Annotated[...]` metadata, if any."""
    for m in getattr(tp, "__metadata__", ()):
        if isinstance(m, Artifact):
            return m
    return None


def record_outputs(
    task: Any,
    outputs: Mapping[str, Any],
    inputs: Mapping[str, Any],
    execution_id: Any,
    emitted: Mapping[str, Any] | None = None,
) -> list[ArtifactRecord]:
    """Store a new version in the local store for each artifact output of a finished task attempt.

    `emitted` maps output names to what the task returned for them before the
    engine unwrapped `create_from` values; without it, outputs are scanned
    for artifact annotations.
    """
    store = local_store()
    return [
        store.add(
            outputs[v["output"]],
            **{k: v[k] for k in v if k not in ("project", "domain")},
            project=v["project"] or getattr(execution_id, "project", "local"),
            domain=v["domain"] or getattr(execution_id, "domain", "development"),
            execution=str(getattr(execution_id, "name", execution_id)),
        )
        for v in pending_versions(task, outputs, inputs, emitted)
    ]


def pending_versions(
    task: Any,
    outputs: Mapping[str, Any],
    inputs: Mapping[str, Any],
    emitted: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The versions a finished attempt makes, one per artifact output, before anything stores them.

    Each is a dict: `name`, `project` and `domain` (None: the run's), `partitions`,
    `time_partition` (ISO text, cut to the granularity), `granularity`, `task`,
    `output`, `type` (the output's type spec) and `cards`. The local engine stores
    them at once (`record_outputs`); the backend's worker sends them with the
    attempt's answer, and the executor records them with the node's success.
    Raises UserError, naming the task, the output and the artifact, for a
    partition it cannot fill.
    """
    from ..typesys import strip_annotated, type_spec

    made = []
    for name, tp in task.interface.outputs.items():
        returned = (emitted or {}).get(name)
        wrapper = returned if isinstance(returned, ArtifactValue) else None
        declared = declared_artifact(tp)
        if declared is None and wrapper is None:
            continue
        owner = f"task `{task.name}` output `{name}`"
        if declared is not None and wrapper is not None and wrapper.artifact.name != declared.name:
            raise UserError(
                f"{owner} is declared as artifact `{declared.name}` but the task returned "
                f"`{wrapper.artifact.name}.create_from(...)`; return `{declared.name}.create_from(...)`"
            )
        artifact = declared or wrapper.artifact  # type: ignore[union-attr]
        partitions = {
            k: partition_text(owner, k, _input_value(owner, task, inputs, k, v))
            for k, v in artifact.partition_values.items()
        }
        when = artifact._bound_time
        if isinstance(when, InputRef):
            when = _input_value(owner, task, inputs, TIME_PARTITION, when)
        if wrapper is not None:
            partitions.update(wrapper.partitions)
            when = wrapper.time_partition if wrapper.time_partition is not None else when
        missing = [k for k in artifact.partition_keys if k not in partitions]
        if missing:
            raise UserError(
                f"{owner}: artifact `{artifact.name}` needs partition value(s) for {missing}; "
                f"bind them in the annotation ({artifact.name}({missing[0]}=Inputs.{missing[0]})) "
                f"or pass {missing[0]}=... to create_from"
            )
        granularity = artifact.time_partition_granularity
        if artifact.time_partitioned:
            if when is None:
                raise UserError(
                    f"{owner}: artifact `{artifact.name}` is time-partitioned; pass "
                    f"time_partition=<datetime> to create_from or bind it to a datetime input"
                )
            if not isinstance(when, (_dt.datetime, _dt.date)):
                raise UserError(f"{owner}: time_partition must be a datetime, got {when!r}")
        made.append({
            "name": artifact.name,
            "project": artifact.project,
            "domain": artifact.domain,
            "partitions": partitions,
            "time_partition": granularity.truncate(when).isoformat() if granularity and when else None,
            "granularity": granularity.value if granularity else None,
            "task": task.name,
            "output": name,
            "type": _safe_type_spec(type_spec, strip_annotated(tp)[0]),
            "cards": [c.to_spec() for c in wrapper.cards] if wrapper is not None else [],
        })
    return made


def _input_value(owner: str, task: Any, inputs: Mapping[str, Any], key: str, ref: Any) -> Any:
    if not isinstance(ref, InputRef):
        return ref
    if ref.name not in inputs:
        raise UserError(
            f"{owner}: the artifact annotation binds `{key}` to Inputs.{ref.name}, but the task "
            f"has no input `{ref.name}`; its inputs are {list(task.interface.inputs)}"
        )
    return inputs[ref.name]


def _safe_type_spec(type_spec: Any, tp: Any) -> dict[str, Any]:
    try:
        return dict(type_spec(tp))
    except TypeError:
        return {"kind": "pickle"}
