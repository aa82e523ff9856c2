"""Secrets: encrypted values per project, for one domain or for every domain of it.

What these functions return never holds a value: `SecretRecord` is a name, a
scope and dates. Only `secret_tokens` reads the encrypted values, for the
executor to decrypt as it sends an attempt. A secret of one domain comes
before the project's secret of the same name for every domain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ..errors import Conflict, NotFound
from ..models import Secret
from ._common import (
    dialect_insert,
    nonempty,
    now_or,
    require_project,
    rowcount,
    validate_domain,
    validate_project_name,
)

EVERY_DOMAIN = ""  # the stored domain of a secret of every domain of its project


@dataclass(frozen=True, slots=True)
class SecretRecord:
    """A stored secret without its value. `domain` is None for every domain of the project."""

    project: str
    domain: str | None
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime


def _record(row: Secret) -> SecretRecord:
    return SecretRecord(project=row.project, domain=row.domain or None, name=row.name,
                        created_at=row.created_at, updated_at=row.updated_at)


def _scope(project: str, domain: str | None) -> str:
    return f"project `{project}`, domain `{domain}`" if domain else f"project `{project}` (every domain)"


def _check(s: Session, project: str, domain: str | None, name: str | None = None) -> str:
    validate_project_name(project)
    if domain is not None:
        validate_domain(domain)
    if name is not None:
        nonempty("secret name", name, 255)
    require_project(s, project)
    return domain or EVERY_DOMAIN


def create_secret(s: Session, *, project: str, domain: str | None, name: str, encrypted_value: str,
                  now: dt.datetime | None = None) -> SecretRecord:
    """Store a new secret; Conflict if the scope has one of that name."""
    stored = _check(s, project, domain, name)
    when = now_or(now)
    stmt = dialect_insert(s, Secret).values(project=project, domain=stored, name=name,
                                            encrypted_value=encrypted_value, created_at=when, updated_at=when)
    stmt = stmt.on_conflict_do_nothing(index_elements=[Secret.project, Secret.domain, Secret.name])
    if s.execute(stmt.returning(Secret.id)).scalar_one_or_none() is None:
        flag = f" --domain {domain}" if domain else ""
        raise Conflict(
            f"secret `{name}` already exists in {_scope(project, domain)}; replace its value with "
            f"`plait create secret {name} --project {project}{flag} --overwrite`, or delete it first",
            kind="secret", name=name,
        )
    return _get(s, project, stored, name)


def put_secret(s: Session, *, project: str, domain: str | None, name: str, encrypted_value: str,
               now: dt.datetime | None = None) -> tuple[SecretRecord, bool]:
    """Replace a secret's value, or store it if the scope has none; (record, created)."""
    stored = _check(s, project, domain, name)
    when = now_or(now)
    changed = s.execute(
        update(Secret)
        .where(Secret.project == project, Secret.domain == stored, Secret.name == name)
        .values(encrypted_value=encrypted_value, updated_at=when)
    )
    if rowcount(changed):
        return _get(s, project, stored, name), False
    return create_secret(s, project=project, domain=domain, name=name, encrypted_value=encrypted_value,
                         now=when), True


def _get(s: Session, project: str, stored: str, name: str) -> SecretRecord:
    row = s.scalars(select(Secret).where(Secret.project == project, Secret.domain == stored,
                                         Secret.name == name).execution_options(populate_existing=True)).one()
    return _record(row)


def list_secrets(s: Session, project: str, domain: str | None = None) -> list[SecretRecord]:
    """The secrets of `project` by name: with `domain`, those its tasks can see (that domain's
    and the project's for every domain); without, all of them."""
    _check(s, project, domain)
    query = select(Secret).where(Secret.project == project)
    if domain is not None:
        query = query.where(or_(Secret.domain == domain, Secret.domain == EVERY_DOMAIN))
    return [_record(r) for r in s.scalars(query.order_by(Secret.name, Secret.domain))]


def delete_secret(s: Session, *, project: str, domain: str | None, name: str) -> None:
    """Remove the secret `name` of exactly this scope; NotFound if it has none."""
    stored = _check(s, project, domain, name)
    done = s.execute(delete(Secret).where(Secret.project == project, Secret.domain == stored,
                                          Secret.name == name))
    if rowcount(done) == 0:
        raise NotFound(
            f"secret `{name}` does not exist in {_scope(project, domain)}; "
            f"`plait get secrets --project {project}` lists the project's secrets",
            kind="secret", name=name,
        )


def secret_tokens(s: Session, project: str, domain: str, names: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """name -> (encrypted value, the domain it is stored for or None for every domain) of each
    of `names` that a task of `project`/`domain` can read; the domain's own comes first."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = s.execute(
        select(Secret.name, Secret.domain, Secret.encrypted_value)
        .where(Secret.project == project, Secret.name.in_(wanted),
               or_(Secret.domain == domain, Secret.domain == EVERY_DOMAIN))
    ).all()
    found: dict[str, tuple[str, str | None]] = {}
    for name, stored, token in sorted(rows, key=lambda r: r[1] == EVERY_DOMAIN):
        found.setdefault(name, (token, stored or None))
    return found


def secret_names(s: Session, project: str, domain: str) -> set[str]:
    """The names of the secrets a task of `project`/`domain` can read."""
    return set(s.scalars(select(Secret.name).where(
        Secret.project == project, or_(Secret.domain == domain, Secret.domain == EVERY_DOMAIN))))
