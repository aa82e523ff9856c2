"""Which calls the lab forwards to the backend, and the upstream URL of each.

The browser's path is matched as the backend would read it, so that nothing
means one thing here and another there: the raw path (still percent-encoded) is
split on `/`, each segment is decoded once and must then be a plain name (no
separator, `?`, `#`, `%` or `;` in it, not `.` or `..`, not empty, nothing that
Unicode normalisation changes, no control characters). The decoded segments
are matched against the method and route templates the panels use, and the
upstream path is built from the template with each parameter quoted again:
what the browser sent is never pasted into the backend's URL. Each route passes
on only the query parameters it takes (others are dropped); Jupyter's own
`token` and `_xsrf` never reach the backend.

Nothing here knows tornado or HTTP clients: `match`, `dask_target` and
`proxied_target` (a workspace's or an app's pages) take the method, the raw
path and the raw query and return a `Forward` or a `Refusal`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote

API = "/api/v1"
MAX_PATH = 4096  # characters of the raw path: the longest real one is well under 1,000
MAX_QUERY = 8192
JUPYTER_PARAMETERS = frozenset({"token", "_xsrf"})  # Jupyter's login: never for the backend
ADVICE = "the backend's full API is reached with `plait.Remote` or the CLI"

_ENTITY_QUERY = ("project", "domain", "version")
_LIST_QUERY = ("project", "domain", "name_contains", "archived", "workflow", "limit", "offset")
_SCOPE_QUERY = ("project", "domain")
_EXECUTIONS_QUERY = ("project", "domain", "name", "search", "kind", "launch_plan", "phase",
                     "parent_execution_id", "label", "annotation", "limit", "offset")
# Execution names and node paths are letters, digits, `-`, `_` and `.` (`abc12`, `n2-n0-3`).
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,511}")
_FORBIDDEN = frozenset("/\\?#%;")
# What the lab forwards under /plait/<kind>/<project>/<domain>/<name>/, to the backend's own proxy
# of it at /<kind>/...: a workspace's code-server, an app's web server (kind -> what one is called).
PROXIED = {"workspaces": "workspace", "apps": "app"}
# Their project, domain and name as they appear in the proxied path.
_PROXIED_PART = re.compile(r"[A-Za-z0-9_-]+")
# Characters a workspace's path keeps unquoted (RFC 3986 sub-delimiters, `:` and `@`; never `;`,
# which `_segment_problem` refuses): code-server's resources are named with them (`@vscode`).
_PATH_SAFE = "@:!$&'()*+,="


@dataclass(frozen=True)
class Route:
    """`method template`, with the query parameters the backend's route takes."""

    method: str
    template: tuple[str, ...]
    query: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return f"{self.method} {'/'.join(self.template)}"


def _route(method: str, template: str, query: tuple[str, ...] = ()) -> Route:
    return Route(method, tuple(template.split("/")), frozenset(query))


def _entity_routes(plural: str) -> list[Route]:
    return [
        _route("GET", plural, _LIST_QUERY),
        _route("GET", f"{plural}/{{name}}", _ENTITY_QUERY),
        _route("GET", f"{plural}/{{name}}/versions", ("project", "domain", "limit", "offset")),
        _route("GET", f"{plural}/{{name}}/dag", _ENTITY_QUERY),
        _route("POST", f"{plural}/{{name}}/archive", ("project", "domain")),
        _route("POST", f"{plural}/{{name}}/unarchive", ("project", "domain")),
    ]


# The routes the panels use. Registration, uploads and project creation stay with
# the CLI and `plait.Remote`: the lab never writes code into the backend.
ROUTES: tuple[Route, ...] = (
    _route("GET", "health"),
    _route("GET", "projects"),
    *_entity_routes("tasks"),
    *_entity_routes("workflows"),
    *_entity_routes("launch_plans"),
    _route("GET", "launch_plans/{name}/state", ("project", "domain", "version")),
    _route("GET", "launch_plans/{name}/schedule_runs", ("project", "domain", "outcome", "limit", "offset")),
    _route("POST", "launch_plans/{name}/versions/{version}/activate", ("project", "domain")),
    _route("POST", "launch_plans/{name}/deactivate", ("project", "domain")),
    _route("GET", "executions", _EXECUTIONS_QUERY),
    _route("POST", "executions"),
    _route("GET", "executions/{id}"),
    _route("GET", "executions/{id}/nodes"),
    _route("GET", "executions/{id}/nodes/{path}/logs", ("attempt", "offset", "max_bytes")),
    _route("POST", "executions/{id}/abort"),
    _route("POST", "executions/{id}/relaunch"),
    _route("POST", "executions/{id}/recover"),
    _route("POST", "executions/{id}/rerun"),
    # The execution view's form for a waiting gate: what it waits for, and giving it its value.
    _route("GET", "executions/{id}/signals"),
    _route("POST", "executions/{id}/signals/{name}"),
    _route("GET", "data", ("uri",)),
    # The Artifacts tab, the artifact view and the artifacts of an execution (read only).
    _route("GET", "artifacts", ("project", "domain", "name_contains", "limit", "offset")),
    _route("GET", "artifacts/{name}/versions",
           ("project", "domain", "partition", "time_from", "time_to", "execution", "limit", "offset")),
    _route("GET", "artifacts/{name}/versions/{version}", ("project", "domain")),
    _route("GET", "artifacts/{name}/versions/{version}/lineage", ("project", "domain", "depth")),
    _route("GET", "executions/{execution_id}/artifacts"),
    # The Workspaces tab, the workspace view and "Debug in a workspace" on a failed node.
    _route("GET", "workspaces", ("project", "domain", "active", "archived", "sort")),
    _route("POST", "workspaces"),
    _route("GET", "workspaces/{name}", _SCOPE_QUERY),
    _route("PUT", "workspaces/{name}", _SCOPE_QUERY),
    _route("POST", "workspaces/{name}/start", _SCOPE_QUERY),
    _route("POST", "workspaces/{name}/stop", _SCOPE_QUERY),
    _route("POST", "workspaces/{name}/archive", _SCOPE_QUERY),
    _route("POST", "workspaces/{name}/unarchive", _SCOPE_QUERY),
    _route("GET", "workspaces/{name}/log", ("project", "domain", "tail")),
    _route("POST", "executions/{id}/nodes/{node_id}/debug"),
    # The Apps tab and the app view (deploys stay with the CLI and `plait.Remote`).
    _route("GET", "apps", _SCOPE_QUERY),
    _route("GET", "apps/{name}", _SCOPE_QUERY),
    _route("POST", "apps/{name}/start", _SCOPE_QUERY),
    _route("POST", "apps/{name}/stop", _SCOPE_QUERY),
    _route("GET", "apps/{name}/logs", ("project", "domain", "replica", "tail")),
    _route("GET", "apps/{name}/events", ("project", "domain", "limit")),
)


@dataclass(frozen=True)
class Forward:
    """Send `method` to the backend's `path` (quoted, under /api/v1) with `query`."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    route: Route | None = None


@dataclass(frozen=True)
class Refusal:
    """Answer `status` with `{"error": error, "message": message}`; nothing reaches the backend."""

    status: int
    error: str
    message: str


def match(method: str, raw_path: str, raw_query: str = "") -> Forward | Refusal:
    """The forward for `method /plait/api/<raw_path>?<raw_query>`, or why there is none."""
    shown = f"{method} /plait/api/{raw_path[:200]}{'…' if len(raw_path) > 200 else ''}"
    segments = _segments(raw_path, shown)
    if isinstance(segments, Refusal):
        return segments
    route = _find(method, segments)
    if route is None:
        allowed = sorted({r.method for r in ROUTES if _fits(r.template, segments)})
        also = f" (this path takes {', '.join(allowed)})" if allowed else ""
        return Refusal(404, "not_found", f"{shown} is not a route the lab panels use{also}; {ADVICE}")
    query = _query(raw_query, shown, route.query)
    if isinstance(query, Refusal):
        return query
    return Forward(method, _upstream(segments), query, route)


def dask_target(raw_path: str, raw_query: str = "") -> Forward | Refusal:
    """`GET /plait/api/dask/<raw_path>` → the backend's `/api/v1/dask/<path>` (the Dask dashboard)."""
    shown = f"GET /plait/api/dask/{raw_path[:200]}"
    if raw_path == "":
        segments: list[str] = []
    else:
        # A worker's page names it by its address, encoded: `info/worker/tls%3A%2F%2F...html`.
        parsed = _segments(raw_path, shown, encoded_slash=True)
        if isinstance(parsed, Refusal):
            return parsed
        segments = parsed
    query = _query(raw_query, shown, None)
    if isinstance(query, Refusal):
        return query
    return Forward("GET", _upstream(["dask", *segments]) + ("/" if not segments else ""), query)


def proxied_target(kind: str, raw_path: str, raw_query: str = "") -> Forward | Refusal:
    """`/plait/<kind>/<raw_path>` → the backend's `/<kind>/<project>/<domain>/<name>/<path>`.

    `kind` is one of `PROXIED`: `workspaces` (a workspace's code-server) or
    `apps` (an app's web server). Any method: the Forward's method is left to
    the caller. The first three segments name the workspace or app (letters,
    digits, `-`, `_`); the rest is its own path (pages, resources and
    WebSockets), each segment a plain name as for the API, except that the last
    may be empty (a trailing `/`, which folder pages and apps' roots use). Every
    query parameter but Jupyter's own is passed on: their URLs carry their own.
    """
    noun = PROXIED[kind]
    shown = f"/plait/{kind}/{raw_path[:200]}{'…' if len(raw_path) > 200 else ''}"
    parts = raw_path.split("/", 3)
    if len(parts) < 3:
        return Refusal(404, "not_found", f"{shown} names no {noun}; the lab forwards "
                       f"/plait/{kind}/<project>/<domain>/<name>/<path>")
    scope = parts[:3]
    for label, part in zip(("project", "domain", "name"), scope, strict=True):
        if not _PROXIED_PART.fullmatch(part):
            return Refusal(400, "bad_path", f"{shown} has the {noun} {label} `{part[:80]}`; a {noun}'s "
                           "project, domain and name are letters, digits, `-` and `_`")
    rest = parts[3] if len(parts) == 4 else None
    segments: list[str] = []
    trailing = False
    if rest:
        inner, trailing = (rest[:-1], True) if rest.endswith("/") else (rest, False)
        parsed = _segments(inner, shown)
        if isinstance(parsed, Refusal):
            return parsed
        segments = parsed
    query = _query(raw_query, shown, None)
    if isinstance(query, Refusal):
        return query
    path = f"/{kind}/" + "/".join(scope)
    if rest is not None:
        path += "/" + "/".join(quote(s, safe=_PATH_SAFE) for s in segments) + ("/" if trailing and segments else "")
    return Forward("", path, query)


def proxied_prefix(forward: Forward) -> str:
    """The backend's `/<kind>/<project>/<domain>/<name>/` of a `proxied_target` forward."""
    return "/".join(forward.path.split("/")[:5]) + "/"


def _segments(raw_path: str, shown: str, encoded_slash: bool = False) -> list[str] | Refusal:
    """The decoded segments of `raw_path`, or why it cannot be forwarded. With `encoded_slash`
    a segment may hold an encoded `/` (it stays encoded upstream), never as a `.`/`..` step."""
    if len(raw_path) > MAX_PATH:
        return Refusal(414, "path_too_long", f"the path of {shown} is {len(raw_path)} characters; the "
                       f"lab forwards paths of at most {MAX_PATH}")
    segments = []
    for raw in raw_path.split("/"):
        problem = _segment_problem(raw, encoded_slash)
        if problem:
            found = "an empty path segment (a `//` or a trailing `/`)" if raw == "" else \
                f"the path segment `{raw[:80]}`, which {problem}"
            return Refusal(400, "bad_path", f"{shown} has {found}; the lab forwards paths of plain names, "
                           "each percent-encoded once (no `.` or `..` segments, no encoded separators)")
        segments.append(unquote(raw, errors="strict"))
    return segments


def _segment_problem(raw: str, encoded_slash: bool = False) -> str | None:
    """Why the raw path segment `raw` cannot be forwarded, or None."""
    if raw == "":
        return "is empty"
    try:
        text = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return "does not decode to UTF-8 text"
    bad = sorted(set(text) & (_FORBIDDEN - {"/"} if encoded_slash else _FORBIDDEN))
    if bad:
        return f"holds {' '.join(f'`{c}`' for c in bad)} once decoded"
    if text in (".", "..") or (encoded_slash and any(part in (".", "..") for part in text.split("/"))):
        return "is a relative path step"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text):
        return "contains a control or invisible character"
    if unicodedata.normalize("NFKC", text) != text:
        return f"changes under Unicode normalisation (to `{unicodedata.normalize('NFKC', text)}`)"
    return None


def _fits(template: tuple[str, ...], segments: list[str]) -> bool:
    if len(template) != len(segments):
        return False
    for part, value in zip(template, segments, strict=True):
        if part.startswith("{"):
            if part in ("{id}", "{execution_id}", "{path}", "{node_id}") and not _ID.fullmatch(value):
                return False
        elif part != value:
            return False
    return True


def _find(method: str, segments: list[str]) -> Route | None:
    return next((r for r in ROUTES if r.method == method and _fits(r.template, segments)), None)


def _query(raw_query: str, shown: str, accepted: frozenset[str] | None) -> tuple[tuple[str, str], ...] | Refusal:
    """The query parameters to pass on: those in `accepted` (None: any), never Jupyter's own."""
    if len(raw_query) > MAX_QUERY:
        return Refusal(414, "query_too_long", f"the query of {shown} is {len(raw_query)} characters; the "
                       f"lab forwards queries of at most {MAX_QUERY}")
    try:
        pairs = parse_qsl(raw_query, keep_blank_values=True, errors="strict", max_num_fields=200)
    except (UnicodeDecodeError, ValueError) as exc:
        return Refusal(400, "bad_query", f"the query of {shown} cannot be read ({exc})")
    # Anything else is left behind, not refused: JupyterLab adds a cache-busting
    # timestamp (`?1796520827982`) to every GET, and other clients add their own.
    return tuple((k, v) for k, v in pairs
                 if k not in JUPYTER_PARAMETERS and (accepted is None or k in accepted))


def _upstream(segments: list[str]) -> str:
    return f"{API}/" + "/".join(quote(s, safe="") for s in segments)
