"""Gate signals over HTTP: what an execution's gates wait for, and giving them their values.

`wait_for_input` and `approve` nodes open a signal when they start waiting; a
client lists them (`GET /executions/{id}/signals`) and sets one
(`POST /executions/{id}/signals/{name}`, the value checked against the
signal's type), once. The executor lets the node go on its next poll.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from plait.model.literals import describe_type, literal_type_name, validate_literal

from ..execution.values import normalize
from ..store import queries
from ..store.queries import signals as sq
from . import schemas as S
from .deps import Svc
from .errors import InvalidField

router = APIRouter(prefix="/api/v1", tags=["executions"], responses={401: S.ERROR_RESPONSES[401]})

ExecutionId = Annotated[str, Path(min_length=1, max_length=64)]
SignalName = Annotated[str, Path(min_length=1, max_length=255, description="The gate's signal name.")]
_ERRORS: dict[int | str, dict[str, Any]] = {404: S.ERROR_RESPONSES[404], 409: S.ERROR_RESPONSES[409],
                                            422: S.ERROR_RESPONSES[422]}


def signal_view(r: sq.SignalRecord) -> S.Signal:
    try:
        type_name = describe_type(r.type)
    except Exception:  # noqa: BLE001 - a type spec from a newer SDK still shows its kind
        type_name = str(r.type.get("kind", "?"))
    return S.Signal(name=r.name, node_path=r.node_path, gate=r.gate,  # type: ignore[arg-type]
                    type=r.type, type_name=type_name, value=None if r.value is None else r.value.get("literal"),
                    is_set=r.value is not None, created_at=r.created_at, timeout_at=r.timeout_at, set_at=r.set_at)


@router.get("/executions/{id}/signals", name="list_signals", responses=_ERRORS)
def list_signals(id: ExecutionId, svc: Svc) -> S.SignalList:
    """The signals an execution's gates opened: waiting (`is_set` false) or given."""
    with svc.db.session(readonly=True) as s:
        queries.get_execution(s, id)
        return S.SignalList(items=[signal_view(r) for r in sq.list_signals(s, id)])


@router.post("/executions/{id}/signals/{name}", name="set_signal", responses=_ERRORS)
def set_signal(id: ExecutionId, name: SignalName, svc: Svc,
               body: Annotated[S.SignalSet, Body()]) -> S.Signal:
    """Give a waiting gate its value (an approval's is true or false); once."""
    with svc.db.session() as s:
        execution = queries.get_execution(s, id)
        found = sq.get_signal(s, id, name)
        if found is not None:
            problem = validate_literal(found.type, body.value)
            if problem is not None:
                raise InvalidField(
                    f"signal `{name}` of execution `{id}` expects {describe_type(found.type)}, got "
                    f"{literal_type_name(body.value)} {body.value!r:.80}: {problem}", field="value")
        if execution.phase in ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT") and (found is None or found.value is None):
            raise InvalidField(f"execution `{id}` has ended ({execution.phase}); its gates wait no more",
                               field="name")
        value = normalize(found.type, body.value) if found is not None else body.value
        return signal_view(sq.set_signal(s, id, name, value))
