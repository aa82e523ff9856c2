"""Gate nodes: a workflow that pauses for time, for a value, or for an approval.

    @plait.workflow
    def publish(data: str) -> str:
        report = build(data=data)
        title = plait.wait_for_input("title", timeout=timedelta(hours=1), expected_type=str)
        plait.sleep(timedelta(seconds=30))
        checked = plait.approve(report, "review", timeout=timedelta(days=1))
        return send(report=checked, title=title)

- `sleep(duration)` waits, then lets the nodes after it run;
- `wait_for_input(name, timeout, expected_type)` waits for a value of that type,
  given by name (a *signal*), and outputs it;
- `approve(upstream, name, timeout)` waits for a yes or no; yes passes the
  upstream value on, no fails the node.

Locally, the values come from the run call (`execute(wf, inputs,
signals={"title": "Q3"})`), else from a prompt (the notebook's input box, or
the terminal), else the run fails saying which signal to pass. On the backend
the node waits in the WAITING phase until a value is set through the API,
`plait.Remote().set_signal`, `plait signal` or the lab's execution view; a
timeout fails the node with a message that names the gate. Gates are nodes
of their workflow's spec (kind `gate`), not entities of their own.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from ..errors import CompileError, InputError
from .compiler import current_builder
from .entity import Entity
from .interface import Interface, Param

GATE_KINDS = ("sleep", "signal", "approve")


def _seconds(owner: str, what: str, value: Any) -> float:
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise InputError(f"{owner}: {what} expects a datetime.timedelta, got {value!r}")
    if seconds < 0:
        raise InputError(f"{owner}: {what} must not be negative, got {value!r}")
    return seconds


def _text(seconds: float) -> str:
    from ..model.times import duration_text

    return duration_text(seconds)


class GateEntity(Entity):
    """The node a gate call adds to the workflow being built (run by `plait.run.nodes.run_gate`
    locally and by the backend's executor)."""

    kind = "gate"

    def __init__(self, gate: str, signal: str, interface: Interface, *, seconds: float,
                 value_type: Any = None) -> None:
        self.gate = gate
        self.signal = signal
        self.seconds = seconds  # sleep: its duration; signal and approve: the timeout
        self.value_type = value_type
        self.interface = interface
        self.name = f"sleep {_text(seconds)}" if gate == "sleep" else f"{gate} `{signal}`"

    def node_spec(self) -> dict[str, Any]:
        from ..typesys import type_spec

        spec: dict[str, Any] = {"kind": self.gate, "name": self.signal}
        if self.gate == "sleep":
            spec["duration_s"] = self.seconds
        else:
            spec["timeout_s"] = self.seconds
            spec["type"] = type_spec(bool if self.gate == "approve" else self.value_type)
        return {"gate": spec}

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "gate", "name": self.name, "interface": self.interface.to_spec(), **self.node_spec()}

    def local_call(self, *args: Any, **kwargs: Any) -> Any:
        raise InputError(f"{self.name} is a gate; it runs as a node of a workflow")


def _add(entity: GateEntity, where: str, **kwargs: Any) -> Any:
    builder = current_builder()
    if builder is None:
        raise CompileError(
            f"plait.{where} is a gate node: call it in a workflow body (for a pause inside a task, "
            "use time.sleep)"
        )
    return builder.add(entity, (), kwargs)


def sleep(duration: _dt.timedelta) -> Any:
    """Pause the workflow for `duration`; nodes chained after it (`>>`) run when it is over."""
    seconds = _seconds("plait.sleep", "duration", duration)
    return _add(GateEntity("sleep", "", Interface({}, {}), seconds=seconds), "sleep")


def wait_for_input(name: str, timeout: _dt.timedelta, expected_type: Any) -> Any:
    """Wait for a value of `expected_type` given as signal `name`; it is the node's output."""
    owner = "plait.wait_for_input"
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(f"{owner}: name must be an identifier (letters, digits, _), got {name!r}")
    seconds = _seconds(owner, "timeout", timeout)
    from ..typesys import type_spec

    try:
        type_spec(expected_type)
    except TypeError as exc:
        raise InputError(f"{owner}(`{name}`): expected_type {expected_type!r} cannot travel as a value: {exc}") from None
    gate = GateEntity("signal", name, Interface({}, {"o0": expected_type}), seconds=seconds,
                      value_type=expected_type)
    return _add(gate, "wait_for_input")


def approve(upstream: Any, name: str, timeout: _dt.timedelta) -> Any:
    """Wait for signal `name` (a yes or no) about `upstream`; yes passes its value on, no fails."""
    owner = "plait.approve"
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(f"{owner}: name must be an identifier (letters, digits, _), got {name!r}")
    seconds = _seconds(owner, "timeout", timeout)
    tp = getattr(upstream, "type", None)
    if tp is None:
        raise CompileError(
            f"{owner}(`{name}`): approve a node's output (the promise a task call returned), got {upstream!r}"
        )
    gate = GateEntity("approve", name, Interface({"upstream": Param("upstream", tp)}, {"o0": tp}), seconds=seconds,
                      value_type=bool)
    return _add(gate, "approve", upstream=upstream)
