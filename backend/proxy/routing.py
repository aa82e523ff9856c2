"""What the proxied routes share: where a request goes, and whether it may go there.

    project, domain, name, prefix, tail = locate(scope, "/apps/")   # RefusedPath for a bad path
    if (answer := ticket_redirect(request, token, prefix, tail)) is not None:
        return answer                                             # a session link: cookie, then redirect
    if not allowed(scope, token, prefix): ...                     # the token, or that prefix's cookie
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from . import sessions
from .paths import RefusedPath, checked_tail


def locate(scope: dict[str, Any], root: str) -> tuple[str, str, str, str, str]:
    """(project, domain, name, prefix, tail) of a request below `root` (`/workspaces/`,
    `/apps/`): the three names must be plain (letters, digits, `-`, `_`) and the tail must stay
    below the prefix; RefusedPath otherwise."""
    raw = scope.get("raw_path")
    path = (raw.decode("latin-1") if raw else scope["path"]).split("?", 1)[0]
    parts = path[len(root):].split("/", 3)
    if len(parts) < 4 or not all(parts[:3]):
        raise RefusedPath(f"the path is {root}<project>/<domain>/<name>/..., found {path!r}")
    project, domain, name = parts[:3]
    for part in (project, domain, name):
        if not part.replace("-", "").replace("_", "").isalnum():
            raise RefusedPath(f"{part!r} is not a project, domain or name")
    prefix = f"{root}{project}/{domain}/{name}/"
    return project, domain, name, prefix, checked_tail(scope, prefix)


def allowed(scope: dict[str, Any], token: str, prefix: str) -> bool:
    """Whether the request carried the server's token, or the session cookie of `prefix`."""
    if scope.get("plait.bearer"):
        return True
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}
    return sessions.verify(token, "cookie", prefix, sessions.cookie_value(headers.get("cookie")))


def ticket_redirect(request: Request, token: str, prefix: str, tail: str) -> Response | None:
    """For a request with a valid session ticket of `prefix`: the cookie of that prefix and a
    redirect to the same address without the ticket; None otherwise."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    ticket = dict(parse_qsl(query, keep_blank_values=True)).get(sessions.TICKET_PARAM)
    if ticket is None or not sessions.verify(token, "ticket", prefix, ticket):
        return None
    rest = sessions.query_without_ticket(query)
    response = RedirectResponse(f"{prefix}{tail}" + (f"?{rest}" if rest else ""), status_code=303)
    response.headers.append("set-cookie", sessions.cookie_header(token, prefix, secure=request.url.scheme == "https"))
    return response
