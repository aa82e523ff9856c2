"""Secrets: create (POST), create or replace (PUT), list and delete; no route ever returns a value.

Values are encrypted with the store's key (`plait.backend.secrets`) before the
transaction that stores them, and only the executor decrypts them, for the
attempts of tasks that request them. The lab does not forward these routes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from .. import secrets
from ..store import queries
from . import checks
from . import schemas as S
from .deps import Svc
from .errors import InvalidField

router = APIRouter(prefix="/api/v1", tags=["secrets"], responses={401: S.ERROR_RESPONSES[401]})

_ERRORS: dict[int | str, dict[str, Any]] = {404: S.ERROR_RESPONSES[404], 422: S.ERROR_RESPONSES[422]}
SecretName = Annotated[str, Query(min_length=1, max_length=1024, description=S.SECRET_NAME_DOC)]
ProjectQ = Annotated[str, Query(pattern=S.PROJECT_PATTERN)]
DomainQ = Annotated[S.Domain | None, Query(description="One domain; absent: every domain of the project.")]


def _view(record: queries.SecretRecord) -> S.Secret:
    return S.Secret(name=record.name, project=record.project, domain=record.domain,  # type: ignore[arg-type]
                    created_at=record.created_at, updated_at=record.updated_at)


def _check_name(name: str) -> None:
    problem = secrets.name_problem(name)
    if problem:
        raise InvalidField(problem, field="name")


def _check_value(value: str) -> None:
    checks.check_json(value, "value")
    problem = secrets.value_problem(value)
    if problem:
        raise InvalidField(f"`value`: {problem}", field="value")


@router.post("/secrets", name="create_secret", status_code=201,
             responses={**_ERRORS, 409: S.ERROR_RESPONSES[409]})
def create_secret(body: S.SecretCreate, svc: Svc) -> S.Secret:
    """Store a secret (encrypted); 409 if the project (or its domain) has one of that name.
    Without `domain`, tasks of every domain of the project read it."""
    _check_name(body.name)
    _check_value(body.value)
    token = secrets.encrypt(body.value, svc.settings.home)
    with svc.db.session() as s:
        record = queries.create_secret(s, project=body.project, domain=body.domain, name=body.name,
                                       encrypted_value=token)
    return _view(record)


@router.put("/secrets", name="put_secret", status_code=200,
            responses={**_ERRORS, 201: {"model": S.Secret, "description": "Created: there was none."}})
def put_secret(body: S.SecretCreate, svc: Svc, response: Response) -> S.Secret:
    """Replace a secret's value (200), or store it if there is none (201)."""
    _check_name(body.name)
    _check_value(body.value)
    token = secrets.encrypt(body.value, svc.settings.home)
    with svc.db.session() as s:
        record, created = queries.put_secret(s, project=body.project, domain=body.domain, name=body.name,
                                             encrypted_value=token)
    if created:
        response.status_code = 201
    return _view(record)


@router.get("/secrets", name="list_secrets", responses=_ERRORS)
def list_secrets(svc: Svc, project: ProjectQ = "default", domain: DomainQ = None) -> S.SecretList:
    """The project's secrets by name, with their scope and dates; with `domain`, those its
    tasks read (that domain's and those of every domain)."""
    with svc.db.session(readonly=True) as s:
        return S.SecretList(secrets=[_view(r) for r in queries.list_secrets(s, project, domain)])


@router.delete("/secrets", name="delete_secret", status_code=204, response_class=Response,
               responses=_ERRORS)
def delete_secret(name: SecretName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = None) -> Response:
    """Delete the secret `name` of exactly this scope (without `domain`: the one of every domain)."""
    _check_name(name)
    with svc.db.session() as s:
        queries.delete_secret(s, project=project, domain=domain, name=name)
    return Response(status_code=204)
