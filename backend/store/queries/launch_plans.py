"""Launch plan activation and the record of scheduled ticks.

At most one version of a launch plan (per project/domain/name) is active: the
state row names it, or none. Activating a version replaces the active one in
one statement; registering a new version leaves the state alone (unless the
spec says `auto_activate`, which the registration route turns into an
activation).

`record_tick` is the scheduler's guard: an `INSERT ... ON CONFLICT DO NOTHING`
on (project, domain, name, tick), so of two schedulers (two processes, or one
restarted after a crash) handling the same tick exactly one gets the row; the
other does nothing. The caller creates the execution in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from plait.model.vocab import QUEUED
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from ..models import Execution, LaunchPlanState, ScheduleRun
from ._common import check_page, dialect_insert, now_or, one_of, require_project, validate_domain
from .artifacts import newest_id as newest_artifact_id
from .catalog import get_entity

if TYPE_CHECKING:
    from sqlalchemy import Table

CATCH_UP_POLICIES = ("skip", "latest", "all")
OUTCOMES = ("launched", "skipped", "failed", "missed")


@dataclass(frozen=True, slots=True)
class LaunchPlanStateRecord:
    """The activation state of a launch plan. `active_version` None: no version is active."""

    project: str
    domain: str
    name: str
    active_version: str | None
    activated_at: dt.datetime | None
    catch_up: str | None  # given at activation; None: the schedule's own, else skip
    last_tick: dt.datetime | None
    updated_at: dt.datetime | None
    trigger_after: int | None = None  # an artifact trigger's cursor: newer versions are new to it


@dataclass(frozen=True, slots=True)
class ScheduleRunRecord:
    """One handled tick: launched (with its execution), skipped, failed or missed (with why)."""

    id: int
    project: str
    domain: str
    name: str
    version: str
    tick: dt.datetime
    outcome: str
    execution_id: str | None
    detail: str | None
    recorded_at: dt.datetime


def _state(row: LaunchPlanState) -> LaunchPlanStateRecord:
    return LaunchPlanStateRecord(row.project, row.domain, row.name, row.active_version, row.activated_at,
                                 row.catch_up, row.last_tick, row.updated_at, row.trigger_after)


def _run(row: ScheduleRun) -> ScheduleRunRecord:
    return ScheduleRunRecord(row.id, row.project, row.domain, row.name, row.version, row.tick, row.outcome,
                             row.execution_id, row.detail, row.recorded_at)


def check_catch_up(policy: str) -> str:
    return one_of("catch-up policy", policy, CATCH_UP_POLICIES)


def get_launch_plan_state(s: Session, project: str, domain: str, name: str) -> LaunchPlanStateRecord:
    """The plan's state; a plan never activated has no active version (NotFound if no version
    of it is registered)."""
    validate_domain(domain)
    row = s.get(LaunchPlanState, (project, domain, name), populate_existing=True)
    if row is not None:
        return _state(row)
    get_entity(s, "launch_plan", project, domain, name)
    return LaunchPlanStateRecord(project, domain, name, None, None, None, None, None)


def activate_launch_plan(s: Session, project: str, domain: str, name: str, version: str, *,
                         catch_up: str | None = None, now: dt.datetime | None = None) -> LaunchPlanStateRecord:
    """Make `version` the active one (any other active version of the plan stops being active).

    Activating the version that is already active changes nothing but the catch-up policy, if
    given. Activating from inactive starts the schedule now: ticks before it are not due. A
    switch from one active version to another keeps `last_tick`, so no tick fires twice and
    none in between is lost. NotFound if the version is not registered.
    """
    validate_domain(domain)
    require_project(s, project)
    get_entity(s, "launch_plan", project, domain, name, version)
    if catch_up is not None:
        check_catch_up(catch_up)
    when = now_or(now)
    seen = newest_artifact_id(s)  # an artifact trigger reacts to versions made from now on
    insert = dialect_insert(s, LaunchPlanState).values(
        project=project, domain=domain, name=name, active_version=version, activated_at=when,
        catch_up=catch_up, last_tick=when, updated_at=when, trigger_after=seen,
    )
    s.execute(insert.on_conflict_do_nothing(
        index_elements=[LaunchPlanState.project, LaunchPlanState.domain, LaunchPlanState.name]))
    row = s.execute(select(LaunchPlanState).where(
        LaunchPlanState.project == project, LaunchPlanState.domain == domain, LaunchPlanState.name == name,
    ).with_for_update().execution_options(populate_existing=True)).scalar_one()
    if row.active_version != version:
        if row.active_version is None:
            row.last_tick = when
            row.trigger_after = seen
        row.active_version = version
        row.activated_at = when
    if catch_up is not None:
        row.catch_up = catch_up
    row.updated_at = when
    s.flush()
    return _state(row)


def deactivate_launch_plan(s: Session, project: str, domain: str, name: str, version: str | None = None, *,
                           now: dt.datetime | None = None) -> LaunchPlanStateRecord:
    """No version of the plan is active any more; its schedule stops before the next tick.

    With `version`, only if that version is the active one (deactivating an inactive version
    changes nothing). NotFound if the plan (or that version) is not registered.
    """
    validate_domain(domain)
    get_entity(s, "launch_plan", project, domain, name, version)
    when = now_or(now)
    stmt = update(LaunchPlanState).where(
        LaunchPlanState.project == project, LaunchPlanState.domain == domain, LaunchPlanState.name == name,
        LaunchPlanState.active_version.is_not(None),
    )
    if version is not None:
        stmt = stmt.where(LaunchPlanState.active_version == version)
    s.execute(stmt.values(active_version=None, updated_at=when))
    return get_launch_plan_state(s, project, domain, name)


def active_plans(s: Session) -> list[LaunchPlanStateRecord]:
    """Every launch plan with an active version, in any project and domain."""
    rows = s.scalars(select(LaunchPlanState).where(LaunchPlanState.active_version.is_not(None))
                     .execution_options(populate_existing=True))
    return [_state(row) for row in rows]


def active_versions(s: Session, project: str, domain: str, names: list[str]) -> dict[str, str]:
    """name -> active version, for those of `names` that have one."""
    if not names:
        return {}
    rows = s.execute(select(LaunchPlanState.name, LaunchPlanState.active_version).where(
        LaunchPlanState.project == project, LaunchPlanState.domain == domain, LaunchPlanState.name.in_(names),
        LaunchPlanState.active_version.is_not(None)))
    return {name: version for name, version in rows if version is not None}


def advance_last_tick(s: Session, project: str, domain: str, name: str, tick: dt.datetime) -> None:
    """The plan's ticks up to `tick` are handled (never moves backwards)."""
    s.execute(update(LaunchPlanState).where(
        LaunchPlanState.project == project, LaunchPlanState.domain == domain, LaunchPlanState.name == name,
        (LaunchPlanState.last_tick.is_(None)) | (LaunchPlanState.last_tick < tick),
    ).values(last_tick=tick))


def record_tick(s: Session, *, project: str, domain: str, name: str, version: str, tick: dt.datetime,
                outcome: str, execution_id: str | None = None, detail: str | None = None,
                now: dt.datetime | None = None) -> int | None:
    """Record how a tick was handled; its row id, or None if the tick was handled already
    (by this or another scheduler): then the caller must do nothing for it."""
    one_of("schedule run outcome", outcome, OUTCOMES)
    stmt = dialect_insert(s, ScheduleRun).values(
        project=project, domain=domain, name=name, version=version, tick=tick, outcome=outcome,
        execution_id=execution_id, detail=detail, recorded_at=now_or(now),
    ).on_conflict_do_nothing(
        index_elements=[ScheduleRun.project, ScheduleRun.domain, ScheduleRun.name, ScheduleRun.tick],
    ).returning(ScheduleRun.id)
    found: int | None = s.execute(stmt).scalar_one_or_none()
    return found


def set_tick_outcome(s: Session, run_id: int, outcome: str, *, execution_id: str | None = None,
                     detail: str | None = None) -> None:
    """Change a recorded tick's outcome (a launch that turned out refused or failed)."""
    one_of("schedule run outcome", outcome, OUTCOMES)
    s.execute(update(ScheduleRun).where(ScheduleRun.id == run_id)
              .values(outcome=outcome, execution_id=execution_id, detail=detail))


def list_schedule_runs(s: Session, project: str, domain: str, name: str, *, outcome: str | None = None,
                       limit: int = 100, offset: int = 0) -> list[ScheduleRunRecord]:
    """A plan's handled ticks, newest tick first (NotFound if the plan is not registered)."""
    check_page(limit, offset)
    validate_domain(domain)
    query = select(ScheduleRun).where(ScheduleRun.project == project, ScheduleRun.domain == domain,
                                      ScheduleRun.name == name)
    if outcome is not None:
        query = query.where(ScheduleRun.outcome == one_of("schedule run outcome", outcome, OUTCOMES))
    rows = list(s.scalars(query.order_by(ScheduleRun.tick.desc()).limit(limit).offset(offset)))
    if not rows:
        get_entity(s, "launch_plan", project, domain, name)
    return [_run(row) for row in rows]


def launch_plan_spec(s: Session, project: str, domain: str, name: str, version: str) -> dict[str, object]:
    """The stored spec of one launch plan version (NotFound if it is not registered)."""
    return get_entity(s, "launch_plan", project, domain, name, version).spec



# ------------------------------------------------------------------ many ticks at once (the scheduler's turn)


def active_versions_of(s: Session, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
    """(project, domain, name) -> active version, for those of `keys` that have one."""
    if not keys:
        return {}
    rows = s.execute(select(LaunchPlanState.project, LaunchPlanState.domain, LaunchPlanState.name,
                            LaunchPlanState.active_version).where(
        LaunchPlanState.name.in_(sorted({k[2] for k in keys})), LaunchPlanState.active_version.is_not(None)))
    wanted = set(keys)
    return {(p, d, n): v for p, d, n, v in rows if (p, d, n) in wanted and v is not None}


def record_ticks(s: Session, rows: list[dict[str, Any]]) -> set[tuple[str, str, str, dt.datetime]]:
    """Record many handled ticks in one statement; the (project, domain, name, tick) of those
    this call recorded. A tick recorded already (by this or another scheduler) is left alone
    and not returned: its launch is not this caller's to make."""
    if not rows:
        return set()
    for row in rows:
        one_of("schedule run outcome", row["outcome"], OUTCOMES)
    stmt = dialect_insert(s, ScheduleRun).values(rows).on_conflict_do_nothing(
        index_elements=[ScheduleRun.project, ScheduleRun.domain, ScheduleRun.name, ScheduleRun.tick],
    ).returning(ScheduleRun.project, ScheduleRun.domain, ScheduleRun.name, ScheduleRun.tick)
    return {(p, d, n, t) for p, d, n, t in s.execute(stmt)}


def create_scheduled_executions(s: Session, rows: list[dict[str, Any]]) -> None:
    """Insert QUEUED executions (each row: id, project, domain, entity_kind, entity_name,
    entity_version, launch_plan_name, launch_plan_version, inputs, settings, created_at) in one
    statement: the launches of a scheduler's turn, checked as a launch is checked before."""
    if not rows:
        return
    s.execute(dialect_insert(s, Execution).values([
        {**row, "phase": QUEUED, "outputs": None, "error": None, "parent_execution_id": None,
         "parent_node_path": None, "abort_requested": False} for row in rows]))


def advance_last_ticks(s: Session, last: dict[tuple[str, str, str], dt.datetime]) -> None:
    """`advance_last_tick` for many plans, in one statement run for each."""
    if not last:
        return
    table = cast("Table", LaunchPlanState.__table__)
    stmt = update(table).where(
        table.c.project == bindparam("p"), table.c.domain == bindparam("d"), table.c.name == bindparam("n"),
        or_(table.c.last_tick.is_(None), table.c.last_tick < bindparam("t")),
    ).values(last_tick=bindparam("t"))
    s.execute(stmt, [{"p": p, "d": d, "n": n, "t": t} for (p, d, n), t in sorted(last.items())])


def advance_trigger(s: Session, project: str, domain: str, name: str, artifact_id: int) -> None:
    """The plan's artifact trigger has handled the versions up to `artifact_id`."""
    s.execute(update(LaunchPlanState).where(
        LaunchPlanState.project == project, LaunchPlanState.domain == domain, LaunchPlanState.name == name,
        or_(LaunchPlanState.trigger_after.is_(None), LaunchPlanState.trigger_after < artifact_id),
    ).values(trigger_after=artifact_id))
