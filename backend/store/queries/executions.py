"""Executions: creation, listing, phases, abort requests and executor leases."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from .. import records as r
from ..errors import Conflict, InvalidRequest, NotFound
from ..models import Execution
from ._common import (
    UNSET,
    check_page,
    dialect_insert,
    nonempty,
    now_or,
    one_of,
    require_project,
    rowcount,
    validate_domain,
)

_EXECUTION_ID_RE = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
_ID_ALPHABET = string.ascii_lowercase + string.digits


def _execution(row: Execution) -> r.ExecutionRecord:
    return r.ExecutionRecord(
        id=row.id,
        project=row.project,
        domain=row.domain,
        entity_kind=row.entity_kind,
        entity_name=row.entity_name,
        entity_version=row.entity_version,
        launch_plan_name=row.launch_plan_name,
        launch_plan_version=row.launch_plan_version,
        phase=row.phase,
        inputs=row.inputs,
        outputs=row.outputs,
        error=row.error,
        settings=row.settings,
        parent_execution_id=row.parent_execution_id,
        parent_node_path=row.parent_node_path,
        abort_requested=row.abort_requested,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
    )


def new_execution_id() -> str:
    """A fresh execution name: a letter then 19 lowercase letters or digits (like Flyte's)."""
    return secrets.choice(string.ascii_lowercase) + "".join(
        secrets.choice(_ID_ALPHABET) for _ in range(19)
    )


def create_execution(
    session: Session,
    *,
    project: str,
    domain: str,
    entity_kind: str,
    entity_name: str,
    entity_version: str,
    inputs: Mapping[str, Any],
    settings: Mapping[str, Any] | None = None,
    id: str | None = None,
    launch_plan_name: str | None = None,
    launch_plan_version: str | None = None,
    parent_execution_id: str | None = None,
    parent_node_path: str | None = None,
    now: dt.datetime | None = None,
) -> r.ExecutionRecord:
    """A QUEUED execution; `id` defaults to `new_execution_id()`. Conflict if the id is used."""
    validate_domain(domain)
    one_of("entity kind", entity_kind, r.STORED_KINDS)
    require_project(session, project)
    execution_id = new_execution_id() if id is None else id
    if not _EXECUTION_ID_RE.match(execution_id):
        raise InvalidRequest(
            f"execution name {execution_id!r} is not valid: use up to 64 lowercase letters, "
            "digits or '-', starting with a letter",
            kind="execution",
            name=execution_id,
        )
    if parent_execution_id is not None:
        get_execution(session, parent_execution_id)
    stmt = dialect_insert(session, Execution).values(
        id=execution_id,
        project=project,
        domain=domain,
        entity_kind=entity_kind,
        entity_name=entity_name,
        entity_version=entity_version,
        launch_plan_name=launch_plan_name,
        launch_plan_version=launch_plan_version,
        phase=r.QUEUED,
        inputs=dict(inputs),
        outputs=None,
        error=None,
        settings=dict(settings or {}),
        parent_execution_id=parent_execution_id,
        parent_node_path=parent_node_path,
        abort_requested=False,
        created_at=now_or(now),
    )
    stmt = stmt.on_conflict_do_nothing(index_elements=[Execution.id]).returning(Execution.id)
    if session.execute(stmt).scalar_one_or_none() is None:
        raise Conflict(
            f"an execution named `{execution_id}` already exists; choose another name or "
            "leave it out to get a fresh one",
            kind="execution",
            name=execution_id,
        )
    return get_execution(session, execution_id)


def execution_row(session: Session, execution_id: str, *, lock: bool = False) -> Execution:
    row = session.get(Execution, execution_id, with_for_update=lock, populate_existing=True)
    if row is None:
        raise NotFound(
            f"execution `{execution_id}` does not exist", kind="execution", name=execution_id
        )
    return row


def get_execution(session: Session, execution_id: str) -> r.ExecutionRecord:
    return _execution(execution_row(session, execution_id))


EXECUTION_FILTERS: dict[str, Any] = {
    "project": Execution.project,
    "domain": Execution.domain,
    "name": Execution.entity_name,
    "kind": Execution.entity_kind,
    "version": Execution.entity_version,
    "launch_plan": Execution.launch_plan_name,
    "phase": Execution.phase,
    "parent_execution_id": Execution.parent_execution_id,
}
"""The filters `list_executions` accepts: name -> column. A value may be a string or a list."""


# What a list shows of an execution: every column but its values (inputs, outputs, settings).
_HEADER_COLUMNS = tuple(getattr(Execution, f) for f in r.ExecutionHeader.__dataclass_fields__)


def list_executions(
    session: Session, *, limit: int = 100, offset: int = 0, labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None, search: str | None = None, **filters: Any
) -> list[r.ExecutionHeader]:
    """Execution headers newest first (ties by id); filters from EXECUTION_FILTERS, None ignored,
    and `labels`/`annotations` (each `key: value` must match, kept in the settings JSON:
    `json_extract` on SQLite, `#>>` on PostgreSQL). `search` keeps executions whose id, task or
    workflow name, or launch plan name contains it (any case), as a search box means it.

    Only the header columns are read: one execution with a large input would
    otherwise make every page that lists it read (and decode) all of it.
    """
    check_page(limit, offset)
    unknown = set(filters) - set(EXECUTION_FILTERS)
    if unknown:
        raise InvalidRequest(
            f"unknown execution filter(s) {', '.join(sorted(unknown))}; "
            f"filter by {', '.join(EXECUTION_FILTERS)}",
            kind="filter",
            name=", ".join(sorted(unknown)),
        )
    query = select(*_HEADER_COLUMNS)
    for name, value in filters.items():
        if value is None:
            continue
        values = [value] if isinstance(value, str) else list(value)
        if name == "phase":
            for phase in values:
                one_of("execution phase", phase, r.EXECUTION_PHASES)
        if name == "domain":
            for domain in values:
                validate_domain(domain)
        query = query.where(EXECUTION_FILTERS[name].in_(values))
    for block, pairs in (("labels", labels), ("annotations", annotations)):
        for key, value in (pairs or {}).items():
            query = query.where(Execution.settings[(block, key)].as_string() == value)
    if search:
        query = query.where(or_(*(column.icontains(search, autoescape=True) for column in (
            Execution.id, Execution.entity_name, Execution.launch_plan_name))))
    query = query.order_by(Execution.created_at.desc(), Execution.id.desc())
    query = query.limit(limit).offset(offset)
    return [r.ExecutionHeader(*row) for row in session.execute(query)]


def recent_executions(
    session: Session, kind: str, project: str, domain: str, names: Iterable[str], *, per_name: int = 10
) -> dict[str, list[r.RecentRecord]]:
    """The `per_name` newest executions of each named entity, newest first, in one query.

    A task's or workflow's are those that run it, a launch plan's those
    launched from it; names without executions are left out. One statement
    for a whole page: ROW_NUMBER() over each name, on SQLite as on PostgreSQL.
    """
    one_of("entity kind", kind, r.STORED_KINDS)
    validate_domain(domain)
    wanted = sorted(set(names))
    if not wanted:
        return {}
    if kind == "launch_plan":
        key, where = Execution.launch_plan_name, [Execution.launch_plan_name.in_(wanted)]
    else:
        key, where = Execution.entity_name, [Execution.entity_kind == kind, Execution.entity_name.in_(wanted)]
    rank = func.row_number().over(
        partition_by=key, order_by=(Execution.created_at.desc(), Execution.id.desc())
    )
    ranked = (
        select(key.label("name"), Execution.id, Execution.phase, Execution.created_at,
               Execution.started_at, Execution.ended_at, rank.label("rank"))
        .where(Execution.project == project, Execution.domain == domain, *where)
        .subquery()
    )
    query = select(ranked).where(ranked.c.rank <= per_name).order_by(ranked.c.name, ranked.c.rank)
    found: dict[str, list[r.RecentRecord]] = {}
    for row in session.execute(query):
        found.setdefault(row.name, []).append(r.RecentRecord(
            id=row.id, phase=row.phase, created_at=row.created_at, started_at=row.started_at,
            ended_at=row.ended_at,
        ))
    return found


def set_execution_phase(
    session: Session,
    execution_id: str,
    phase: str,
    *,
    outputs: Any = UNSET,
    error: Any = UNSET,
    owner: str | None = None,
    now: dt.datetime | None = None,
) -> r.ExecutionRecord:
    """Move an execution to `phase`, stamping started_at (RUNNING) and ended_at (terminal).

    With `owner`, only the holder of the lease may do it (Conflict otherwise).
    An ended execution keeps its phase: repeating it is a no-op, changing it a
    Conflict. Ending an execution drops its lease.
    """
    one_of("execution phase", phase, r.EXECUTION_PHASES)
    now = now_or(now)
    row = execution_row(session, execution_id, lock=True)
    if owner is not None and row.lease_owner != owner:
        raise Conflict(
            f"execution `{execution_id}` is leased by {row.lease_owner or 'nobody'}, not {owner}; "
            "only the executor holding the lease may change it",
            kind="execution",
            name=execution_id,
        )
    if row.phase in r.NODE_ENDED:
        if row.phase == phase:
            return _execution(row)
        raise Conflict(
            f"execution `{execution_id}` already ended as {row.phase}; it cannot become {phase}",
            kind="execution",
            name=execution_id,
        )
    row.phase = phase
    if phase == r.RUNNING and row.started_at is None:
        row.started_at = now
    if phase in r.NODE_ENDED:
        row.ended_at = now
        row.lease_owner = None
        row.lease_expires_at = None
    if outputs is not UNSET:
        row.outputs = outputs
    if error is not UNSET:
        row.error = error
    session.flush()
    if phase in r.NODE_ENDED:  # its notifications, committed with the phase (notifications.py)
        from .notifications import enqueue_execution_ended

        enqueue_execution_ended(session, row, now=now)
    return _execution(row)


def request_abort(session: Session, execution_id: str, *, reason: str | None = None) -> r.ExecutionRecord:
    """Flag an execution for abort; its executor stops it. Conflict if it already ended.

    The reason, when given, is kept in its settings (`abort_reason`) until the executor
    writes it into the execution's error; a second request keeps the first reason.
    """
    row = execution_row(session, execution_id, lock=True)
    if row.phase in r.NODE_ENDED:
        raise Conflict(
            f"execution `{execution_id}` already ended as {row.phase}; there is nothing to abort",
            kind="execution",
            name=execution_id,
        )
    reason = (reason or "").strip()
    if reason and not row.abort_requested:
        row.settings = {**(row.settings or {}), "abort_reason": reason}  # a new dict: JSON columns track assignment
    row.abort_requested = True
    session.flush()
    return _execution(row)


def count_queued(session: Session, project: str) -> int:
    """How many executions launched in `project` wait to start (QUEUED, not children of others)."""
    return int(session.scalar(
        select(func.count()).select_from(Execution).where(
            Execution.phase == r.QUEUED, Execution.project == project,
            Execution.parent_execution_id.is_(None),
        )
    ) or 0)


def claim_executions(
    session: Session, owner: str, lease_s: float, *, limit: int = 10, children: bool | None = None,
    now: dt.datetime | None = None,
) -> list[r.ExecutionRecord]:
    """Take the lease of QUEUED or RUNNING executions whose lease is empty or expired.

    Oldest first, at most `limit`; `children` True takes only executions started
    by another execution's node, False only the others, None both. Each claim is
    a compare-and-set on the lease it saw, and on PostgreSQL the candidates are
    read `FOR UPDATE SKIP LOCKED`, so executors claiming at once never share an
    execution.
    """
    nonempty("lease owner", owner, 255)
    now = now_or(now)
    expires = now + dt.timedelta(seconds=lease_s)
    active = Execution.phase.in_((r.QUEUED, r.RUNNING))
    free = or_(
        Execution.lease_owner.is_(None),
        Execution.lease_expires_at.is_(None),
        Execution.lease_expires_at < now,
    )
    which = [] if children is None else [
        Execution.parent_execution_id.is_not(None) if children else Execution.parent_execution_id.is_(None)]
    candidates = (
        select(Execution.id, Execution.lease_owner, Execution.lease_expires_at)
        .where(active, free, *which)
        .order_by(Execution.created_at, Execution.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claimed: list[str] = []
    for execution_id, old_owner, old_expires in session.execute(candidates).all():
        same_lease = [
            Execution.lease_owner.is_(None)
            if old_owner is None
            else Execution.lease_owner == old_owner,
            Execution.lease_expires_at.is_(None)
            if old_expires is None
            else Execution.lease_expires_at == old_expires,
        ]
        result = session.execute(
            update(Execution)
            .where(Execution.id == execution_id, active, *same_lease)
            .values(lease_owner=owner, lease_expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 1:
            claimed.append(execution_id)
    return [get_execution(session, execution_id) for execution_id in claimed]


def _ids(execution_ids: str | Iterable[str]) -> list[str]:
    return [execution_ids] if isinstance(execution_ids, str) else list(execution_ids)


def renew_lease(
    session: Session,
    owner: str,
    execution_ids: str | Iterable[str],
    lease_s: float,
    *,
    now: dt.datetime | None = None,
) -> list[str]:
    """Extend `owner`'s leases on these executions; returns the ids it still holds.

    An id missing from the answer was lost (another executor took it over
    after expiry) or has ended: stop driving it.
    """
    ids = _ids(execution_ids)
    if not ids:
        return []
    expires = now_or(now) + dt.timedelta(seconds=lease_s)
    result = session.execute(
        update(Execution)
        .where(
            Execution.id.in_(ids),
            Execution.lease_owner == owner,
            Execution.phase.in_((r.QUEUED, r.RUNNING)),
        )
        .values(lease_expires_at=expires)
        .returning(Execution.id)
        .execution_options(synchronize_session=False)
    )
    held = set(result.scalars())
    return [i for i in ids if i in held]


def release_lease(session: Session, owner: str, execution_ids: str | Iterable[str]) -> list[str]:
    """Give leases back (on shutdown) so another executor may claim them at once.

    Returns the ids that `owner` held and released.
    """
    ids = _ids(execution_ids)
    if not ids:
        return []
    result = session.execute(
        update(Execution)
        .where(Execution.id.in_(ids), Execution.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .returning(Execution.id)
        .execution_options(synchronize_session=False)
    )
    released = set(result.scalars())
    return [i for i in ids if i in released]
