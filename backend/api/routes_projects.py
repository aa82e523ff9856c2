"""Health and projects."""

from __future__ import annotations

import sys

from fastapi import APIRouter

from .. import server_version
from ..store import queries
from ..store.errors import Conflict, NotFound
from . import checks
from . import schemas as S
from .deps import Svc

router = APIRouter(prefix="/api/v1", responses={401: S.ERROR_RESPONSES[401]})


@router.get("/health", tags=["server"], name="health")
def health(svc: Svc) -> S.Health:
    """The server's version, what its Dask workers offer, and whether the executor is driving
    executions (`degraded`, with the reason, when it is not)."""
    problem = svc.executor.problem()
    return S.Health(
        status="degraded" if problem else "ok",
        problem=problem,
        version=server_version(),
        server_python=f"{sys.version_info.major}.{sys.version_info.minor}",
        worker_python=svc.executor.worker_python(),
        worker_resources=dict(svc.executor.worker_resources()),
        dask_dashboard=svc.executor.dashboard_link,
        dask_scheduler=svc.executor.scheduler_address,
        pools=[S.PoolStatus(**p) for p in svc.executor.pool_states()],
    )


def _project(record: queries.r.ProjectRecord) -> S.Project:
    return S.Project(name=record.name, description=record.description or "", created_at=record.created_at)


@router.get("/projects", tags=["projects"], name="list_projects")
def list_projects(svc: Svc) -> S.ProjectList:
    """Every project, by name."""
    with svc.db.session(readonly=True) as s:
        return S.ProjectList(projects=[_project(p) for p in queries.list_projects(s)])


@router.post(
    "/projects",
    tags=["projects"],
    name="create_project",
    status_code=201,
    responses={409: S.ERROR_RESPONSES[409], 422: S.ERROR_RESPONSES[422]},
)
def create_project(body: S.ProjectCreate, svc: Svc) -> S.Project:
    """Create a project; 409 if the name is taken."""
    checks.check_request(body)
    with svc.db.session() as s:
        try:
            queries.get_project(s, body.name)
        except NotFound:
            return _project(queries.ensure_project(s, body.name, body.description or None))
    raise Conflict(f"project `{body.name}` already exists", kind="project", name=body.name)
