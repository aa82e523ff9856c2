"""Projects, code bundles and registered entities (tasks, workflows, launch plans)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.orm import Session

from .. import records as r
from ..errors import Conflict, NotFound
from ..models import Bundle, Entity, Project, utcnow
from ._common import (
    check_page,
    dialect_insert,
    nonempty,
    one_of,
    require_project,
    rowcount,
    validate_domain,
    validate_project_name,
)


def _project(row: Project) -> r.ProjectRecord:
    return r.ProjectRecord(name=row.name, description=row.description, created_at=row.created_at)


def ensure_project(session: Session, name: str, description: str | None = None) -> r.ProjectRecord:
    """The project `name`, created if missing (idempotent; an existing one is left as is)."""
    validate_project_name(name)
    stmt = dialect_insert(session, Project).values(
        name=name, description=description, created_at=utcnow()
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=[Project.name]))
    return get_project(session, name)


def get_project(session: Session, name: str) -> r.ProjectRecord:
    row = session.get(Project, name, populate_existing=True)
    if row is None:
        raise NotFound(f"project `{name}` does not exist", kind="project", name=name)
    return _project(row)


def list_projects(session: Session) -> list[r.ProjectRecord]:
    return [_project(p) for p in session.scalars(select(Project).order_by(Project.name))]


# --- bundles -------------------------------------------------------------------


def _bundle(row: Bundle) -> r.BundleRecord:
    return r.BundleRecord(
        digest=row.digest, uri=row.uri, python_version=row.python_version, created_at=row.created_at
    )


def put_bundle(
    session: Session, digest: str, uri: str, python_version: str | None = None
) -> r.BundleRecord:
    """Record an uploaded code bundle; idempotent (the first record of a digest stays)."""
    nonempty("bundle digest", digest, 128)
    stmt = dialect_insert(session, Bundle).values(
        digest=digest, uri=uri, python_version=python_version, created_at=utcnow()
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=[Bundle.digest]))
    return get_bundle(session, digest)


def get_bundle(session: Session, digest: str) -> r.BundleRecord:
    row = session.get(Bundle, digest)
    if row is None:
        raise NotFound(
            f"code bundle `{digest}` was not uploaded; PUT /api/v1/bundles/{digest} first",
            kind="bundle",
            name=digest,
        )
    return _bundle(row)


# --- entities (tasks, workflows, launch plans) ------------------------------------


def _entity(row: Entity) -> r.EntityRecord:
    return r.EntityRecord(
        id=row.id,
        kind=row.kind,
        project=row.project,
        domain=row.domain,
        name=row.name,
        version=row.version,
        digest=row.digest,
        spec=row.spec,
        description=row.description,
        bundle_digest=row.bundle_digest,
        archived=row.archived,
        created_at=row.created_at,
    )


def _kind_label(kind: str) -> str:
    return kind.replace("_", " ")


def _entity_scope(kind: str, project: str, domain: str) -> list[ColumnElement[bool]]:
    one_of("entity kind", kind, r.STORED_KINDS)
    validate_domain(domain)
    return [Entity.kind == kind, Entity.project == project, Entity.domain == domain]


def register_entity(
    session: Session,
    *,
    kind: str,
    project: str,
    domain: str,
    name: str,
    version: str,
    digest: str,
    spec: Mapping[str, Any],
    description: str | None = None,
    bundle_digest: str | None = None,
) -> tuple[r.EntityRecord, bool]:
    """Store one version of an entity; `(record, created)`.

    The same name and version with the same digest is a no-op (created=False);
    with another digest it is a Conflict: versions are immutable.
    """
    scope = _entity_scope(kind, project, domain)
    nonempty(f"{_kind_label(kind)} name", name, 255)
    nonempty(f"{_kind_label(kind)} version", version, 128)
    nonempty("digest", digest, 128)
    require_project(session, project)
    if bundle_digest is not None:
        get_bundle(session, bundle_digest)
    key = [*scope, Entity.name == name, Entity.version == version]
    existing = session.scalars(select(Entity).where(*key)).one_or_none()
    if existing is None:
        stmt = dialect_insert(session, Entity).values(
            kind=kind,
            project=project,
            domain=domain,
            name=name,
            version=version,
            digest=digest,
            spec=dict(spec),
            description=description,
            bundle_digest=bundle_digest,
            archived=False,
            created_at=utcnow(),
        )
        stmt = stmt.on_conflict_do_nothing(
            index_elements=["kind", "project", "domain", "name", "version"]
        ).returning(Entity.id)
        new_id = session.execute(stmt).scalar_one_or_none()
        if new_id is not None:
            return _entity(session.get_one(Entity, new_id)), True
        existing = session.scalars(select(Entity).where(*key)).one()  # lost a race
    if existing.digest != digest:
        raise Conflict(
            f"{_kind_label(kind)} `{name}` version `{version}` is already registered in "
            f"{project}/{domain} with other content (digest {existing.digest[:12]}, this one "
            f"{digest[:12]}); versions are immutable: register under a new version, or leave "
            "the version out to derive it from the content",
            kind=kind,
            name=name,
        )
    return _entity(existing), False


def get_entity(
    session: Session, kind: str, project: str, domain: str, name: str, version: str | None = None
) -> r.EntityRecord:
    """One version of an entity, or its latest registration when `version` is None."""
    query = select(Entity).where(*_entity_scope(kind, project, domain), Entity.name == name)
    if version is not None:
        query = query.where(Entity.version == version)
    query = query.order_by(Entity.id.desc()).limit(1).execution_options(populate_existing=True)
    row = session.scalars(query).first()
    if row is None:
        which = f" version `{version}`" if version is not None else ""
        raise NotFound(
            f"{_kind_label(kind)} `{name}`{which} is not registered in {project}/{domain}",
            kind=kind,
            name=name,
        )
    return _entity(row)


def list_entities(
    session: Session,
    kind: str,
    project: str,
    domain: str,
    *,
    name_contains: str | None = None,
    archived: bool | None = False,
    workflow: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[r.EntitySummary]:
    """The latest version of each name, by name; `archived=None` lists both states.
    `workflow` keeps the launch plans whose latest version launches that workflow."""
    check_page(limit, offset)
    where = _entity_scope(kind, project, domain)
    if name_contains:
        where.append(Entity.name.icontains(name_contains, autoescape=True))
    latest = (
        select(
            func.max(Entity.id).label("latest_id"),
            func.count(Entity.id).label("version_count"),
        )
        .where(*where)
        .group_by(Entity.name)
        .subquery()
    )
    query: Select[Any] = select(Entity, latest.c.version_count).join(
        latest, Entity.id == latest.c.latest_id
    )
    if archived is not None:
        query = query.where(Entity.archived == archived)
    if workflow is not None:
        query = query.where(Entity.spec["workflow"].as_string() == workflow)
    query = query.order_by(Entity.name).limit(limit).offset(offset)
    query = query.execution_options(populate_existing=True)
    return [
        r.EntitySummary(latest=_entity(row), version_count=count)
        for row, count in session.execute(query)
    ]


def list_versions(
    session: Session,
    kind: str,
    project: str,
    domain: str,
    name: str,
    *,
    limit: int = 100,
    offset: int = 0,
) -> list[r.EntityRecord]:
    """Every version of one entity, newest first; NotFound if the name is unknown."""
    check_page(limit, offset)
    query = (
        select(Entity)
        .where(*_entity_scope(kind, project, domain), Entity.name == name)
        .order_by(Entity.id.desc())
        .limit(limit)
        .offset(offset)
        .execution_options(populate_existing=True)
    )
    rows = [_entity(row) for row in session.scalars(query)]
    if not rows and offset == 0:
        get_entity(session, kind, project, domain, name)  # raises NotFound
    return rows


def set_archived(
    session: Session, kind: str, project: str, domain: str, name: str, archived: bool
) -> r.EntityRecord:
    """Archive (or unarchive) every version of an entity; returns the latest."""
    result = session.execute(
        update(Entity)
        .where(*_entity_scope(kind, project, domain), Entity.name == name)
        .values(archived=archived)
        .execution_options(synchronize_session=False)
    )
    if not rowcount(result):
        get_entity(session, kind, project, domain, name)  # raises NotFound
    return get_entity(session, kind, project, domain, name)
