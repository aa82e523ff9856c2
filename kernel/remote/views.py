"""What the server answers, as Python objects: registered entities, executions and their nodes.

`RemoteExecution` reads its execution again on `refresh()`, follows it with
`wait()`, and turns its output refs into Python values (literals, or pickles
downloaded from the object store).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..model.times import duration_s
from ..model.vocab import ENDED, NODE_ENDED, stored_kind
from .discovery import API
from .errors import ExecutionFailed, RemoteUserError, ServerError, WaitTimeout

if TYPE_CHECKING:
    from .client import Remote


# ------------------------------------------------------------------ records


@dataclass(frozen=True)
class EntityId:
    kind: str
    project: str
    domain: str
    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.kind} {self.project}/{self.domain}/{self.name}@{self.version}"


@dataclass(frozen=True)
class RemoteEntity:
    """A registered task, workflow or launch plan, as the server describes it."""

    kind: str
    project: str
    domain: str
    name: str
    version: str
    spec: dict[str, Any]
    record: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_record(cls, kind: str, record: dict[str, Any], project: str, domain: str) -> RemoteEntity:
        found = record.get("spec")
        spec: dict[str, Any] = found if isinstance(found, dict) else record
        return cls(
            kind=stored_kind(str(record.get("kind") or spec.get("kind") or kind)),
            project=str(record.get("project") or project),
            domain=str(record.get("domain") or domain),
            name=str(record.get("name") or spec.get("name")),
            version=str(record.get("version") or spec.get("version")),
            spec=spec,
            record=record,
        )

    @property
    def interface(self) -> dict[str, Any]:
        """The interface spec: `{"inputs": {name: {"type", "required", "default"}}, "outputs": {...}}`."""
        return dict(self.spec.get("interface") or {"inputs": {}, "outputs": {}})

    @property
    def id(self) -> EntityId:
        return EntityId(self.kind, self.project, self.domain, self.name, self.version)


@dataclass(frozen=True)
class RemoteNode:
    """One node execution: its path (`n0`, `n2-n1`, `n3-7`), phase and attempts."""

    path: str
    entity: str
    kind: str
    phase: str
    attempts: tuple[dict[str, Any], ...]
    error: Any
    record: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RemoteNode:
        return cls(
            path=str(record.get("path", "")),
            entity=str(record.get("entity_name") or record.get("entity") or ""),
            kind=str(record.get("kind") or ""),
            phase=str(record.get("phase") or "QUEUED"),
            attempts=tuple(record.get("attempts") or ()),
            error=record.get("error"),
            record=record,
        )

    @property
    def duration_s(self) -> float | None:
        """Seconds from the node's start to its end (to now while it runs); None before it starts."""
        return duration_s(self.record.get("started_at"), self.record.get("ended_at"))

_sleep = time.sleep  # between polls; tests replace it here, not in the time module



def items_of(data: Any, *keys: str) -> list[dict[str, Any]]:
    """A list from a response that is a list, or an object holding one under `keys`."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in (*keys, "items", "results"):
            if isinstance(data.get(key), list):
                return list(data[key])
    return []


def error_text(error: Any) -> str:
    """One line for an execution's or node's error record."""
    if not error:
        return ""
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        message = error.get("message") or error.get("detail") or json.dumps(error, default=str)
        kind = error.get("type")
        where = error.get("node") or error.get("node_path")
        text = f"{kind}: {message}" if kind and not str(message).startswith(f"{kind}:") else str(message)
        return f"{text} (node {where})" if where else text
    return str(error)


# ------------------------------------------------------------------ executions


class RemoteExecution:
    """An execution on the server; `refresh()` re-reads it, `wait()` follows it to its end."""

    def __init__(self, remote: Remote, record: dict[str, Any], local: Any = None) -> None:
        self.remote = remote
        self.record = dict(record or {})
        self._local = local
        if "id" not in self.record:
            raise ServerError(f"the server answered without an execution id: {json.dumps(record)[:200]}")

    def __repr__(self) -> str:
        return f"RemoteExecution({self.id}, {self.phase})"

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def phase(self) -> str:
        return str(self.record.get("phase") or "QUEUED")

    @property
    def is_done(self) -> bool:
        return self.phase in ENDED

    @property
    def error(self) -> Any:
        return self.record.get("error")

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to end (to now while it runs); None before it starts.

        The server's count when it sent one, else the same count from the times it sent.
        """
        sent = self.record.get("duration_s")
        if sent is not None:
            return float(sent)
        return duration_s(self.record.get("started_at"), self.record.get("ended_at"))

    @property
    def entity(self) -> dict[str, Any]:
        """`{"kind", "name", "version"}` of the task or workflow that runs."""
        return dict(self.record.get("entity") or {})

    @property
    def entity_name(self) -> str:
        return str(self.entity.get("name") or "")

    def refresh(self) -> RemoteExecution:
        self.record = dict(self.remote._json("GET", f"{API}/executions/{quote(self.id, safe='')}"))
        return self

    def wait(self, timeout: float | None = None, poll: float = 2.0) -> RemoteExecution:
        """Poll until the execution ends (0.1 s at first, slower up to `poll` s); returns self."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.1
        while not self.refresh().is_done:
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(
                    f"execution {self.id} is still {self.phase} after {timeout:g} s; call wait() "
                    "again to keep waiting, or abort() it"
                )
            pause = delay if deadline is None else max(0.0, min(delay, deadline - time.monotonic()))
            _sleep(pause)
            delay = min(delay * 1.5, poll)
        return self

    @property
    def outputs(self) -> dict[str, Any]:
        """Output values by name, as Python values; raises unless the execution SUCCEEDED."""
        if not self.is_done:
            self.refresh()
        if self.phase != "SUCCEEDED":
            detail = error_text(self.error)
            if not self.is_done:
                raise ExecutionFailed(
                    f"execution {self.id} is {self.phase}; call .wait() before reading outputs",
                    execution_id=self.id, phase=self.phase,
                )
            raise ExecutionFailed(
                f"execution {self.id} {self.phase}" + (f": {detail}" if detail else ""),
                execution_id=self.id, phase=self.phase, error=self.error, note_traceback=True,
            )
        if "outputs" not in self.record:  # a row from a list: values come with the execution
            self.refresh()
        types = self._output_types()
        refs = self.record.get("outputs") or {}
        return {n: self._value(ref, types.get(n)) for n, ref in refs.items()}

    def _output_types(self) -> dict[str, Any]:
        local = self._local
        if local is None:
            local = self.remote._local.get((self.entity_name, str(self.entity.get("version"))))
        return dict(local.interface.outputs) if local is not None else {}

    def _value(self, ref: Any, tp: Any) -> Any:
        from typing import Any as AnyType

        from ..typesys import from_literal

        tp = AnyType if tp is None else tp
        if not isinstance(ref, dict):
            return from_literal(tp, ref)
        if "literal" in ref:
            value = from_literal(tp, ref["literal"])
        elif "uri" in ref and ref.get("structured_dataset"):  # a StructuredDataset output
            from ..types.structured import StructuredDataset

            value = StructuredDataset.__plait_from_stored_bytes__(self.remote.download(ref["uri"]),
                                                                  ref["format"], ref.get("columns"))
        elif "uri" in ref:
            import cloudpickle

            value = cloudpickle.loads(self.remote.download(ref["uri"]))
        elif "collection" in ref:
            value = [self._value(r, AnyType) for r in ref["collection"]]
        elif "mapping" in ref:
            value = {k: self._value(r, AnyType) for k, r in ref["mapping"].items()}
        else:
            return from_literal(tp, ref)
        for step in ref.get("path", ()):
            value = value[step] if isinstance(step, int) or isinstance(value, dict) else getattr(value, step)
        return value

    def nodes(self) -> list[RemoteNode]:
        data = self.remote._json("GET", f"{API}/executions/{quote(self.id, safe='')}/nodes")
        return [RemoteNode.from_record(r) for r in items_of(data, "nodes")]

    def logs(self, node: str | RemoteNode, attempt: int | None = None, follow: bool = False) -> Any:
        """The text of a node attempt's log (the latest attempt by default).

        With `follow=True`, an iterator of text pieces as they are written,
        which ends when the node has ended and its log was read to the end.
        """
        path = node.path if isinstance(node, RemoteNode) else str(node)
        if follow:
            return self._follow(path, attempt)
        parts, offset = [], 0
        while True:
            chunk = self.log_chunk(path, attempt, offset)
            parts.append(str(chunk.get("text") or ""))
            nxt = int(chunk.get("next_offset", offset))
            if nxt <= offset:
                return "".join(parts)
            offset = nxt

    def log_chunk(self, path: str, attempt: int | None, offset: int) -> dict[str, Any]:
        url = f"{API}/executions/{quote(self.id, safe='')}/nodes/{quote(path, safe='')}/logs"
        return dict(self.remote._json("GET", url, params={"attempt": attempt, "offset": offset}) or {})

    def _follow(self, path: str, attempt: int | None, poll: float = 1.0) -> Iterator[str]:
        offset, reading, delay, last_look = 0, attempt, 0.2, False
        while True:
            try:
                chunk = self.log_chunk(path, attempt, offset)
            except RemoteUserError as exc:
                if exc.status != 404 or self.refresh().is_done:
                    raise
                chunk = {"next_offset": offset}  # the node has not been created yet
            number = chunk.get("attempt")
            if attempt is None and number and reading not in (None, number):
                offset, reading = 0, number  # a retry started: read the new attempt's log
                yield f"--- attempt {number} ---\n"
                continue
            reading = number or reading
            text = str(chunk.get("text") or "")
            nxt = int(chunk.get("next_offset", offset))
            if text:
                yield text
            if nxt > offset:
                offset, delay = nxt, 0.2
                continue
            if chunk.get("complete"):
                if attempt is not None or self._node_done(path):
                    return
            elif self.refresh().is_done:
                if last_look:
                    return
                last_look = True  # read once more: the tail may have landed meanwhile
                continue
            _sleep(delay)
            delay = min(delay * 1.5, poll)

    def _node_done(self, path: str) -> bool:
        return any(n.path == path and n.phase in NODE_ENDED for n in self.nodes())

    def abort(self, reason: str | None = None) -> RemoteExecution:
        return self.remote.abort(self, reason)

    def relaunch(self) -> RemoteExecution:
        return self.remote.relaunch(self)

    def recover(self) -> RemoteExecution:
        return self.remote.recover(self)

    def rerun(self, from_nodes: list[str] | tuple[str, ...] = (), **options: Any) -> RemoteExecution:
        """Run this execution again from `from_nodes`, reusing the rest (see `Remote.rerun`)."""
        return self.remote.rerun(self, from_nodes, **options)
