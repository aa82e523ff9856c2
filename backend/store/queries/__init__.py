"""Plain query functions: each takes a `Session` and returns frozen records.

    from plait.backend.store import queries as q
    with db.session() as s:
        record, created = q.register_entity(s, kind="task", ...)

The caller owns the transaction (`with db.session() as s:`). Writes that two
processes may race on are single statements whose WHERE clause carries the
condition (a compare-and-set on the lease, `INSERT ... ON CONFLICT`, a unique
partial index for the one SUCCEEDED attempt of a node), so they stay correct
on PostgreSQL at READ COMMITTED as on SQLite. Functions that read the clock
take `now=` (aware UTC) so that tests can move it.
"""

from ..errors import Conflict, InvalidRequest, NotFound
from ._common import MAX_LIMIT, UNSET, validate_domain, validate_project_name
from .cache import cache_extend, cache_get, cache_put, cache_release, cache_reserve
from .catalog import (
    ensure_project,
    get_bundle,
    get_entity,
    get_project,
    list_entities,
    list_projects,
    list_versions,
    put_bundle,
    register_entity,
    set_archived,
)
from .executions import (
    EXECUTION_FILTERS,
    claim_executions,
    count_queued,
    create_execution,
    get_execution,
    list_executions,
    new_execution_id,
    recent_executions,
    release_lease,
    renew_lease,
    request_abort,
    set_execution_phase,
)
from .journal import (
    attempt_begin,
    attempt_end,
    attempts_end,
    attempts_insert,
    node_transition,
    nodes_upsert,
)
from .nodes import (
    finish_attempt,
    get_attempt,
    get_node,
    list_attempts,
    list_nodes,
    node_entity_versions,
    recent_node_runs,
    start_attempt,
    upsert_node,
)
from .secrets import (
    SecretRecord,
    create_secret,
    delete_secret,
    list_secrets,
    put_secret,
    secret_names,
    secret_tokens,
)

__all__ = [
    "attempt_begin",
    "attempt_end",
    "attempts_end",
    "attempts_insert",
    "node_transition",
    "nodes_upsert",
    "EXECUTION_FILTERS",
    "MAX_LIMIT",
    "UNSET",
    "Conflict",
    "InvalidRequest",
    "NotFound",
    "cache_extend",
    "cache_get",
    "cache_put",
    "cache_release",
    "cache_reserve",
    "SecretRecord",
    "create_secret",
    "delete_secret",
    "list_secrets",
    "put_secret",
    "secret_names",
    "secret_tokens",
    "claim_executions",
    "count_queued",
    "create_execution",
    "ensure_project",
    "finish_attempt",
    "get_attempt",
    "get_bundle",
    "get_entity",
    "get_execution",
    "get_node",
    "get_project",
    "list_attempts",
    "list_entities",
    "list_executions",
    "list_nodes",
    "list_projects",
    "list_versions",
    "new_execution_id",
    "node_entity_versions",
    "put_bundle",
    "recent_executions",
    "recent_node_runs",
    "register_entity",
    "release_lease",
    "renew_lease",
    "request_abort",
    "set_archived",
    "set_execution_phase",
    "start_attempt",
    "upsert_node",
    "validate_domain",
    "validate_project_name",
]
