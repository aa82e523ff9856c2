"""The shared cache: outputs by key, and reservations so one node computes a key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, update
from sqlalchemy.orm import Session

from .. import records as r
from ..models import CacheEntry, CacheReservation, utcnow
from ._common import dialect_insert, nonempty, now_or, rowcount, validate_domain


def _cache(row: CacheEntry) -> r.CacheRecord:
    return r.CacheRecord(
        project=row.project,
        domain=row.domain,
        key=row.key,
        outputs=row.outputs,
        execution_id=row.execution_id,
        node_path=row.node_path,
        created_at=row.created_at,
    )


def cache_get(session: Session, project: str, domain: str, key: str) -> r.CacheRecord | None:
    row = session.get(CacheEntry, (project, domain, key), populate_existing=True)
    return None if row is None else _cache(row)


def cache_put(
    session: Session,
    project: str,
    domain: str,
    key: str,
    outputs: Mapping[str, Any],
    *,
    execution_id: str | None = None,
    node_path: str | None = None,
    overwrite: bool = False,
) -> r.CacheRecord:
    """Store outputs under a cache key; the first writer wins unless `overwrite`."""
    validate_domain(domain)
    nonempty("cache key", key, 255)
    values = dict(
        project=project,
        domain=domain,
        key=key,
        outputs=dict(outputs),
        execution_id=execution_id,
        node_path=node_path,
        created_at=utcnow(),
    )
    stmt = dialect_insert(session, CacheEntry).values(**values)
    index = ["project", "domain", "key"]
    if overwrite:
        changed = {k: v for k, v in values.items() if k not in index}
        stmt = stmt.on_conflict_do_update(index_elements=index, set_=changed)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=index)
    session.execute(stmt)
    record = cache_get(session, project, domain, key)
    assert record is not None
    return record


def _reservation(project: str, domain: str, key: str) -> list[ColumnElement[bool]]:
    return [
        CacheReservation.project == project,
        CacheReservation.domain == domain,
        CacheReservation.key == key,
    ]


def cache_reserve(
    session: Session,
    project: str,
    domain: str,
    key: str,
    owner: str,
    ttl_s: float,
    *,
    now: dt.datetime | None = None,
) -> bool:
    """Reserve a cache key so that one node computes it; True if `owner` holds it now.

    Takes over a reservation that expired; reserving again as the holder extends it.
    """
    validate_domain(domain)
    now = now_or(now)
    expires = now + dt.timedelta(seconds=ttl_s)
    stmt = dialect_insert(session, CacheReservation).values(
        project=project, domain=domain, key=key, owner=owner, expires_at=expires
    )
    stmt = stmt.on_conflict_do_nothing(index_elements=["project", "domain", "key"])
    if rowcount(session.execute(stmt)) == 1:
        return True
    result = session.execute(
        update(CacheReservation)
        .where(
            *_reservation(project, domain, key),
            or_(CacheReservation.owner == owner, CacheReservation.expires_at < now),
        )
        .values(owner=owner, expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def cache_extend(
    session: Session,
    project: str,
    domain: str,
    key: str,
    owner: str,
    ttl_s: float,
    *,
    now: dt.datetime | None = None,
) -> bool:
    """Push the holder's reservation `ttl_s` past now; False if `owner` does not hold it."""
    expires = now_or(now) + dt.timedelta(seconds=ttl_s)
    result = session.execute(
        update(CacheReservation)
        .where(*_reservation(project, domain, key), CacheReservation.owner == owner)
        .values(expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def cache_release(session: Session, project: str, domain: str, key: str, owner: str) -> bool:
    """Drop the holder's reservation; False if `owner` did not hold it."""
    result = session.execute(
        delete(CacheReservation)
        .where(*_reservation(project, domain, key), CacheReservation.owner == owner)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1
