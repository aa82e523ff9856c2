"""The local artifact store: stored versions (`ArtifactRecord`) and where they live.

Versions live under `$PLAIT_HOME/artifacts/`: `index.json` lists them and
`values/<version>.pkl` holds each value. The backend keeps the same records
in its database; `plait.Remote` answers them as `ArtifactRecord`s too, so a
notebook reads a local version and a backend version alike.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import pickle
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, Protocol

from ..errors import InputError, UserError
from ..model import home as layout
from ..model.literals import describe_type

TIME_PARTITION = "time_partition"
"""The key of an artifact's time partition, beside its named partition keys."""
_STORE_LOCK = threading.Lock()  # threads of this process; `flock` guards other processes


class ArtifactNotFoundError(UserError, LookupError):
    """No stored artifact version matches a query."""


class ValueSource(Protocol):
    """Where a record's value is read from: the local store, or the backend through a client."""

    def load(self, record: ArtifactRecord) -> Any: ...


@dataclass(frozen=True)
class ArtifactRecord:
    """One stored version of an artifact, from the local store or the backend's catalog.

    `seq` orders the versions of a store (newer is larger; on the backend it is
    the catalog's `id`). The producer is `execution`, `task` and `output`, with
    `node_path` and `task_version` on the backend. `value_ref` is the backend's
    ref of the value (a literal, or a `uri` in its object store); `value()`
    reads the value from where the record came from.
    """

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
    id: int | None = None
    value_ref: dict[str, Any] | None = None
    node_path: str = ""
    task_version: str = ""
    preview: str = ""
    type_name: str = ""
    _source: ValueSource | None = field(default=None, repr=False, compare=False)

    @property
    def uri(self) -> str:
        return f"plait://{self.project}/{self.domain}/{self.name}@{self.version}"

    def partition(self, key: str, offset: _dt.timedelta = _dt.timedelta(0)) -> Any:
        if key == TIME_PARTITION:
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
        """The version's value, read from the store (or backend) this record came from."""
        return (self._source or local_store()).load(self)

    def to_spec(self) -> dict[str, Any]:
        return {**self._row(), "uri": self.uri}

    def _row(self) -> dict[str, Any]:
        """The record's fields as the index stores them (not where it came from)."""
        return {k: v for k, v in self.__dict__.items() if k != "_source"}


_ROW_FIELDS = frozenset(f.name for f in dataclass_fields(ArtifactRecord)) - {"_source"}


def type_text(spec: dict[str, Any]) -> str:
    """A version's type as it reads (`list[int]`), from its spec; empty without one."""
    return describe_type(spec) if spec else ""


def preview_text(value: Any, limit: int = 200) -> str:
    """A short text of a value for listings: its repr, cut (containers after 20 items, so a
    long list is not written out whole first); empty when repr fails."""
    import reprlib

    shorten = reprlib.Repr()
    shorten.maxlist = shorten.maxtuple = shorten.maxset = shorten.maxdict = 20
    shorten.maxstring = shorten.maxother = limit
    try:
        text = shorten.repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not stop the store
        return ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ArtifactStore:
    """Versions under `root` (default `$PLAIT_HOME/artifacts`): a JSON index and pickles."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or layout.plait_home() / layout.ARTIFACTS

    @property
    def _index(self) -> Path:
        return self.root / "index.json"

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        layout.ensure_private(self.root)
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
        return [self._record(r) for r in self._read() if name is None or r["name"] == name]

    def _record(self, row: dict[str, Any]) -> ArtifactRecord:
        known = {k: v for k, v in row.items() if k in _ROW_FIELDS}  # fields of a newer plait are left out
        known.setdefault("type_name", type_text(known.get("type") or {}))
        return ArtifactRecord(**known, _source=self)

    def add(self, value: Any, **fields: Any) -> ArtifactRecord:
        data = _dumps(fields["name"], value)
        version = uuid.uuid4().hex[:16]
        values = layout.ensure_private(self.root / "values")
        _atomic_write(values / f"{version}.pkl", data)
        with self._exclusive():
            rows = self._read()
            record = ArtifactRecord(
                version=version,
                seq=1 + max((r["seq"] for r in rows), default=0),
                created_at=_dt.datetime.now(_dt.timezone.utc).isoformat(),
                **{"preview": preview_text(value), "type_name": type_text(fields.get("type") or {}), **fields},
                _source=self,
            )
            rows.append(record._row())
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


def local_store() -> ArtifactStore:
    return ArtifactStore()  # PLAIT_HOME is read on each use, so tests and users can move it


def list_artifacts(name: str | None = None) -> list[ArtifactRecord]:
    """Versions stored locally, oldest first."""
    return local_store().records(name)
