"""Notifications: what an execution's end (or a scheduled run not launched) sent, and how.

Each row is one notification to one channel's recipients, with the sink that
carried it, its status, the attempts made and the last error
(plait.backend.notify sends them; docs/notifications.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from ..config import NotifySettings
from ..notify.messages import render
from ..store import queries
from ..store.queries import notifications as nq
from . import schemas as S
from .deps import Svc

router = APIRouter(prefix="/api/v1", tags=["executions"], responses={401: S.ERROR_RESPONSES[401]})

_ERRORS: dict[int | str, dict[str, Any]] = {404: S.ERROR_RESPONSES[404], 422: S.ERROR_RESPONSES[422]}
_PLAIN = NotifySettings()


def delivery_view(record: nq.DeliveryRecord) -> S.NotificationDelivery:
    return S.NotificationDelivery(
        id=record.id, execution_id=record.execution_id, launch_plan=record.launch_plan_name,
        event=record.event,  # type: ignore[arg-type]
        phase=record.phase,  # type: ignore[arg-type]
        channel=record.channel,  # type: ignore[arg-type]
        sink=record.sink, recipients=record.recipients,
        subject=render(record.event, record.message, _PLAIN, None).subject,
        status=record.status,  # type: ignore[arg-type]
        attempts=record.attempts, last_error=record.last_error, created_at=record.created_at,
        next_attempt_at=record.next_attempt_at if record.status == nq.PENDING else None,
        sent_at=record.sent_at,
    )


@router.get("/executions/{id}/notifications", name="list_execution_notifications", responses=_ERRORS)
def list_execution_notifications(
    id: Annotated[str, Path(min_length=1, max_length=64, description="The execution's name.")], svc: Svc,
) -> S.NotificationDeliveryList:
    """The notifications the execution's end fired (its own, or its launch plan's), with the record
    of sending each: sink, status, attempts, last error and when it was sent."""
    with svc.db.session(readonly=True) as s:
        queries.get_execution(s, id)  # 404 for an unknown execution
        found = nq.list_deliveries(s, execution_id=id)
    return S.NotificationDeliveryList(items=[delivery_view(d) for d in found])


@router.get("/notifications", name="list_notifications", responses=_ERRORS)
def list_notifications(
    svc: Svc,
    project: Annotated[str, Query(pattern=S.PROJECT_PATTERN)] = "default",
    domain: S.Domain = "development",
    launch_plan: Annotated[str | None, Query(max_length=255, description="Only this launch plan's.")] = None,
    limit: Annotated[int, Query(ge=1, le=S.MAX_LIMIT)] = 100,
) -> S.NotificationDeliveryList:
    """Notifications of a project and domain, oldest first: those of executions and those of
    scheduled runs that were not launched."""
    with svc.db.session(readonly=True) as s:
        found = nq.list_deliveries(s, project=project, domain=domain, launch_plan_name=launch_plan, limit=limit)
    return S.NotificationDeliveryList(items=[delivery_view(d) for d in found])
