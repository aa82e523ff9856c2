"""Notifications: the outbox rows an execution's end writes, and their delivery record.

`enqueue_execution_ended` runs inside the transaction that ends an execution
(`set_execution_phase`), so a committed end always has its messages and a
rolled-back one never does. The delivery thread (plait.backend.notify) takes
due rows with `claim_deliveries`, a compare-and-set on `next_attempt_at` that
two backend processes cannot both win, and records each try with
`delivery_sent` or `delivery_failed`.

Which notifications an execution has: those given at launch (the execution
settings' `notifications`, an empty list turning them off), else those of
the launch plan version it was launched from (for a child execution started
by a launch plan node, only the latter: it carries its parent's settings).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import records as r
from ..models import Entity, Execution, NotificationDelivery
from ._common import now_or, rowcount

PENDING = "PENDING"
SENT = "SENT"
FAILED = "FAILED"
DELIVERY_STATUSES = (PENDING, SENT, FAILED)

EXECUTION_ENDED = "execution_ended"
SCHEDULE_SKIPPED = "schedule_skipped"

CHANNELS = ("email", "slack", "pager_duty")


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One message to one channel's recipients, and how sending it went."""

    id: int
    execution_id: str | None
    project: str
    domain: str
    launch_plan_name: str | None
    event: str
    phase: str | None
    channel: str
    sink: str
    recipients: list[str]
    message: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime
    created_at: dt.datetime
    sent_at: dt.datetime | None


def _record(row: NotificationDelivery) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id, execution_id=row.execution_id, project=row.project, domain=row.domain,
        launch_plan_name=row.launch_plan_name, event=row.event, phase=row.phase,
        channel=row.channel, sink=row.sink, recipients=list(row.recipients or []),
        message=dict(row.message or {}), status=row.status, attempts=row.attempts,
        last_error=row.last_error, next_attempt_at=row.next_attempt_at,
        created_at=row.created_at, sent_at=row.sent_at,
    )


def execution_notifications(session: Session, row: Execution) -> list[Mapping[str, Any]]:
    """The notifications (`Notification.to_spec()` dicts) that apply to this execution."""
    settings = row.settings or {}
    # A child execution copies its parent's settings: only its own launch plan's count.
    if row.parent_execution_id is None and settings.get("notifications") is not None:
        found: Any = settings["notifications"]
    elif row.launch_plan_name and row.launch_plan_version:
        spec = session.scalar(
            select(Entity.spec).where(
                Entity.kind == "launch_plan", Entity.project == row.project,
                Entity.domain == row.domain, Entity.name == row.launch_plan_name,
                Entity.version == row.launch_plan_version,
            )
        )
        found = (spec or {}).get("notifications") if isinstance(spec, dict) else None
    else:
        found = None
    return [n for n in (found or []) if isinstance(n, Mapping)]


def _recipients(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or [] if str(v).strip()]


def enqueue_execution_ended(
    session: Session, row: Execution, *, now: dt.datetime | None = None
) -> list[int]:
    """Write one outbox row per notification of `row` that fires on its (ended) phase.

    Call it in the transaction that ends the execution. Returns the new rows' ids.
    """
    if row.phase not in r.NODE_ENDED:
        return []
    now = now_or(now)
    ended = row.ended_at or now
    started = row.started_at
    facts = {
        "execution_id": row.id, "project": row.project, "domain": row.domain,
        "entity_kind": row.entity_kind, "entity_name": row.entity_name,
        "entity_version": row.entity_version, "launch_plan_name": row.launch_plan_name,
        "launch_plan_version": row.launch_plan_version, "phase": row.phase,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "started_at": started.isoformat() if started else None,
        "ended_at": ended.isoformat(),
        "duration_s": (ended - started).total_seconds() if started else None,
        "error": row.error,
    }
    ids = []
    for spec in execution_notifications(session, row):
        phases = [str(p).upper() for p in _recipients(spec.get("phases"))]
        channel = str(spec.get("channel", ""))
        if row.phase not in phases or channel not in CHANNELS:
            continue
        ids.append(_insert(session, execution_id=row.id, project=row.project, domain=row.domain,
                           launch_plan_name=row.launch_plan_name, event=EXECUTION_ENDED,
                           phase=row.phase, channel=channel,
                           recipients=_recipients(spec.get("recipients_email")), message=facts, now=now))
    return ids


def enqueue_schedule_skipped(
    session: Session, *, project: str, domain: str, launch_plan_name: str, launch_plan_version: str,
    notifications: Iterable[Mapping[str, Any]], tick: dt.datetime, reason: str,
    active: int | None = None, now: dt.datetime | None = None,
) -> list[int]:
    """Write one outbox row per notification (of any phases) for a scheduled run not launched."""
    now = now_or(now)
    facts = {
        "project": project, "domain": domain, "launch_plan_name": launch_plan_name,
        "launch_plan_version": launch_plan_version, "tick": tick.isoformat(), "reason": reason,
        "active": active,
    }
    return [
        _insert(session, execution_id=None, project=project, domain=domain,
                launch_plan_name=launch_plan_name, event=SCHEDULE_SKIPPED, phase=None,
                channel=str(spec.get("channel")), recipients=_recipients(spec.get("recipients_email")),
                message=facts, now=now)
        for spec in notifications
        if isinstance(spec, Mapping) and spec.get("channel") in CHANNELS
    ]


def _insert(session: Session, *, execution_id: str | None, project: str, domain: str,
            launch_plan_name: str | None, event: str, phase: str | None, channel: str,
            recipients: list[str], message: dict[str, Any], now: dt.datetime) -> int:
    row = NotificationDelivery(
        execution_id=execution_id, project=project, domain=domain, launch_plan_name=launch_plan_name,
        event=event, phase=phase, channel=channel, sink=channel, recipients=recipients,
        message=message, status=PENDING, attempts=0, last_error=None, next_attempt_at=now,
        created_at=now, sent_at=None,
    )
    session.add(row)
    session.flush()
    return int(row.id)


def claim_deliveries(
    session: Session, *, claim_s: float, limit: int = 20, now: dt.datetime | None = None
) -> list[DeliveryRecord]:
    """Take PENDING rows that are due, oldest first, counting the attempt now begun.

    A claim moves `next_attempt_at` `claim_s` ahead (a compare-and-set on the
    value read), so no other process takes the row while it is being sent, and
    a process that dies mid-send leaves it to be tried again after `claim_s`.
    """
    now = now_or(now)
    due = session.execute(
        select(NotificationDelivery.id, NotificationDelivery.next_attempt_at)
        .where(NotificationDelivery.status == PENDING, NotificationDelivery.next_attempt_at <= now)
        .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id)
        .limit(limit)
    ).all()
    claimed = []
    until = now + dt.timedelta(seconds=claim_s)
    for delivery_id, seen in due:
        result = session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.id == delivery_id, NotificationDelivery.status == PENDING,
                   NotificationDelivery.next_attempt_at == seen)
            .values(next_attempt_at=until, attempts=NotificationDelivery.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 1:
            claimed.append(delivery_id)
    if not claimed:
        return []
    rows = session.scalars(
        select(NotificationDelivery).where(NotificationDelivery.id.in_(claimed))
        .order_by(NotificationDelivery.id).execution_options(populate_existing=True)
    )
    return [_record(row) for row in rows]


def delivery_sent(session: Session, delivery_id: int, sink: str, *, now: dt.datetime | None = None) -> None:
    """Record that the claimed row's message went out through `sink`."""
    session.execute(
        update(NotificationDelivery).where(NotificationDelivery.id == delivery_id)
        .values(status=SENT, sink=sink, sent_at=now_or(now))
        .execution_options(synchronize_session=False)
    )


def delivery_failed(session: Session, delivery_id: int, sink: str, error: str, *,
                    retry_at: dt.datetime | None) -> None:
    """Record a failed try: due again at `retry_at`, or FAILED for good when it is None."""
    values: dict[str, Any] = {"sink": sink, "last_error": error[:4000]}
    if retry_at is None:
        values["status"] = FAILED
    else:
        values["next_attempt_at"] = retry_at
    session.execute(
        update(NotificationDelivery).where(NotificationDelivery.id == delivery_id).values(**values)
        .execution_options(synchronize_session=False)
    )


def list_deliveries(
    session: Session, *, execution_id: str | None = None, launch_plan_name: str | None = None,
    project: str | None = None, domain: str | None = None, limit: int = 100,
) -> list[DeliveryRecord]:
    """Deliveries in the order they were written, filtered by execution or launch plan."""
    query = select(NotificationDelivery)
    if execution_id is not None:
        query = query.where(NotificationDelivery.execution_id == execution_id)
    if launch_plan_name is not None:
        query = query.where(NotificationDelivery.launch_plan_name == launch_plan_name)
    if project is not None:
        query = query.where(NotificationDelivery.project == project)
    if domain is not None:
        query = query.where(NotificationDelivery.domain == domain)
    query = query.order_by(NotificationDelivery.id).limit(limit)
    return [_record(row) for row in session.scalars(query)]
