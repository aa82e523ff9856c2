"""A run's gate nodes (`plait.sleep`, `wait_for_input`, `approve`): WAITING until they may go.

A gate needs no worker. When it starts, the node is recorded WAITING (with its
start time); a signal or approval gate also opens its signal row (value null,
with the time it times out). The executor's loop calls `poll` every
POLL_EVERY_S for runs with waiting gates: a sleep whose time is up succeeds; a
signal that was set succeeds with the value as its output (an approval passes
its upstream value on, or fails when rejected); a gate past its timeout fails
with a message that names it. After a restart a gate starts again from its
recorded start, so a sleep does not begin anew and a signal set meanwhile is
found.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plait.model.times import duration_text

from ..store.models import utcnow
from ..store.queries import signals as sq
from . import values

if TYPE_CHECKING:
    from plait.model.specs import NodeSpec

    from .run import ExecutionRun
    from .scope import Scope

POLL_EVERY_S = 0.25


@dataclass
class Waiting:
    path: str
    kind: str  # sleep | signal | approve
    name: str
    due: dt.datetime | None  # sleep: when it is over; others: when they time out
    inputs: dict[str, Any]
    seconds: float = 0.0  # its duration (sleep) or timeout


class GateNodes:
    """The waiting gates of one run."""

    def __init__(self, run: ExecutionRun) -> None:
        self.run = run
        self.waiting: dict[str, Waiting] = {}
        self.polled_at = 0.0

    def start(self, scope: Scope, path: str, node: NodeSpec, inputs: dict[str, Any]) -> None:
        gate = dict(node.extra.get("gate") or {})
        kind = str(gate.get("kind") or "")
        run = self.run
        known = run.known.get(path)
        started = (known.started_at if known is not None and known.started_at else None) or utcnow()
        if kind == "sleep":
            due = started + dt.timedelta(seconds=float(gate.get("duration_s") or 0))
        elif kind in ("signal", "approve"):
            timeout = gate.get("timeout_s")
            due = started + dt.timedelta(seconds=float(timeout)) if timeout else None
            eid, name = run.id, str(gate.get("name"))
            type_spec = dict(gate.get("type") or {"kind": "boolean"})
            run.host.write(lambda s: sq.open_signal(s, eid, name, node_path=path, gate=kind, type=type_spec,
                                                    timeout_at=due))
        else:
            run.node_failed(path, {"kind": "USER", "type": "UserError",
                                   "message": f"gate node `{node.entity}` has an unknown kind {kind!r}"})
            return
        run.record_node(path, "WAITING")
        seconds = float(gate.get("duration_s") or gate.get("timeout_s") or 0)
        self.waiting[path] = Waiting(path, kind, str(gate.get("name") or ""), due, inputs, seconds)
        self.polled_at = 0.0  # look at once: a signal may have been set before a restart

    def due(self) -> bool:
        return bool(self.waiting) and time.monotonic() - self.polled_at >= POLL_EVERY_S

    def poll(self, now: dt.datetime | None = None) -> None:
        """Let go the gates whose time came or whose signal was set; fail those past their timeout."""
        self.polled_at = time.monotonic()
        now = now or utcnow()
        run = self.run
        signals: dict[str, sq.SignalRecord] = {}
        if any(w.kind != "sleep" for w in self.waiting.values()):
            with run.host.db.session(readonly=True) as s:
                signals = {r.name: r for r in sq.list_signals(s, run.id)}
        for path, w in list(self.waiting.items()):
            if run.done:
                return
            if w.kind == "sleep":
                if w.due is not None and now >= w.due:
                    del self.waiting[path]
                    run.node_succeeded(path, {})
                continue
            found = signals.get(w.name)
            if found is not None and found.value is not None:
                del self.waiting[path]
                value = found.value.get("literal")
                if w.kind == "approve":
                    if value is True:
                        run.node_succeeded(path, {"o0": w.inputs["upstream"]})
                    else:
                        run.node_failed(path, {"kind": "USER", "type": "Rejected",
                                               "message": f"approval `{w.name}` was rejected; the nodes after "
                                                          "it do not run"})
                    continue
                run.node_succeeded(path, {"o0": values.literal_ref(value, found.type)})
                continue
            if w.due is not None and now >= w.due:
                del self.waiting[path]
                waited = duration_text(w.seconds)
                what = "approval" if w.kind == "approve" else "signal"
                run.node_failed(path, {
                    "kind": "USER", "type": "GateTimeout", "phase": "TIMED_OUT",
                    "message": f"{what} `{w.name}` timed out after {waited}: no value was set (set it with "
                               f"`plait signal {run.id} {w.name} VALUE` or Remote.set_signal before it times out)",
                })
