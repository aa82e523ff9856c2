"""Launch plan concurrency: may one more execution of a launch plan start now?

    with db.session() as s:
        ok, active = admit_launch_plan(s, project, domain, name, policy)
        if ok:
            create_execution(s, ..., launch_plan_name=name, ...)

The count and the insert must be one transaction, or two launches that both
count two active executions under a limit of three would both start. On
PostgreSQL `admit_launch_plan` takes a transaction-scoped advisory lock keyed
by the plan's project/domain/name, so concurrent launches of one plan queue
for it until the launching transaction commits (or rolls back); launches of
other plans do not wait. On SQLite every write transaction begins with
`BEGIN IMMEDIATE` (see db.py), so writers are already one at a time. No table
is needed either way.

Active executions are those not ended (QUEUED or RUNNING) launched from the
plan's project/domain/name, whatever their version: the policy of the version
being launched decides, as the `ConcurrencyPolicy` docstring says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from plait.config.concurrency import ConcurrencyPolicy
from plait.model.vocab import ENDED
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..models import Execution


def policy_of(settings: Mapping[str, Any] | None) -> ConcurrencyPolicy | None:
    """The `ConcurrencyPolicy` of a launch plan spec's settings (`LaunchPlanSpec.settings`), or None."""
    found = (settings or {}).get("concurrency")
    if not isinstance(found, Mapping) or found.get("max_concurrency") is None:
        return None
    return ConcurrencyPolicy.from_spec(found)


def lock_key(project: str, domain: str, name: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory locks, the same in every process."""
    digest = hashlib.sha256(f"plait-launch-plan\0{project}\0{domain}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_launch_plan(session: Session, project: str, domain: str, name: str) -> None:
    """Hold the plan's launch lock until the session's transaction ends (PostgreSQL; SQLite's
    writers are serial already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(project, domain, name)})


def count_active(session: Session, project: str, domain: str, name: str) -> int:
    """Executions launched from the plan `name` (any version) that have not ended."""
    return int(session.scalar(
        select(func.count()).select_from(Execution).where(
            Execution.project == project, Execution.domain == domain,
            Execution.launch_plan_name == name, Execution.phase.not_in(sorted(ENDED)),
        )
    ) or 0)


def admit_launch_plan(
    session: Session, project: str, domain: str, name: str, policy: ConcurrencyPolicy | None,
) -> tuple[bool, int]:
    """(whether one more execution of the plan may be created, how many are active now).

    Call it in the transaction that then creates the execution: it takes the
    plan's launch lock, so the count stays true until that transaction ends.
    Without a policy it admits at once and counts nothing (-1).
    """
    if policy is None:
        return True, -1
    lock_launch_plan(session, project, domain, name)
    active = count_active(session, project, domain, name)
    return policy.allows(active), active


def limit_message(name: str, project: str, domain: str, policy: ConcurrencyPolicy, active: int) -> str:
    """Why a launch of the plan was skipped, and what to do about it."""
    return (
        f"Concurrency limit ({policy.max_concurrency}) reached for launch plan {name} "
        f"in {project}/{domain}: {active} of its executions (across all versions) are queued or "
        "running, and its ConcurrencyPolicy skips launches over the limit; launch again when one "
        "ends, or register a version with a higher max_concurrency"
    )
