"""`create_app(settings, db, storage, executor)`: the FastAPI application, built on demand.

Nothing happens at import time; `create_app` wires the routers, the error
table and the bearer-token middleware around the parts it is given. It does
not touch the database or the cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .. import server_version
from . import (
    errors,
    routes_apps,
    routes_artifacts,
    routes_dask,
    routes_entities,
    routes_executions,
    routes_launch_plans,
    routes_notifications,
    routes_projects,
    routes_secrets,
    routes_signals,
    routes_workspaces,
)
from .auth import BearerAuth
from .deps import Services
from .schemas import ErrorBody

if TYPE_CHECKING:
    from ..config import Settings
    from ..execution.ports import ExecutorPort
    from ..storage import ObjectStore
    from ..store import Database

DESCRIPTION = """\
The plait backend: registers tasks, workflows and launch plans, runs executions
on Dask and keeps their state. Every request needs `Authorization: Bearer <token>`;
the token is in `$PLAIT_HOME/token` (default `~/.plait/token`) on the server's machine.
"""

TAGS = [
    {"name": "server", "description": "Health of the server and its cluster."},
    {"name": "projects", "description": "Projects group entities and executions."},
    {"name": "registration", "description": "Upload code and register entity specs."},
    {"name": "entities", "description": "Registered tasks, workflows and launch plans."},
    {"name": "executions", "description": "Run entities; follow phases, nodes and logs."},
]


def create_app(settings: Settings, db: Database, storage: ObjectStore, executor: ExecutorPort, *,
               token: str | None = None) -> FastAPI:
    """The API app. `token` defaults to the one kept in `settings.home` (created if missing)."""
    if token is None:
        from ..config import ensure_token

        token = ensure_token(settings.home)
    app = FastAPI(
        title="plait",
        version=server_version(),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        generate_unique_id_function=lambda route: route.name,  # operationIds: list_tasks, ...
        responses={401: {"model": ErrorBody, "description": "Missing or wrong bearer token."}},
    )
    app.state.services = Services(settings=settings, db=db, storage=storage, executor=executor)
    errors.install(app)
    app.include_router(routes_projects.router)
    app.include_router(routes_entities.router)
    app.include_router(routes_executions.router)
    app.include_router(routes_launch_plans.router)
    app.include_router(routes_secrets.router)
    app.include_router(routes_notifications.router)
    app.include_router(routes_artifacts.router)
    app.include_router(routes_signals.router)
    app.include_router(routes_workspaces.router)
    app.include_router(routes_apps.router)
    app.router.routes.extend(routes_dask.routes)  # the Dask dashboard's proxy: not in the OpenAPI document
    app.router.routes.extend(routes_workspaces.proxy_routes)  # code-server, behind the token or a session
    app.router.routes.extend(routes_apps.proxy_routes)  # apps: behind them too, unless public
    app.state.token = token
    app.add_middleware(BearerAuth, token=token,  # a browser's session cookie; apps may be public
                       own_auth={routes_workspaces.PROXY_PREFIX: "session", routes_apps.PROXY_PREFIX: "route"})
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document plus the bearer scheme that the middleware enforces."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        doc.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "The token in `$PLAIT_HOME/token` on the server's machine.",
        }
        doc["security"] = [{"bearer": []}]
        app.openapi_schema = doc
    return app.openapi_schema
