"""Which upstream path a proxied request may reach: one below its prefix, nothing else."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


class RefusedPath(ValueError):
    """A proxied path that could lead somewhere other than the application behind the prefix."""


def checked_tail(scope: dict[str, Any], prefix: str) -> str:
    """The request's path below `prefix` as the client encoded it, or RefusedPath.

    The raw path is read (not the decoded one), so `%2e%2e` and `%2f` are seen for
    what they are: a `.` or `..` segment, an empty segment (`//`), a backslash or a
    control character, plain or percent-encoded, is refused."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    path = path.split("?", 1)[0]
    if not path.startswith(prefix):
        raise RefusedPath(f"the paths here start with {prefix}, found {path!r} (encoded)")
    tail = path[len(prefix):]
    segments = tail.split("/")
    for i, segment in enumerate(segments):
        if segment == "" and i != len(segments) - 1:
            raise RefusedPath(f"{path!r} has an empty segment (`//`), which no application here has")
        decoded = unquote(segment)
        if _CONTROL.search(decoded) or _CONTROL.search(segment):
            raise RefusedPath(f"{path!r} has a backslash or a control character")
        if any(part in (".", "..") for part in decoded.split("/")):
            raise RefusedPath(f"{path!r} has a `.` or `..` segment (maybe percent-encoded), which "
                              "could leave the application")
    return tail


def target_url(base: str, tail: str, query: bytes | str = b"") -> str:
    """`base` + `/` + `tail` (+ the query), checked to stay on base's scheme, host and port."""
    query_text = query.decode("latin-1") if isinstance(query, bytes) else query
    target = f"{base.rstrip('/')}/{tail}" + (f"?{query_text}" if query_text else "")
    want, got = urlsplit(base), urlsplit(target)
    if (got.scheme, got.hostname, got.port) != (want.scheme, want.hostname, want.port):
        raise RefusedPath(f"the path {tail!r} would leave {base}")
    return target
