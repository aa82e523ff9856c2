"""Launch plan notifications: e-mail, Slack and PagerDuty when executions end.

    from plait.backend.notify import DeliveryService
    service = DeliveryService.from_settings(settings, db, server_url=url).start()
    ...
    service.stop()

Ending an execution writes its messages to an outbox table in the same
transaction (store/queries/notifications.py); `DeliveryService` sends them
afterwards with retries and records each try on the row, which
`GET /api/v1/executions/{id}/notifications` shows. The sinks are configured by
`config.NotifySettings` (docs/notifications.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .service import DeliveryService

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["DeliveryService", "notify_schedule_skipped"]


def notify_schedule_skipped(
    session: Session, *, project: str, domain: str, launch_plan_name: str, launch_plan_version: str,
    notifications: Iterable[Mapping[str, Any]], tick: dt.datetime, reason: str, active: int | None = None,
) -> list[int]:
    """Queue the plan's notifications for a scheduled run that was not launched (skipped by
    its concurrency policy, missed while the backend was down, or failed to launch).

    Call it in the transaction that records the tick's outcome, with the plan
    version's `notifications` (its spec's list); `reason` says why in words
    ("concurrency limit (1) reached", ...), `active` is the count of the plan's
    running executions when that was the reason. Every notification of the plan
    fires, whatever its phases. Returns the outbox rows' ids.
    """
    from ..store.queries.notifications import enqueue_schedule_skipped

    return enqueue_schedule_skipped(
        session, project=project, domain=domain, launch_plan_name=launch_plan_name,
        launch_plan_version=launch_plan_version, notifications=notifications, tick=tick,
        reason=reason, active=active,
    )
