"""Browser sessions for proxied applications: a signed link, then a cookie for one prefix.

A browser tab cannot send `Authorization: Bearer`. So a client that holds the
token asks for a link (`POST .../session`): the prefix with a `ticket` valid a
few minutes. The first request with a valid ticket gets a cookie for that
prefix only (HttpOnly, SameSite=Strict, so no other site's page can ride on it,
not even by opening a WebSocket), and a redirect to the same URL without the
ticket. Tickets and cookies are `<expiry>.<hmac>` over (purpose, prefix,
expiry) with a key derived from the server's token: no state to keep, valid in
every API process, and all of them void when the token is replaced.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qsl, urlencode

TICKET_S = 600
COOKIE_S = 12 * 3600
TICKET_PARAM = "ticket"
COOKIE = "plait-session"


def _key(token: str) -> bytes:
    return hmac.new(token.encode(), b"plait proxied application sessions v1", hashlib.sha256).digest()


def sign(token: str, purpose: str, prefix: str, *, ttl_s: int, now: float | None = None) -> str:
    expiry = int((time.time() if now is None else now) + ttl_s)
    mac = hmac.new(_key(token), f"{purpose}|{prefix}|{expiry}".encode(), hashlib.sha256).hexdigest()
    return f"{expiry}.{mac}"


def verify(token: str, purpose: str, prefix: str, value: str | None, *, now: float | None = None) -> bool:
    """Whether `value` was signed for this purpose and prefix and has not expired."""
    if not value or "." not in value:
        return False
    expiry_text, _, mac = value.partition(".")
    if not expiry_text.isdigit() or int(expiry_text) < (time.time() if now is None else now):
        return False
    want = hmac.new(_key(token), f"{purpose}|{prefix}|{expiry_text}".encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, mac)


def ticket_link(token: str, prefix: str) -> tuple[str, float]:
    """The link that opens `prefix` in a browser, and when it stops working (epoch seconds)."""
    value = sign(token, "ticket", prefix, ttl_s=TICKET_S)
    return f"{prefix}?{urlencode({TICKET_PARAM: value})}", float(value.split(".", 1)[0])


def link_for(token: str, prefix: str) -> dict[str, object]:
    """`{url, path, expires_at}` of a session link to `prefix` (the API's SessionLink)."""
    import datetime as dt

    url, expires = ticket_link(token, prefix)
    return {"url": url, "path": prefix, "expires_at": dt.datetime.fromtimestamp(expires, dt.timezone.utc)}


def cookie_header(token: str, prefix: str, *, secure: bool) -> str:
    value = sign(token, "cookie", prefix, ttl_s=COOKIE_S)
    return (f"{COOKIE}={value}; Path={prefix}; Max-Age={COOKIE_S}; HttpOnly; SameSite=Strict"
            + ("; Secure" if secure else ""))


def cookie_value(cookie_header_value: str | None) -> str | None:
    if not cookie_header_value:
        return None
    for part in cookie_header_value.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def query_without_ticket(query: str) -> str:
    return urlencode([(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != TICKET_PARAM])
