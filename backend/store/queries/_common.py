"""What every query module shares: the UNSET marker, validation, dialect inserts."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from typing import Any, cast

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Session

from .. import records as r
from ..errors import InvalidRequest, NotFound
from ..models import Project, utcnow


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Default of optional update fields: leave the stored value as it is (None stores NULL)."""

MAX_LIMIT = 1000
_PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def now_or(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r}: pass an aware UTC time")
    return now


def dialect_insert(session: Session, model: type) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"plait's store supports SQLite and PostgreSQL, not {dialect}")


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE, DELETE or INSERT touched."""
    return cast("CursorResult[Any]", result).rowcount


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be between 1 and {MAX_LIMIT}, found {limit}")
    if offset < 0:
        raise InvalidRequest(f"offset must be 0 or more, found {offset}")


def one_of(what: str, value: str, allowed: Collection[str]) -> str:
    if value not in allowed:
        raise InvalidRequest(
            f"unknown {what} {value!r}; expected one of {', '.join(allowed)}",
            kind=what,
            name=str(value),
        )
    return value


def nonempty(what: str, value: str, max_len: int) -> str:
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise InvalidRequest(
            f"{what} must be a non-empty string of at most {max_len} characters, found {value!r}",
            kind=what,
            name=str(value),
        )
    return value


def validate_domain(domain: str) -> str:
    """`domain` if it is one of development, staging, production; else InvalidRequest."""
    if domain not in r.DOMAINS:
        raise InvalidRequest(
            f"unknown domain {domain!r}; plait has the domains {', '.join(r.DOMAINS)}",
            kind="domain",
            name=str(domain),
        )
    return domain


def validate_project_name(name: str) -> str:
    if not isinstance(name, str) or not _PROJECT_RE.match(name):
        raise InvalidRequest(
            f"project name {name!r} is not valid: use 1-64 lowercase letters, digits, "
            "'-' or '_', starting with a letter or digit (like 'flytesnacks')",
            kind="project",
            name=str(name),
        )
    return name


def require_project(session: Session, project: str) -> None:
    if session.get(Project, project) is None:
        raise NotFound(
            f"project `{project}` does not exist; create it first (POST /api/v1/projects)",
            kind="project",
            name=project,
        )
