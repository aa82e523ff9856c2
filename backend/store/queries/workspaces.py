"""Workspaces: their specs, what users asked for, and what the workspace manager reached.

Users (the API) write `desired` (ACTIVE or STOPPED) and the spec; the manager
(plait.workspaces.manager, in the server's main process) writes `phase`, the
pid and port of the running code-server, and the times. The proxies of every
API process read the port of an ACTIVE workspace and write `last_activity`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import Conflict, NotFound
from ..models import Workspace
from ._common import UNSET, now_or, require_project, validate_domain, validate_project_name

PHASES = ("STOPPED", "STARTING", "ACTIVE", "STOPPING", "FAILED")
RUNNING = ("STARTING", "ACTIVE", "STOPPING")


@dataclass(frozen=True, slots=True)
class WorkspaceRecord:
    id: int
    project: str
    domain: str
    name: str
    description: str
    spec: dict[str, Any]
    archived: bool
    desired: str
    phase: str
    reason: str | None
    pid: int | None
    port: int | None
    pool: str | None
    origin: dict[str, Any] | None
    spec_started: dict[str, Any] | None
    last_activity: dt.datetime | None
    started_at: dt.datetime | None
    stopped_at: dt.datetime | None
    saved_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def restart_needed(self) -> bool:
        """An update came while it ran: the new spec applies at the next start."""
        return self.phase in RUNNING and self.spec_started is not None and self.spec_started != self.spec


def _record(row: Workspace) -> WorkspaceRecord:
    return WorkspaceRecord(
        id=row.id, project=row.project, domain=row.domain, name=row.name, description=row.description,
        spec=dict(row.spec), archived=row.archived, desired=row.desired, phase=row.phase,
        reason=row.reason, pid=row.pid, port=row.port, pool=row.pool, origin=row.origin,
        spec_started=row.spec_started, last_activity=row.last_activity, started_at=row.started_at,
        stopped_at=row.stopped_at, saved_at=row.saved_at, created_at=row.created_at,
        updated_at=row.updated_at)


def _row(session: Session, project: str, domain: str, name: str) -> Workspace:
    row = session.scalars(select(Workspace).where(
        Workspace.project == project, Workspace.domain == domain, Workspace.name == name)).first()
    if row is None:
        names = session.scalars(select(Workspace.name).where(
            Workspace.project == project, Workspace.domain == domain).order_by(Workspace.name)).all()
        have = ", ".join(f"`{n}`" for n in names[:20]) or "none"
        raise NotFound(f"no workspace `{name}` in project `{project}`, domain `{domain}` "
                       f"(its workspaces: {have}); create it with `plait create workspace FILE`",
                       kind="workspace", name=name)
    return row


def create_workspace(session: Session, *, project: str, domain: str, name: str, description: str,
                     spec: Mapping[str, Any], start: bool, origin: Mapping[str, Any] | None = None,
                     now: dt.datetime | None = None) -> WorkspaceRecord:
    validate_project_name(project)
    validate_domain(domain)
    require_project(session, project)
    if session.scalars(select(Workspace.id).where(
            Workspace.project == project, Workspace.domain == domain, Workspace.name == name)).first():
        raise Conflict(f"a workspace `{name}` exists in project `{project}`, domain `{domain}`; "
                       "change it with `plait update workspace FILE` or choose another name",
                       kind="workspace", name=name)
    when = now_or(now)
    row = Workspace(project=project, domain=domain, name=name, description=description, spec=dict(spec),
                    archived=False, desired="ACTIVE" if start else "STOPPED", phase="STOPPED",
                    origin=dict(origin) if origin else None, created_at=when, updated_at=when)
    session.add(row)
    session.flush()
    return _record(row)


def get_workspace(session: Session, project: str, domain: str, name: str) -> WorkspaceRecord:
    return _record(_row(session, project, domain, name))


def workspace_by_id(session: Session, workspace_id: int) -> WorkspaceRecord | None:
    row = session.get(Workspace, workspace_id)
    return None if row is None else _record(row)


def list_workspaces(session: Session, *, project: str | None = None, domain: str | None = None,
                    active: bool | None = None, archived: bool | None = False,
                    sort: str = "name") -> list[WorkspaceRecord]:
    query = select(Workspace)
    if project is not None:
        query = query.where(Workspace.project == project)
    if domain is not None:
        query = query.where(Workspace.domain == domain)
    if archived is not None:
        query = query.where(Workspace.archived == archived)
    if active is True:
        query = query.where(Workspace.phase == "ACTIVE")
    elif active is False:
        query = query.where(Workspace.phase != "ACTIVE")
    order = (Workspace.updated_at.desc(), Workspace.id.desc()) if sort == "updated" else (Workspace.name,)
    return [_record(row) for row in session.scalars(query.order_by(*order))]


def update_spec(session: Session, project: str, domain: str, name: str, *, spec: Mapping[str, Any],
                description: str, now: dt.datetime | None = None) -> WorkspaceRecord:
    row = _row(session, project, domain, name)
    row.spec, row.description, row.updated_at = dict(spec), description, now_or(now)
    session.flush()
    return _record(row)


def set_desired(session: Session, project: str, domain: str, name: str, desired: str, *,
                reason: str | None = None, now: dt.datetime | None = None) -> WorkspaceRecord:
    """Ask for a start or a stop. A start of an archived workspace is a Conflict; a start of a
    FAILED one clears the failure, so the manager tries again."""
    row = _row(session, project, domain, name)
    if desired == "ACTIVE" and row.archived:
        raise Conflict(f"workspace `{name}` is archived; unarchive it first "
                       f"(`plait unarchive workspace --name {name}`)", kind="workspace", name=name)
    row.desired, row.updated_at = desired, now_or(now)
    if desired == "ACTIVE" and row.phase == "FAILED":
        row.phase, row.reason = "STOPPED", None
    if desired == "ACTIVE":
        row.last_activity = now_or(now)  # the idle clock starts with the request
    if desired == "STOPPED" and reason is not None:
        row.reason = reason
    session.flush()
    return _record(row)


def set_archived(session: Session, project: str, domain: str, name: str, archived: bool, *,
                 now: dt.datetime | None = None) -> WorkspaceRecord:
    row = _row(session, project, domain, name)
    row.archived, row.updated_at = archived, now_or(now)
    if archived:
        row.desired = "STOPPED"
    session.flush()
    return _record(row)


def set_runtime(session: Session, workspace_id: int, *, phase: str, reason: Any = UNSET, pid: Any = UNSET,
                port: Any = UNSET, pool: Any = UNSET, spec_started: Any = UNSET, started_at: Any = UNSET,
                stopped_at: Any = UNSET, saved_at: Any = UNSET, desired: Any = UNSET,
                last_activity: Any = UNSET) -> None:
    """The manager's write: the phase it reached and what goes with it (UNSET leaves a column)."""
    values: dict[str, Any] = {"phase": phase}
    for key, value in (("reason", reason), ("pid", pid), ("port", port), ("pool", pool),
                       ("spec_started", spec_started), ("started_at", started_at),
                       ("stopped_at", stopped_at), ("saved_at", saved_at), ("desired", desired),
                       ("last_activity", last_activity)):
        if value is not UNSET:
            values[key] = value
    session.execute(update(Workspace).where(Workspace.id == workspace_id).values(**values))


def touch_workspaces(session: Session, seen: Mapping[int, dt.datetime]) -> None:
    """Record proxy traffic: each workspace's last activity moves forward, never back."""
    for workspace_id, when in seen.items():
        session.execute(update(Workspace).where(
            Workspace.id == workspace_id,
            (Workspace.last_activity.is_(None)) | (Workspace.last_activity < when)).values(last_activity=when))


def workspaces_in(session: Session, phases: Iterable[str] | None = None) -> list[WorkspaceRecord]:
    """Every workspace (the manager's scan), or those in `phases`."""
    query = select(Workspace).order_by(Workspace.id)
    if phases is not None:
        query = query.where(Workspace.phase.in_(list(phases)))
    return [_record(row) for row in session.scalars(query)]
