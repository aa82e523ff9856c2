"""Putting a proxied request on the wire: HTTP (any method, streamed both ways) and WebSocket.

What the browser sends passes on, except the hop-by-hop headers, the server's
own credentials (`Authorization`, and the cookies named in `drop_cookies`) and
`Host`/`Origin`, which are set to the upstream's: the application sees a
request to itself (code-server compares the two on its WebSocket), while the
proxy has already decided who may send it. Answers pass back, with a redirect
to one of the application's own absolute paths made relative to the page that
asked, so the browser stays below the proxy's prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from .paths import target_url

if TYPE_CHECKING:
    import ssl

    import aiohttp

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "content-length", "host"}
NOT_FORWARDED = HOP_BY_HOP | {"authorization", "cookie", "origin", "x-forwarded-for", "x-forwarded-host",
                              "x-forwarded-proto", "forwarded"}
TIMEOUT_S = 60.0
BUFFERED_MAX = 256 * 1024  # answers up to this size are read whole, larger ones streamed
MAX_MESSAGE = 256 * 1024 * 1024
Traffic = Callable[[], None]

_clients: dict[tuple[int, int], Any] = {}


def problem(status: int, code: str, message: str) -> Response:
    """The API's error shape, for what the proxy itself refuses."""
    return Response(json.dumps({"error": code, "message": message}), status_code=status,
                    media_type="application/json")


def _session(context: ssl.SSLContext | None) -> aiohttp.ClientSession:
    """One pooled aiohttp session per event loop (and SSL context): kept-alive connections to the
    upstreams, no cookie jar (the session is shared by every user of the proxy), and bodies
    passed as they come (still compressed, when they are)."""
    import aiohttp

    key = (id(asyncio.get_running_loop()), id(context))
    session = _clients.get(key)
    if session is None or session.closed:
        connector = aiohttp.TCPConnector(limit=200, ssl=context if context is not None else True)
        session = aiohttp.ClientSession(connector=connector, auto_decompress=False,
                                        cookie_jar=aiohttp.DummyCookieJar(),
                                        timeout=aiohttp.ClientTimeout(total=None, connect=5.0, sock_read=TIMEOUT_S))
        _clients[key] = session
    return session


def _cookies_without(header: str, names: Iterable[str]) -> str:
    drop = set(names)
    kept = []
    for part in header.split(";"):
        name = part.split("=", 1)[0].strip()
        if name and name not in drop:
            kept.append(part.strip())
    return "; ".join(kept)


@dataclass(frozen=True)
class Passing:
    """What of the browser's request reaches the application besides its own headers.

    `only`: just these headers, nothing else (the Dask dashboard). `drop_cookies`: the
    server's own cookies, never passed. `authorization`: pass the Authorization header (an
    app that checks its own API keys); otherwise it is the server's token and stays here.
    `origin`: send the upstream's own origin (code-server compares it with the host);
    otherwise none (Bokeh and Panel check an origin only when one is sent).
    `extra`: headers the proxy adds (X-Forwarded-Prefix)."""

    only: tuple[str, ...] | None = None
    drop_cookies: tuple[str, ...] = ()
    authorization: bool = False
    origin: bool = True
    extra: tuple[tuple[str, str], ...] = ()


DEFAULT = Passing()


def request_headers(headers: Iterable[tuple[str, str]], base: str, passing: Passing = DEFAULT) -> list[
        tuple[str, str]]:
    """The headers sent upstream: the browser's, less hop-by-hop ones and the server's credentials."""
    headers = list(headers)
    if passing.only is not None:
        wanted = set(passing.only)
        return [(k, v) for k, v in headers if k.lower() in wanted]
    out = [(k, v) for k, v in headers if k.lower() not in NOT_FORWARDED]
    if passing.authorization:
        out += [(k, v) for k, v in headers if k.lower() == "authorization"]
    cookies = "; ".join(v for k, v in headers if k.lower() == "cookie")
    kept = _cookies_without(cookies, passing.drop_cookies) if cookies else ""
    if kept:
        out.append(("cookie", kept))
    if passing.origin:
        parts = urlsplit(base)
        out.append(("origin", f"{parts.scheme}://{parts.netloc}"))
    out += list(passing.extra)
    return out


def relative_location(location: str, base: str, tail: str) -> str:
    """A redirect to a path of the application, made relative to the page that asked (so it
    stays below the proxy's prefix); any other location as it is."""
    parts = urlsplit(location)
    if parts.netloc and (parts.scheme, parts.netloc) != urlsplit(base)[:2]:
        return location
    if not parts.path.startswith("/"):
        return location
    relative = "../" * tail.count("/") + parts.path.lstrip("/")
    return (relative or "./") + (f"?{parts.query}" if parts.query else "")


def _without_cookie_domain(value: str) -> str:
    """A Set-Cookie of the application, without a Domain attribute (the browser sees the proxy's host)."""
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(value)
    except Exception:  # noqa: BLE001 - an odd cookie passes as it is
        return value
    if not any(morsel["domain"] for morsel in cookie.values()):
        return value
    for morsel in cookie.values():
        morsel["domain"] = ""
    return cookie.output(header="").strip()


async def forward_http(request: Request, base: str, tail: str, *, context: ssl.SSLContext | None = None,
                       passing: Passing = DEFAULT, on_traffic: Traffic | None = None) -> Response:
    """Send the request to `base`/`tail` and stream the answer back (502 if it does not answer)."""
    import aiohttp

    target = target_url(base, tail, request.scope.get("query_string", b""))
    headers = request_headers(request.headers.items(), base, passing)
    body = request.stream() if request.method not in ("GET", "HEAD", "OPTIONS") else None
    try:
        upstream = await _session(context).request(request.method, target, headers=headers, data=body,
                                                   allow_redirects=False,
                                                   skip_auto_headers=("User-Agent", "Accept-Encoding"))
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        return problem(502, "unavailable", f"the application behind {request.url.path} did not answer "
                                           f"({type(exc).__name__}); see its log")
    if on_traffic is not None:
        on_traffic()
    answer = []
    for raw_key, raw_value in upstream.raw_headers:
        lower = raw_key.decode("latin-1").lower()
        if lower in HOP_BY_HOP:
            continue
        if lower == "location":
            raw_value = relative_location(raw_value.decode("latin-1"), base, tail).encode("latin-1")
        elif lower == "set-cookie":
            raw_value = _without_cookie_domain(raw_value.decode("latin-1")).encode("latin-1")
        answer.append((lower.encode("latin-1"), raw_value))
    length = upstream.content_length
    if request.method == "HEAD" or (length is not None and length <= BUFFERED_MAX):
        whole_body = b"" if request.method == "HEAD" else await upstream.read()  # as sent: still encoded
        upstream.release()  # small: one write, none of streaming's per-chunk work
        whole = Response(whole_body, status_code=upstream.status)
        whole.raw_headers = [*answer, *([(b"content-length", str(length).encode())] if length is not None else [])]
        return whole

    async def chunks() -> Any:
        async for chunk in upstream.content.iter_any():
            yield chunk

    response = StreamingResponse(chunks(), status_code=upstream.status, background=BackgroundTask(upstream.release))
    response.raw_headers = answer
    return response


async def forward_socket(websocket: WebSocket, base: str, tail: str, *, context: ssl.SSLContext | None = None,
                         passing: Passing = DEFAULT, on_traffic: Traffic | None = None) -> None:
    """Connect to the application's WebSocket at `base`/`tail` (ws:// or wss://) and pass frames
    both ways until either side closes; the close code is passed on."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    target = target_url(base, tail, websocket.scope.get("query_string", b""))
    subprotocols = list(websocket.scope.get("subprotocols") or [])
    http_base = base.replace("ws", "http", 1)
    headers = {k: v for k, v in request_headers(websocket.headers.items(), http_base, passing)
               if k.lower() not in ("sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
                                    "sec-websocket-protocol")}
    try:
        upstream = await asyncio.wait_for(
            websocket_connect(HTTPRequest(target, headers=headers, ssl_options=context,
                                          request_timeout=TIMEOUT_S),
                              subprotocols=subprotocols or None, max_message_size=MAX_MESSAGE), TIMEOUT_S)
    except Exception:  # noqa: BLE001 - the application refused or did not answer
        await websocket.close(code=1011)
        return
    await websocket.accept(subprotocol=upstream.selected_subprotocol)
    closed_with: list[int] = []

    async def down() -> None:  # application -> browser
        while True:
            message = await upstream.read_message()
            if message is None:
                if upstream.close_code:
                    closed_with.append(upstream.close_code)
                return
            if on_traffic is not None:
                on_traffic()
            if isinstance(message, bytes):
                await websocket.send_bytes(message)
            else:
                await websocket.send_text(message)

    async def up() -> None:  # browser -> application
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if on_traffic is not None:
                on_traffic()
            if message.get("bytes") is not None:
                await upstream.write_message(message["bytes"], binary=True)
            elif message.get("text") is not None:
                await upstream.write_message(message["text"])

    tasks = [asyncio.ensure_future(down()), asyncio.ensure_future(up())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                await task
        upstream.close()
        code = closed_with[0] if closed_with and closed_with[0] in _SENDABLE else 1000
        with contextlib.suppress(Exception):
            await websocket.close(code=code)


_SENDABLE = {1000, 1001, 1002, 1003, *range(1007, 1015), *range(3000, 5000)}
