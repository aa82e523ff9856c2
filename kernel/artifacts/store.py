"""The local artifact store: stored versions (`ArtifactRecord`) and where they live.

Versions live under `$PLAIT_HOME/artifacts/`: `index.json` lists them and
`values/<version>.pkl` holds each value. The backend keeps the same records
in its database.
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
from pathlib import Path
from typing import Any

from ..errors import InputError, UserError
from ..model import home as layout

TIME_PARTITION = "time_partition"
"""The key of an artifact's time partition, beside its named partition keys."""
_STORE_LOCK = threading.Lock()  # threads of this process; `flock` guards other processes


class ArtifactNotFoundError(UserError, LookupError):
    """No stored artifact version matches a query."""


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
        return local_store().load(self)

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
        return [ArtifactRecord(**r) for r in self._read() if name is None or r["name"] == name]

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


def local_store() -> ArtifactStore:
    return ArtifactStore()  # PLAIT_HOME is read on each use, so tests and users can move it


def list_artifacts(name: str | None = None) -> list[ArtifactRecord]:
    """Versions stored locally, oldest first."""
    return local_store().records(name)
