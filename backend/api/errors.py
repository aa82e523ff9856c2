"""One table from exceptions to HTTP statuses, and the JSON body every error has.

Routes raise plait and store exceptions; `install(app)` turns each into its
status and an `ErrorBody`. Exceptions not in the table are bugs: they reach
Starlette's plain 500 and the server log, never the client as text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from plait.errors import InputError, PlatformError, TypeMismatchError, UserError
from plait.model import SpecError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..store.errors import Conflict, InvalidRequest, NotFound


class InvalidField(UserError, ValueError):
    """A request field has a value the server cannot accept (a spec, a Python version)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class TooLarge(InvalidField):
    """A request (an upload, or what it expands to) is larger than the server accepts: a 413."""


class Busy(PlatformError):
    """Too many executions wait in a project: a 429 that says when to try again."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ConcurrencyLimited(Busy):
    """A launch plan's ConcurrencyPolicy refuses the launch: a 429 a client should not wait out
    (the executions holding the limit may run for hours); the message names the limit."""


@dataclass(frozen=True)
class Problem:
    """One input that cannot be used: its name, the declared type and what was given."""

    input: str
    expected: str | None
    found: str | None
    message: str


class InputProblems(InputError):
    """Execution inputs that are missing, unknown, fixed or of the wrong type."""

    def __init__(self, entity: str, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.entity = entity
        self.problems = problems


# exception class -> (HTTP status, error code). Starlette picks the entry of the
# nearest class in an exception's MRO, so subclasses may refine their parents.
ERROR_TABLE: dict[type[BaseException], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    InvalidRequest: (422, "invalid_request"),
    InvalidField: (422, "invalid_field"),
    TooLarge: (413, "too_large"),
    SpecError: (422, "invalid_spec"),
    InputError: (422, "invalid_input"),
    InputProblems: (422, "invalid_input"),
    TypeMismatchError: (422, "type_mismatch"),
    UserError: (400, "bad_request"),
    Busy: (429, "busy"),
    ConcurrencyLimited: (429, "concurrency_limit"),
    PlatformError: (503, "unavailable"),
}


def status_of(exc: BaseException) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in ERROR_TABLE:
            return ERROR_TABLE[cls]
    raise LookupError(f"{type(exc).__name__} has no entry in the error table")


def body_of(exc: BaseException, code: str) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": str(exc)}
    if isinstance(exc, InvalidField):
        body["field"] = exc.field
    if isinstance(exc, InputProblems):
        first = exc.problems[0]
        body.update(input=first.input, expected=first.expected, found=first.found)
        body["problems"] = [asdict(p) for p in exc.problems]
    elif isinstance(exc, TypeMismatchError):
        body.update(input=exc.name, expected=exc.expected, found=exc.found)
    return body


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    status, code = status_of(exc)
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, Busy) else None
    return JSONResponse(body_of(exc, code), status_code=status, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    problems = [
        {"field": _location(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))} for e in errors
    ]
    first = problems[0] if problems else {"field": "", "message": "invalid request"}
    message = f"`{first['field']}`: {first['message']}" if first["field"] else first["message"]
    body = {"error": "invalid_request", "message": message, "field": first["field"], "problems": problems}
    return JSONResponse(body, status_code=422)


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    body = {"error": codes.get(exc.status_code, "http_error"), "message": str(exc.detail)}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def install(app: FastAPI) -> None:
    """Register the table's handlers (and a JSON body for FastAPI's own errors)."""
    for cls in ERROR_TABLE:
        app.add_exception_handler(cls, _handle)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
