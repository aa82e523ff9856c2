"""Every request needs `Authorization: Bearer <token>`, the OpenAPI document and docs too.

A plain ASGI middleware rather than a route dependency, so that nothing the
app serves (including FastAPI's own /openapi.json and /docs, and 404s for
unknown paths) answers without the token. The comparison takes constant time.
"""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Receive, Scope, Send

UNAUTHORIZED_BODY = json.dumps(
    {
        "error": "unauthorized",
        "message": "this server needs an `Authorization: Bearer <token>` header with its token",
    }
).encode()


def token_matches(header: bytes | None, token: bytes) -> bool:
    """Whether an Authorization header carries exactly `token`, compared in constant time."""
    if header is None:
        return False
    scheme, _, value = header.partition(b" ")
    if scheme.lower() != b"bearer":
        return False
    return hmac.compare_digest(value.strip(), token)


class BearerAuth:
    """Answers 401 (JSON, nothing else) to any HTTP or WebSocket request without the token.

    Below `own_auth` prefixes (the proxied browser applications) the route decides,
    because a browser tab brings a session cookie (or the link's ticket) instead of
    the header: such a request passes with `scope["plait.bearer"]` saying whether
    the header carried the token, and the route checks the cookie. A prefix mapped
    to `"session"` lets through only a request that has a cookie or a ticket (the
    workspaces); `"route"` lets every request through (apps, which may be public)."""

    def __init__(self, app: ASGIApp, token: str, own_auth: dict[str, str] | None = None) -> None:
        if not token:
            raise ValueError("the API token is empty; refusing to serve without authentication")
        self.app = app
        self._token = token.encode()
        self._own_auth = dict(own_auth or {})

    def _route_decides(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        for prefix, rule in self._own_auth.items():
            if path.startswith(prefix):
                if rule == "route":
                    return True
                cookie = b"; ".join(v for k, v in scope.get("headers", ()) if k == b"cookie")
                return b"plait-session=" in cookie or b"ticket=" in scope.get("query_string", b"")
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan
            return
        header = next((v for k, v in scope.get("headers", ()) if k == b"authorization"), None)
        if token_matches(header, self._token):
            scope["plait.bearer"] = True
            await self.app(scope, receive, send)
            return
        if self._own_auth and self._route_decides(scope):
            scope["plait.bearer"] = False
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(UNAUTHORIZED_BODY)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": UNAUTHORIZED_BODY})
