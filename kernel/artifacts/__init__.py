"""Artifacts: named, versioned, partitioned task outputs that workflows query and react to.

Declare an artifact once (`Model = Artifact(name="model", partition_keys=["region"])`),
mark a task output with it (`-> Annotated[T, Model(region=Inputs.region)]`) or
return `Model.create_from(value, region="eu")`, and each run of the task makes
a new version. `Model.query(...)` names "the latest version matching these
partitions"; it can be a launch plan's default input, and `OnArtifact` makes
a launch plan run when a new version appears.

Locally, versions are kept under `$PLAIT_HOME/artifacts/`: `index.json` lists
them and `values/<version>.pkl` holds each value. The backend keeps the same
records in its database; the specs here are what it receives.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import enum
import json
import os
import pickle
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, UserError
from ..model import home as layout

MAX_PARTITION_KEYS = 10
_TIME = "time_partition"
_STORE_LOCK = threading.Lock()  # threads of this process; `flock` guards other processes


class ArtifactNotFoundError(UserError, LookupError):
    """No stored artifact version matches a query."""


class Granularity(enum.Enum):
    """How finely a time partition tells versions apart."""

    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"

    def truncate(self, when: _dt.datetime | _dt.date) -> _dt.datetime:
        """`when` cut down to this granularity, in UTC when it carries a zone."""
        if not isinstance(when, _dt.datetime):
            when = _dt.datetime(when.year, when.month, when.day)
        if when.tzinfo is not None:
            when = when.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        when = when.replace(second=0, microsecond=0)
        if self is Granularity.MINUTE:
            return when
        when = when.replace(minute=0)
        if self is Granularity.HOUR:
            return when
        when = when.replace(hour=0)
        return when if self is Granularity.DAY else when.replace(day=1)


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
        if self.key != _TIME or not isinstance(delta, _dt.timedelta):
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


class _PartitionRefs:
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


def _binding_spec(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (InputRef, PartitionRef)):
        return value.to_spec()
    if isinstance(value, (_dt.datetime, _dt.date)):
        return {"value": value.isoformat()}
    return {"value": value}


# ------------------------------------------------------------------ artifacts


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
            if not isinstance(k, str) or not k.isidentifier() or k == _TIME:
                raise InputError(
                    f"{owner}: partition key {k!r} must be a Python identifier other than "
                    f"`{_TIME}` (set time_partitioned=True for a time partition)"
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
        time_value = kwargs.pop(_TIME, None)
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
        return PartitionRef(self.name, _TIME)

    @property
    def partitions(self) -> _PartitionRefs:
        """In an `OnArtifact` trigger: `Model.partitions.region` of the version that fired it."""
        return _PartitionRefs(self)

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
            values[key] = _partition_text(owner, key, v)
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
        **kwargs: Any,
    ) -> ArtifactQuery:
        """The latest version whose partitions match; values may be literals or `Inputs.x`."""
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
                _partition_text(owner, k, v)
        return ArtifactQuery(
            self,
            wanted,
            time_partition,
            project or self.project,
            domain or self.domain,
            self.version,
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
                "partitions": {k: _binding_spec(v) for k, v in self._bound.items()},
                _TIME: _binding_spec(self._bound_time),
            },
        }

    def __repr__(self) -> str:
        extra = f", partition_keys={list(self.partition_keys)}" if self.partition_keys else ""
        if self.time_partitioned:
            extra += f", time_partitioned=True, granularity={self.time_partition_granularity.name}"  # type: ignore[union-attr]
        return f"Artifact(name={self.name!r}{extra})"


def _partition_text(owner: str, key: str, value: Any) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, (str, int, float, bool, _dt.date)) and not isinstance(value, _dt.datetime):
        return value.isoformat() if isinstance(value, _dt.date) else str(value)
    raise InputError(f"{owner}: partition `{key}` expects a string, got {type(value).__name__} {value!r}")


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
            k: _partition_text(owner, k, self._value_of(k, v, inputs, trigger))
            for k, v in self.partitions.items()
        }
        when = None
        if self.time_partition is not None:
            when = self._value_of(_TIME, self.time_partition, inputs, trigger)
            if not isinstance(when, (_dt.datetime, _dt.date)):
                raise InputError(f"{owner}: time_partition must be a datetime, got {when!r}")
        best: ArtifactRecord | None = None
        for record in _store().records(self.artifact.name):
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
            parts[_TIME] = self.time_partition
        return f"partitions {parts}" if parts else "the query (no version stored yet)"

    def to_spec(self) -> dict[str, Any]:
        return {
            "artifact": self.artifact.name,
            "project": self.project,
            "domain": self.domain,
            "version": self.version,
            "partitions": {k: _binding_spec(v) for k, v in self.partitions.items()},
            _TIME: _binding_spec(self.time_partition),
        }

    def __repr__(self) -> str:
        return f"{self.artifact.name}.query({self._describe(None)})"


# ------------------------------------------------------------------- triggers


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


# ---------------------------------------------------------------- local store


@dataclass(frozen=True)
class ArtifactRecord:
    """One stored version of an artifact."""

    name: str
    version: str
    project: str
    domain: str
    seq: int
    created_at: str
    partitions: dict[str, str] = field(default_factory=dict)
    time_partition: str | None = None
    granularity: str | None = None
    execution: str = ""
    task: str = ""
    output: str = ""
    type: dict[str, Any] = field(default_factory=dict)
    cards: list[dict[str, Any]] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return f"plait://{self.project}/{self.domain}/{self.name}@{self.version}"

    def partition(self, key: str, offset: _dt.timedelta = _dt.timedelta(0)) -> Any:
        if key == _TIME:
            if self.time_partition is None:
                raise InputError(f"artifact `{self.name}` version {self.version} has no time partition")
            return _dt.datetime.fromisoformat(self.time_partition) + offset
        if key not in self.partitions:
            raise InputError(
                f"artifact `{self.name}` version {self.version} has no partition `{key}`; "
                f"it has {sorted(self.partitions)}"
            )
        return self.partitions[key]

    def value(self) -> Any:
        return _store().load(self)

    def to_spec(self) -> dict[str, Any]:
        return {**self.__dict__, "uri": self.uri}


class ArtifactStore:
    """Versions under `root` (default `$PLAIT_HOME/artifacts`): a JSON index and pickles."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or layout.plait_home() / layout.ARTIFACTS

    @property
    def _index(self) -> Path:
        return self.root / "index.json"

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with _STORE_LOCK, open(self.root / "index.lock", "a") as fh:
            try:
                import fcntl

                fcntl.flock(fh, fcntl.LOCK_EX)
            except ImportError:  # pragma: no cover - not on POSIX
                pass
            yield

    def _read(self) -> list[dict[str, Any]]:
        try:
            with open(self._index) as fh:
                return list(json.load(fh)["artifacts"])
        except FileNotFoundError:
            return []

    def records(self, name: str | None = None) -> list[ArtifactRecord]:
        """Stored versions, oldest first (of one artifact when `name` is given)."""
        return [ArtifactRecord(**r) for r in self._read() if name is None or r["name"] == name]

    def add(self, value: Any, **fields: Any) -> ArtifactRecord:
        data = _dumps(fields["name"], value)
        version = uuid.uuid4().hex[:16]
        values = self.root / "values"
        values.mkdir(parents=True, exist_ok=True)
        _atomic_write(values / f"{version}.pkl", data)
        with self._exclusive():
            rows = self._read()
            record = ArtifactRecord(
                version=version,
                seq=1 + max((r["seq"] for r in rows), default=0),
                created_at=_dt.datetime.now(_dt.timezone.utc).isoformat(),
                **fields,
            )
            rows.append(dict(record.__dict__))
            _atomic_write(self._index, json.dumps({"artifacts": rows}, indent=1).encode())
        return record

    def load(self, record: ArtifactRecord) -> Any:
        path = self.root / "values" / f"{record.version}.pkl"
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except FileNotFoundError:
            raise ArtifactNotFoundError(
                f"artifact `{record.name}` version {record.version} is listed but its value "
                f"({path}) is missing"
            ) from None


def _dumps(name: str, value: Any) -> bytes:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - lambdas and local classes: try cloudpickle
        try:
            import cloudpickle

            return bytes(cloudpickle.dumps(value))
        except Exception as exc:  # noqa: BLE001
            raise UserError(
                f"artifact `{name}`: the value ({type(value).__name__}) cannot be stored: {exc}"
            ) from exc


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _store() -> ArtifactStore:
    return ArtifactStore()  # PLAIT_HOME is read on each use, so tests and users can move it


def list_artifacts(name: str | None = None) -> list[ArtifactRecord]:
    """Versions stored locally, oldest first."""
    return _store().records(name)


# ------------------------------------------------------------ engine hook


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
    """Store a new version for each artifact output of a finished task attempt.

    `emitted` maps output names to what the task returned for them before the
    engine unwrapped `create_from` values; without it, outputs are scanned
    for artifact annotations.
    """
    from ..typesys import strip_annotated, type_spec

    made = []
    store = _store()
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
            k: _partition_text(owner, k, _input_value(owner, task, inputs, k, v))
            for k, v in artifact.partition_values.items()
        }
        when = artifact._bound_time
        if isinstance(when, InputRef):
            when = _input_value(owner, task, inputs, _TIME, when)
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
        made.append(
            store.add(
                outputs[name],
                name=artifact.name,
                project=artifact.project or getattr(execution_id, "project", "local"),
                domain=artifact.domain or getattr(execution_id, "domain", "development"),
                partitions=partitions,
                time_partition=granularity.truncate(when).isoformat() if granularity and when else None,
                granularity=granularity.value if granularity else None,
                execution=str(getattr(execution_id, "name", execution_id)),
                task=task.name,
                output=name,
                type=_safe_type_spec(type_spec, strip_annotated(tp)[0]),
                cards=[c.to_spec() for c in wrapper.cards] if wrapper is not None else [],
            )
        )
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
