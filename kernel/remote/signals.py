"""`plait.Remote`'s gate signals: what an execution's `wait_for_input` and `approve` nodes wait
for, and giving them their values (`set_signal`, with flytekit's argument names)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .discovery import API
from .views import items_of

if TYPE_CHECKING:
    from .views import RemoteExecution


def _id(execution: Any) -> str:
    return str(getattr(execution, "id", execution))


class SignalMethods:
    """The signal calls of `plait.Remote` (a mixin: it uses the client's `_json`)."""

    if TYPE_CHECKING:
        def _json(self, method: str, path: str, **kwargs: Any) -> Any: ...

    def list_signals(self, execution_name: str | RemoteExecution) -> list[dict[str, Any]]:
        """The signals the execution's gates opened: `name`, `type_name`, `is_set`, `value`,
        `timeout_at`, `node_path`, `gate` (signal or approve)."""
        data = self._json("GET", f"{API}/executions/{quote(_id(execution_name), safe='')}/signals")
        return [dict(item) for item in items_of(data, "signals")]

    def set_signal(self, signal_id: str, execution_name: str | RemoteExecution, value: Any,
                   python_type: Any = None) -> dict[str, Any]:
        """Give gate signal `signal_id` of the execution its value (True or False for an
        approval); the backend checks it against the signal's type. Once per signal."""
        from ..typesys import to_literal

        tp = python_type if python_type is not None else type(value)
        try:
            literal = to_literal(tp, value)
        except Exception:  # noqa: BLE001 - plain JSON goes as it is; the backend checks the type
            literal = value
        path = f"{API}/executions/{quote(_id(execution_name), safe='')}/signals/{quote(signal_id, safe='')}"
        return dict(self._json("POST", path, json_body={"value": literal}))

    def approve(self, signal_id: str, execution_name: str | RemoteExecution) -> dict[str, Any]:
        """Approve an `approve` gate (set its signal to True)."""
        return self.set_signal(signal_id, execution_name, True)

    def reject(self, signal_id: str, execution_name: str | RemoteExecution) -> dict[str, Any]:
        """Reject an `approve` gate: the node fails and the nodes after it do not run."""
        return self.set_signal(signal_id, execution_name, False)
