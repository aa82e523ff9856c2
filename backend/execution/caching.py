"""A run's use of the task output cache: keys, hits, one computation at a time, stores.

A task with a `cache` setting answers from the cache when an earlier run
stored outputs under the same key (its cache version, signature and input
hashes, computed as the local engine computes them). With `serialize`, runs
that need the same key take turns: one holds a reservation (extended by the
executor's heartbeat while it runs) and the others wait, then find its answer.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from plait.model.keys import cache_key, signature_from_spec

from ..store import queries as q
from . import values

if TYPE_CHECKING:
    from plait.model.specs import TaskSpec
    from sqlalchemy.orm import Session

    from .ports import RunHost

RETRY_WAIT_S = 0.2  # how soon a node waiting for another run's reservation looks again


class TaskCache:
    """The cache as one run uses it; reservations are held in the name of the run's node."""

    def __init__(self, host: RunHost, project: str, domain: str, execution_id: str,
                 overwrite: bool) -> None:
        self.host = host
        self.project, self.domain, self.execution_id = project, domain, execution_id
        self.overwrite = overwrite  # store over what is there, and never answer from the cache
        self.key_of: dict[str, str] = {}  # node path -> the key its outputs are stored under
        self.reservations: dict[str, str] = {}  # node path -> key this run holds (serialize=True)
        self.waiting: dict[str, tuple[str, float]] = {}  # node path -> (key, when to look again)

    @staticmethod
    def key(spec: TaskSpec, inputs: dict[str, Any], cache: dict[str, Any]) -> str:
        """The cache key of a task's attempt with these inputs."""
        ignored = cache.get("ignored_inputs") or []
        types = {i.name: i.type for i in spec.interface.inputs}
        hashes = {}
        for n, ref in inputs.items():
            if n in ignored:
                continue
            if "literal" in ref and "path" not in ref:
                ref = values.literal_ref(ref["literal"], types.get(n))
            hashes[n] = values.ref_hash(ref)
        version = cache.get("resolved_version") or cache.get("version") or ""
        return cache_key(version, signature_from_spec(spec.name, spec.interface.to_dict()), hashes, ignored)

    def _owner(self, path: str) -> str:
        return f"{self.host.owner}/{self.execution_id}/{path}"

    def lookup(self, key: str) -> Any:
        """The stored entry for `key` (its `outputs`), or None."""
        with self.host.db.session() as s:
            return q.cache_get(s, self.project, self.domain, key)

    def reserve(self, path: str, key: str) -> bool:
        """Take the reservation of `key` for the node at `path`; if another run holds it, the
        node waits (`waiting`) and False is returned."""
        with self.host.db.session() as s:
            held = q.cache_reserve(s, self.project, self.domain, key, self._owner(path),
                                   self.host.reservation_ttl)
        if not held:
            self.waiting[path] = (key, time.monotonic() + RETRY_WAIT_S)
            return False
        self.reservations[path] = key
        return True

    def due(self) -> list[str]:
        """The waiting nodes whose time to look again has come; they wait no more."""
        now = time.monotonic()
        paths = [path for path, (_key, at) in self.waiting.items() if at <= now]
        for path in paths:
            del self.waiting[path]
        return paths

    def extend(self) -> None:
        """Heartbeat: keep the reservations of running serialized nodes alive."""
        project, domain, ttl = self.project, self.domain, self.host.reservation_ttl
        for path, key in list(self.reservations.items()):
            owner = self._owner(path)
            self.host.write(lambda s, key=key, owner=owner: q.cache_extend(s, project, domain, key, owner, ttl))

    def store(self, path: str, outputs: dict[str, Any], *, serialize: bool) -> None:
        """Store a node's outputs under its key (and give its reservation back)."""
        key = self.key_of[path]
        project, domain, eid, owner = self.project, self.domain, self.execution_id, self._owner(path)
        overwrite = self.overwrite

        def write(s: Session) -> None:
            q.cache_put(s, project, domain, key, outputs, execution_id=eid, node_path=path, overwrite=overwrite)
            if serialize:
                q.cache_release(s, project, domain, key, owner)

        self.reservations.pop(path, None)
        self.host.write(write)

    def release(self, path: str) -> None:
        """Give a failed node's reservation back, so that another run may compute the key."""
        key = self.key_of[path]
        project, domain, owner = self.project, self.domain, self._owner(path)
        self.reservations.pop(path, None)
        self.host.write(lambda s: q.cache_release(s, project, domain, key, owner))
