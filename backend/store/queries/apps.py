"""Apps: their specs and revisions, their replicas, and what happened to them.

The API writes deploys (`deploy_app`: a new revision when the spec or the files
changed, nothing when they did not) and wishes (`desired`); the app manager
(backend/apps/manager.py, in the server's main process) writes the status, the
replicas and the events; the proxies of every API process read the ready
replicas' ports and write `last_request`, `load` and `wanted_at` (a request
that found no replica).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import App, AppEvent, AppReplica
from ._common import UNSET, now_or, require_project, validate_domain, validate_project_name

STATUSES = ("Pending", "Started", "Stopped", "Failed", "Scaled to zero")
EVENTS_KEPT = 200


@dataclass(frozen=True, slots=True)
class ReplicaRecord:
    id: int
    app_id: int
    slot: int
    revision: int
    phase: str
    pid: int | None
    port: int | None
    restarts: int
    last_exit: str | None
    started_at: dt.datetime | None
    ready_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class AppRecord:
    id: int
    project: str
    domain: str
    name: str
    spec: dict[str, Any]
    bundle: str | None
    digest: str
    revision: int
    desired: str
    status: str
    reason: str | None
    inputs: dict[str, Any] | None
    wanted_at: dt.datetime | None
    last_request: dt.datetime | None
    load: float | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    at: dt.datetime
    message: str


def _record(row: App) -> AppRecord:
    return AppRecord(id=row.id, project=row.project, domain=row.domain, name=row.name, spec=dict(row.spec),
                     bundle=row.bundle, digest=row.digest, revision=row.revision, desired=row.desired,
                     status=row.status, reason=row.reason, inputs=row.inputs, wanted_at=row.wanted_at,
                     last_request=row.last_request, load=row.load, created_at=row.created_at,
                     updated_at=row.updated_at)


def _replica(row: AppReplica) -> ReplicaRecord:
    return ReplicaRecord(id=row.id, app_id=row.app_id, slot=row.slot, revision=row.revision, phase=row.phase,
                         pid=row.pid, port=row.port, restarts=row.restarts, last_exit=row.last_exit,
                         started_at=row.started_at, ready_at=row.ready_at)


def _row(session: Session, project: str, domain: str, name: str) -> App:
    row = session.scalars(select(App).where(App.project == project, App.domain == domain, App.name == name)).first()
    if row is None:
        names = session.scalars(select(App.name).where(App.project == project, App.domain == domain)
                                .order_by(App.name)).all()
        have = ", ".join(f"`{n}`" for n in names[:20]) or "none"
        raise NotFound(f"no app `{name}` in project `{project}`, domain `{domain}` (its apps: {have}); deploy "
                       "it with `plait deploy apps FILE NAME`", kind="app", name=name)
    return row


def get_app(session: Session, project: str, domain: str, name: str) -> AppRecord:
    return _record(_row(session, project, domain, name))


def app_by_id(session: Session, app_id: int) -> AppRecord | None:
    row = session.get(App, app_id)
    return None if row is None else _record(row)


def list_apps(session: Session, *, project: str | None = None, domain: str | None = None) -> list[AppRecord]:
    query = select(App).order_by(App.name)
    if project is not None:
        query = query.where(App.project == project)
    if domain is not None:
        query = query.where(App.domain == domain)
    return [_record(row) for row in session.scalars(query)]


def deploy_app(session: Session, *, project: str, domain: str, name: str, spec: Mapping[str, Any],
               bundle: str | None, digest: str, inputs: Mapping[str, Any] | None,
               now: dt.datetime | None = None) -> tuple[AppRecord, str]:
    """Create the app, or give it a new revision when its spec, files or inputs changed; it is
    (re)started either way unless nothing changed and it runs. Returns the record and what was
    done: `created`, `updated` or `unchanged`."""
    validate_project_name(project)
    validate_domain(domain)
    require_project(session, project)
    when = now_or(now)
    row = session.scalars(select(App).where(App.project == project, App.domain == domain,
                                            App.name == name)).first()
    if row is None:
        row = App(project=project, domain=domain, name=name, spec=dict(spec), bundle=bundle, digest=digest,
                  revision=1, desired="ACTIVE", status="Pending", reason="deployed", inputs=dict(inputs or {}),
                  wanted_at=when, created_at=when, updated_at=when)
        session.add(row)
        session.flush()
        add_event(session, row.id, f"created revision 1 ({digest[:12]})", now=when)
        return _record(row), "created"
    same = (row.digest, row.bundle, row.inputs or {}) == (digest, bundle, dict(inputs or {}))
    if same and row.desired == "ACTIVE" and row.status not in ("Failed", "Stopped"):
        return _record(row), "unchanged"
    if not same:
        row.revision += 1
        row.spec, row.bundle, row.digest, row.inputs = dict(spec), bundle, digest, dict(inputs or {})
        add_event(session, row.id, f"updated to revision {row.revision} ({digest[:12]})", now=when)
    else:
        add_event(session, row.id, f"redeployed revision {row.revision}", now=when)
    row.desired, row.status, row.reason, row.wanted_at, row.updated_at = "ACTIVE", "Pending", "deployed", when, when
    session.flush()
    return _record(row), "updated"


def set_desired(session: Session, project: str, domain: str, name: str, desired: str, *,
                now: dt.datetime | None = None) -> AppRecord:
    row = _row(session, project, domain, name)
    when = now_or(now)
    row.desired, row.updated_at = desired, when
    if desired == "ACTIVE":
        row.wanted_at = when
        if row.status in ("Failed", "Stopped"):
            row.status, row.reason = "Pending", "started by request"
    add_event(session, row.id, "start requested" if desired == "ACTIVE" else "stop requested", now=when)
    session.flush()
    return _record(row)


def set_status(session: Session, app_id: int, status: str, reason: Any = UNSET) -> None:
    values: dict[str, Any] = {"status": status}
    if reason is not UNSET:
        values["reason"] = reason
    session.execute(update(App).where(App.id == app_id).values(**values))


def note_traffic(session: Session, app_id: int, *, last_request: dt.datetime, load: float,
                 wanted: bool = False) -> None:
    """A proxy's report: the newest request, the most requests in flight since the last report,
    and (`wanted`) that a request waits for a replica."""
    values: dict[str, Any] = {"last_request": last_request, "load": load}
    if wanted:
        values["wanted_at"] = last_request
    session.execute(update(App).where(App.id == app_id).values(**values))


def add_event(session: Session, app_id: int, message: str, *, now: dt.datetime | None = None) -> None:
    session.add(AppEvent(app_id=app_id, at=now_or(now), message=message))
    newest = session.scalars(select(AppEvent.id).where(AppEvent.app_id == app_id)
                             .order_by(AppEvent.id.desc()).offset(EVENTS_KEPT).limit(1)).first()
    if newest is not None:
        session.execute(delete(AppEvent).where(AppEvent.app_id == app_id, AppEvent.id <= newest))


def events(session: Session, app_id: int, limit: int = 50) -> list[EventRecord]:
    rows = session.scalars(select(AppEvent).where(AppEvent.app_id == app_id)
                           .order_by(AppEvent.id.desc()).limit(limit)).all()
    return [EventRecord(id=r.id, at=r.at, message=r.message) for r in reversed(rows)]


def replicas(session: Session, app_id: int) -> list[ReplicaRecord]:
    return [_replica(r) for r in session.scalars(select(AppReplica).where(AppReplica.app_id == app_id)
                                                  .order_by(AppReplica.slot))]


def ready_ports(session: Session, app_id: int) -> list[int]:
    return [int(port) for port in session.scalars(select(AppReplica.port).where(
        AppReplica.app_id == app_id, AppReplica.phase == "READY", AppReplica.port.is_not(None)))]


def put_replica(session: Session, app_id: int, slot: int, **values: Any) -> None:
    """Create or change the replica of `slot` (the manager's write)."""
    row = session.scalars(select(AppReplica).where(AppReplica.app_id == app_id, AppReplica.slot == slot)).first()
    if row is None:
        row = AppReplica(app_id=app_id, slot=slot, revision=values.pop("revision", 0),
                         phase=values.pop("phase", "STARTING"), restarts=values.pop("restarts", 0))
        session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()


def drop_replica(session: Session, app_id: int, slot: int) -> None:
    session.execute(delete(AppReplica).where(AppReplica.app_id == app_id, AppReplica.slot == slot))


def all_replicas(session: Session) -> list[ReplicaRecord]:
    return [_replica(r) for r in session.scalars(select(AppReplica).order_by(AppReplica.app_id, AppReplica.slot))]
