"""Pinned references: a node that runs an entity registered elsewhere, at one exact version.

`reference_task(project, domain, name, version)` and `reference_launch_plan(...)`
write their identity on the node that calls them (`"reference": {"project",
"domain", "name", "version"}` beside `entity`). Such a node runs that entity
at that version in that project and domain, never another version: when it is
not registered, the launch is refused (launching.py) and a run that meets it
anyway fails the node, either way naming the full id. Nodes without a
reference find their entity as before (the run's version, else the newest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from plait.model.specs import NodeSpec, Spec, TaskSpec, parse_spec
from plait.model.vocab import stored_kind

from ..store import queries as q
from ..store.errors import NotFound

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .ports import RunHost


@dataclass(frozen=True)
class Pin:
    """The exact identity a reference node runs."""

    kind: str  # as stored: task, workflow or launch_plan
    project: str
    domain: str
    name: str
    version: str

    def describe(self) -> str:
        label = self.kind.replace("_", " ")
        return f"{label} {self.project}/{self.domain}/{self.name} version {self.version}"

    def missing(self) -> str:
        """Why a run of this reference cannot start, and what to do."""
        return (
            f"the reference to {self.describe()} cannot be resolved: {self.project}/{self.domain} has "
            f"no {self.kind.replace('_', ' ')} `{self.name}` at version `{self.version}`; register that "
            "version, or point the reference at a registered one"
        )


def pin_of(node: NodeSpec) -> Pin | None:
    """The node's pinned reference, or None for a node that runs an entity by name."""
    ref = node.extra.get("reference")
    if not isinstance(ref, Mapping):
        return None
    try:
        kind = node.map.target_kind if node.map is not None else node.kind
        return Pin(stored_kind(kind), str(ref["project"]), str(ref["domain"]), str(ref["name"]),
                   str(ref["version"]))
    except KeyError:
        return None


def fetch_pinned(s: Session, pin: Pin) -> tuple[Spec, str | None]:
    """(the pinned entity's spec, its registration's bundle digest); NotFound naming the full id."""
    try:
        record = q.get_entity(s, pin.kind, pin.project, pin.domain, pin.name, pin.version)
    except NotFound:
        raise NotFound(pin.missing(), kind=pin.kind, name=pin.name) from None
    return parse_spec(record.spec), record.bundle_digest


def pinned_spec(host: RunHost, pin: Pin) -> Spec:
    """The pinned entity's spec through the executor's spec cache (versions never change)."""
    key = (pin.project, pin.domain, f"{pin.kind}:{pin.name}", pin.version)
    cached = host.spec_cache.get(key)
    if cached is not None:
        return cached
    with host.db.session(readonly=True) as s:
        spec, bundle = fetch_pinned(s, pin)
    if isinstance(spec, TaskSpec) and bundle and "bundle" not in spec.code and "pickle" not in spec.code:
        spec = replace(spec, code={**spec.code, "bundle": bundle})
    host.spec_cache[key] = spec
    return spec
