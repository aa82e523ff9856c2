"""Executions filtered by the labels and annotations they were launched with.

Labels and annotations are kept in an execution's `settings` JSON (`labels`,
`annotations`: string to string), merged from the launch plan's and the
request's. `parse_pairs` reads the `label=key=value` filters of the executions
list; `executions.list_executions(labels=..., annotations=...)` applies them
(each `key=value` given must match, all of them, as Flyte's filters do).
"""

from __future__ import annotations

import re

from ..errors import InvalidRequest

# Label and annotation keys as Kubernetes allows them (an optional `prefix/` and a name).
_KEY = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$")


def parse_pairs(field: str, given: list[str] | None) -> dict[str, str]:
    """`["team=ml", "tier=gold"]` as a dict; an InvalidRequest naming any item that is not
    `key=value` with a key that a label or annotation could have."""
    out: dict[str, str] = {}
    for item in given or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidRequest(
                f"{field} filter {item!r} is not `key=value`; write e.g. `{field}=team=ml`",
                kind="filter", name=field,
            )
        if not _KEY.match(key):
            raise InvalidRequest(
                f"{field} filter {item!r}: `{key}` cannot be a {field} key (letters, digits, `.`, `_`, "
                "`-` and `/`, starting and ending with a letter or digit)", kind="filter", name=field,
            )
        out[key] = value
    return out
