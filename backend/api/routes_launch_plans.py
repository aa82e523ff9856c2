"""Launch plan activation and schedule runs.

At most one version of a launch plan is active; only the active version's
schedule fires. These routes activate and deactivate versions, show a plan's
state (its schedule in words and its next five ticks) and the ticks the
scheduler handled (launched, skipped, failed, missed).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query

from ..execution.scheduler import ScheduleError, parse_schedule
from ..store import queries
from ..store.queries import launch_plans as lpq
from . import schemas as S
from .deps import Svc
from .errors import InvalidField

router = APIRouter(prefix="/api/v1", tags=["entities"], responses={401: S.ERROR_RESPONSES[401]})

PlanName = Annotated[str, Path(min_length=1, max_length=255, description="The launch plan's name.")]
PlanVersion = Annotated[str, Path(min_length=1, max_length=128)]
ProjectQ = Annotated[str, Query(pattern=S.PROJECT_PATTERN)]
DomainQ = Annotated[S.Domain, Query()]
_ERRORS: dict[int | str, dict[str, Any]] = {404: S.ERROR_RESPONSES[404], 422: S.ERROR_RESPONSES[422]}
NEXT_TIMES = 5


def state_view(s: object, state: lpq.LaunchPlanStateRecord, version: str | None = None,
               now: dt.datetime | None = None) -> S.LaunchPlanState:
    """The plan's state with the schedule of its active version (else `version`, else the newest)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    shown = state.active_version or version
    record = queries.get_entity(s, "launch_plan", state.project, state.domain, state.name, shown)  # type: ignore[arg-type]
    schedule_view, error = None, None
    try:
        schedule = parse_schedule(record.spec.get("schedule"), owner=f"launch plan `{state.name}`")
    except ScheduleError as exc:
        schedule, error = None, str(exc)
    if schedule is not None:
        active = state.active_version == record.version
        anchor = state.activated_at if active and state.activated_at else now
        schedule_view = S.ScheduleView(
            kind=schedule.kind,  # type: ignore[arg-type]
            description=schedule.describe(), expression=schedule.expression,
            time_zone=schedule.zone or "UTC", kickoff_time_input_arg=schedule.kickoff_arg,
            catch_up=(state.catch_up or schedule.catch_up or "skip"),  # type: ignore[arg-type]
            next_times=schedule.next_times(now, NEXT_TIMES, anchor=anchor),
        )
    return S.LaunchPlanState(
        project=state.project, domain=state.domain, name=state.name,  # type: ignore[arg-type]
        active_version=state.active_version, activated_at=state.activated_at if state.active_version else None,
        version=record.version, schedule=schedule_view, schedule_error=error, last_tick=state.last_tick,
    )


@router.get("/launch_plans/{name}/state", name="get_launch_plan_state", responses=_ERRORS)
def get_launch_plan_state(
    name: PlanName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development",
    version: Annotated[str | None, Query(min_length=1, max_length=128,
                                         description="Describe this version's schedule when none is active.")] = None,
) -> S.LaunchPlanState:
    """Which version is active, the schedule in words and its next five ticks (UTC)."""
    with svc.db.session(readonly=True) as s:
        return state_view(s, lpq.get_launch_plan_state(s, project, domain, name), version)


@router.post("/launch_plans/{name}/versions/{version}/activate", name="activate_launch_plan", responses=_ERRORS)
def activate_launch_plan(
    name: PlanName, version: PlanVersion, svc: Svc, project: ProjectQ = "default",
    domain: DomainQ = "development", body: Annotated[S.LaunchPlanActivate | None, Body()] = None,
) -> S.LaunchPlanState:
    """Make this version the active one; the version that was active stops being active.

    Its schedule (if it has one) fires from now on: from inactive, the first tick after now;
    from another active version, the next tick the old one did not fire (no tick fires twice).
    """
    with svc.db.session() as s:
        record = queries.get_entity(s, "launch_plan", project, domain, name, version)
        try:
            parse_schedule(record.spec.get("schedule"), owner=f"launch plan `{name}` version `{version}`")
        except ScheduleError as exc:
            raise InvalidField(f"{exc}; register a version with a schedule that can be followed",
                               field="schedule") from None
        state = lpq.activate_launch_plan(s, project, domain, name, version,
                                         catch_up=body.catch_up if body else None)
        return state_view(s, state)


@router.post("/launch_plans/{name}/versions/{version}/deactivate", name="deactivate_launch_plan_version",
             responses=_ERRORS)
def deactivate_launch_plan_version(
    name: PlanName, version: PlanVersion, svc: Svc, project: ProjectQ = "default",
    domain: DomainQ = "development",
) -> S.LaunchPlanState:
    """Deactivate this version if it is the active one (otherwise nothing changes); its schedule
    fires no further tick."""
    with svc.db.session() as s:
        return state_view(s, lpq.deactivate_launch_plan(s, project, domain, name, version), version)


@router.post("/launch_plans/{name}/deactivate", name="deactivate_launch_plan", responses=_ERRORS)
def deactivate_launch_plan(
    name: PlanName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development",
) -> S.LaunchPlanState:
    """Deactivate whichever version is active; the plan's schedule fires no further tick."""
    with svc.db.session() as s:
        return state_view(s, lpq.deactivate_launch_plan(s, project, domain, name))


@router.get("/launch_plans/{name}/schedule_runs", name="list_schedule_runs", responses=_ERRORS)
def list_schedule_runs(
    name: PlanName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development",
    outcome: S.ScheduleOutcome | None = None,
    limit: Annotated[int, Query(ge=1, le=S.MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=S.MAX_OFFSET)] = 0,
) -> S.ScheduleRunList:
    """The plan's handled ticks, newest first: launched (with the execution), skipped by the
    concurrency policy, failed to launch (why), or missed while the backend was down."""
    with svc.db.session(readonly=True) as s:
        found = lpq.list_schedule_runs(s, project, domain, name, outcome=outcome, limit=limit + 1,
                                       offset=offset)
    items = [S.ScheduleRun(name=r.name, version=r.version, tick=r.tick, outcome=r.outcome,  # type: ignore[arg-type]
                           execution_id=r.execution_id, detail=r.detail, recorded_at=r.recorded_at)
             for r in found]
    return S.ScheduleRunList(items=items[:limit], limit=limit, offset=offset,
                             next_offset=offset + limit if len(items) > limit else None)
