"""The scheduler: fires every active scheduled launch plan on its ticks, each tick once.

(It also runs the artifact triggers of active plans: `plait.backend.artifacts.triggers`.)

A thread of the server (started with the executor). Each turn it loads the
active plans, works out which of their ticks are due since the last one
handled, and handles each due tick in one transaction: insert its
`schedule_runs` row (unique per project/domain/name/tick: if the row exists,
another scheduler handled the tick and this one does nothing), create the
execution, move the plan's `last_tick`. The execution is handed to the
executor after the commit.

Schedules are the launch plan spec's `schedule`:
- `{"kind": "cron", "schedule": "*/5 * * * *", ...}`: five fields with `?`,
  names, ranges and steps, or an alias (`@hourly`, `@daily`, `@weekly`,
  `@monthly`, `@yearly`); or the six-field AWS `cron_expression`. An optional
  `time_zone` (an IANA name such as "Europe/Paris", default UTC) reads the
  fields as that zone's wall clock: a local time that does not exist (spring
  forward) fires once at the first instant after the gap, a repeated one (fall
  back) fires once, at its first occurrence.
- `{"kind": "fixed_rate", "value": 10, "unit": "MINUTE"}` (MINUTE, HOUR, DAY;
  SECOND through the API): every period from the activation time.

Catch-up after downtime (the schedule's `catch_up`, or the one given when the
plan was activated): `skip` (default) fires only the newest due tick and only
if it is at most `grace_s` old; `latest` fires the newest due tick however
old; `all` fires every due tick, the newest `max_catch_up` at most. Ticks not
fired are recorded as `missed`, so they can be seen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from plait.config.schedules import CRON_ALIASES, CronSchedule
from plait.errors import UserError
from plait.model import LaunchPlanSpec, parse_spec
from sqlalchemy.exc import SQLAlchemyError

from ..artifacts.catalog import LaunchArtifacts
from ..artifacts.triggers import POLL_S as TRIGGER_POLL_S
from ..artifacts.triggers import ArtifactTriggers
from ..store import queries
from ..store.errors import NotFound
from ..store.models import utcnow
from ..store.queries import concurrency
from ..store.queries import launch_plans as lpq

log = logging.getLogger(__name__)

UTC = dt.timezone.utc
TURN_S = 1.0  # the longest the thread sleeps between turns
GRACE_S = 60.0  # `skip`: a tick this late still fires (PLAIT_SCHEDULE_GRACE_S)
MAX_CATCH_UP = 100  # `all`: at most this many missed ticks fire after downtime
MAX_MISSED_RECORDED = 1000  # missed ticks recorded one by one, newest first
MAX_TICKS_SCANNED = 100_000  # ticks enumerated in one turn for one plan
BATCH = 200  # ticks fired in one transaction
CATCH_UP_POLICIES = lpq.CATCH_UP_POLICIES
_UNITS = {"SECOND": dt.timedelta(seconds=1), "MINUTE": dt.timedelta(minutes=1),
          "HOUR": dt.timedelta(hours=1), "DAY": dt.timedelta(days=1)}
_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


class ScheduleError(UserError):
    """A schedule the scheduler cannot follow (a bad expression, unit or time zone)."""


# ------------------------------------------------------------------ schedules


@dataclass(frozen=True)
class Schedule:
    """A launch plan's schedule as the scheduler follows it."""

    kind: str  # cron | fixed_rate
    expression: str | None  # cron: five fields
    years: frozenset[int] | None  # cron_expression's year field
    period: dt.timedelta | None  # fixed_rate
    zone: str | None
    kickoff_arg: str | None
    catch_up: str | None

    @property
    def tz(self) -> dt.tzinfo:
        return ZoneInfo(self.zone) if self.zone else UTC

    def ticks(self, after: dt.datetime, until: dt.datetime, *, anchor: dt.datetime | None = None) -> Iterator[dt.datetime]:
        """Ticks (aware UTC) strictly after `after` and at most `until`, oldest first. A fixed
        rate counts periods from `anchor` (the activation time)."""
        if self.kind == "fixed_rate":
            assert self.period is not None
            start = anchor or after
            k = max(int((after - start) / self.period), 0)
            while True:
                tick = start + k * self.period
                if tick > until:
                    return
                if tick > after:
                    yield tick
                k += 1
        else:
            for tick in self._cron_after(after):
                if tick > until:
                    return
                yield tick

    def next_times(self, after: dt.datetime, n: int, *, anchor: dt.datetime | None = None) -> list[dt.datetime]:
        far = after + dt.timedelta(days=366 * 30)
        out = []
        for tick in self.ticks(after, far, anchor=anchor):
            out.append(tick)
            if len(out) == n:
                break
        return out

    def _cron_after(self, after: dt.datetime) -> Iterator[dt.datetime]:
        """Cron ticks after `after`: the fields are iterated on the zone's wall clock (naive),
        each wall time turned into the instant it first names; an instant not after the
        previous one (a wall time in a gap mapping onto the next) is left out."""
        from croniter import croniter  # type: ignore[import-untyped, unused-ignore]

        assert self.expression is not None
        tz = self.tz
        wall = after.astimezone(tz).replace(tzinfo=None)
        it = croniter(self.expression, wall - dt.timedelta(hours=3) if self.zone else wall)
        last = after
        for _ in range(MAX_TICKS_SCANNED * 10):
            local: dt.datetime = it.get_next(dt.datetime)
            if self.years is not None and local.year not in self.years:
                if local.year > max(self.years):
                    return
                continue
            instant = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
            if instant <= last:
                continue
            last = instant
            yield instant

    def describe(self) -> str:
        """The schedule in words, for people."""
        words = (self._cron_words() if self.kind == "cron" else f"every {_period_words(self.period)} "
                 "from the activation time")
        return f"{words} ({self.zone})" if self.zone else (f"{words} (UTC)" if self.kind == "cron" else words)

    def _cron_words(self) -> str:
        assert self.expression is not None
        fields = self.expression.split()
        if len(fields) != 5:
            return f"cron `{self.expression}`"
        minute, hour, dom, month, dow = fields
        if fields == ["*"] * 5:
            return "every minute"
        if minute.startswith("*/") and [hour, dom, month, dow] == ["*"] * 4:
            return f"every {minute[2:]} minutes"
        if minute.isdigit() and [hour, dom, month, dow] == ["*"] * 4:
            return f"every hour at minute {int(minute)}"
        if minute.isdigit() and hour.isdigit():
            at = f"at {int(hour):02d}:{int(minute):02d}"
            if [dom, month, dow] == ["*"] * 3:
                return f"every day {at}"
            if [dom, month] == ["*", "*"] and dow.isdigit():
                return f"every {_DAYS[int(dow) % 7]} {at}"
            if dom.isdigit() and [month, dow] == ["*", "*"]:
                return f"on day {int(dom)} of every month {at}"
            if dom.isdigit() and month.isdigit() and dow == "*":
                return f"every year on {int(month)}/{int(dom)} (month/day) {at}"
        return f"cron `{self.expression}`"


def _period_words(period: dt.timedelta | None) -> str:
    assert period is not None
    seconds = int(period.total_seconds())
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds % size == 0:
            n = seconds // size
            return f"{unit}" if n == 1 else f"{n} {unit}s"
    return f"{seconds} seconds"


def parse_schedule(spec: Any, *, owner: str = "launch plan") -> Schedule | None:
    """The schedule of a launch plan spec's `schedule` setting; None without one.
    ScheduleError names what is wrong and how to write it."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise ScheduleError(f"{owner}: expected the schedule as an object with a `kind` (cron or fixed_rate), "
                            f"found {type(spec).__name__}")
    zone = spec.get("time_zone") or spec.get("timezone") or None
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(f"{owner}: unknown time zone {zone!r}; use an IANA name such as "
                                "'Europe/Paris' or 'America/New_York', or leave it out for UTC") from None
    catch_up = spec.get("catch_up")
    if catch_up is not None and catch_up not in CATCH_UP_POLICIES:
        raise ScheduleError(f"{owner}: unknown catch-up policy {catch_up!r}; expected one of "
                            f"{', '.join(CATCH_UP_POLICIES)}")
    kickoff = spec.get("kickoff_time_input_arg")
    if spec.get("kind") == "cron":
        try:
            cron = CronSchedule.from_spec(spec)
        except UserError as exc:
            raise ScheduleError(f"{owner}: {exc}") from None
        if cron.schedule is not None:
            five = CRON_ALIASES.get(cron.schedule.strip().lower(), cron.schedule).replace("?", "*")
            years = None
        else:
            five, found = cron._parts()  # the AWS form: five fields and the years it allows
            years = frozenset(found) if found is not None else None
        return Schedule("cron", five, years, None, zone, kickoff, catch_up)
    if spec.get("kind") == "fixed_rate":
        unit, value = spec.get("unit"), spec.get("value")
        if unit not in _UNITS or not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ScheduleError(f"{owner}: a fixed rate needs a whole `value` of at least 1 and a `unit` of "
                                f"{', '.join(_UNITS)}, found value {value!r} and unit {unit!r}")
        return Schedule("fixed_rate", None, None, value * _UNITS[unit], zone, kickoff, catch_up)
    raise ScheduleError(f"{owner}: unknown schedule kind {spec.get('kind')!r}; expected cron or fixed_rate")


def execution_name(project: str, domain: str, plan: str, tick: dt.datetime) -> str:
    """The execution a tick creates: named by the plan and the tick, so the same tick always
    names the same execution (at most 64 characters, as execution names are)."""
    slug = re.sub(r"[^a-z0-9]+", "-", plan.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = f"lp-{slug}".rstrip("-")
    digest = hashlib.sha256(f"{project}/{domain}/{plan}".encode()).hexdigest()[:6]
    stamp = tick.astimezone(UTC).strftime("%Y%m%dt%H%M%S")
    return f"{slug[:40].rstrip('-')}-{stamp}-{digest}"


# ------------------------------------------------------------------ firing


@dataclass(frozen=True)
class Handled:
    """What one turn did with one tick."""

    name: str
    tick: dt.datetime
    outcome: str
    execution_id: str | None = None
    detail: str | None = None


class ConcurrencyRefused(Exception):
    """The plan's concurrency policy refused a scheduled launch (`active`: the plan's queued or
    running executions then)."""

    def __init__(self, message: str, active: int) -> None:
        super().__init__(message)
        self.active = active


class Scheduler:
    """Fires due ticks of active scheduled launch plans (`turn`), in a thread (`start`)."""

    def __init__(self, db: Any, submit: Callable[[str], None], *, cluster: Any = None, storage: Any = None,
                 clock: Callable[[], dt.datetime] = utcnow, grace_s: float | None = None,
                 max_catch_up: int = MAX_CATCH_UP, turn_s: float = TURN_S) -> None:
        self.db = db
        self.submit = submit
        self.cluster = cluster  # the cluster file whose pools run tasks (None: not checked here)
        self.storage = storage  # the object store (raw output prefixes are checked against it)
        self.clock = clock
        env_grace = os.environ.get("PLAIT_SCHEDULE_GRACE_S")
        self.grace = dt.timedelta(seconds=grace_s if grace_s is not None else
                                  float(env_grace) if env_grace else GRACE_S)
        self.max_catch_up = max_catch_up
        self.turn_s = turn_s
        self._schedules: dict[tuple[str, str, str, str], Schedule | None] = {}
        self._waiting: dict[tuple[str, str, str], tuple[Any, dt.datetime | None]] = {}
        self._templates: dict[tuple[str, str, str, str], tuple[LaunchPlanSpec, Any, Any]] = {}
        self._handled: list[Handled] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.next_due: dt.datetime | None = None
        self.triggers = ArtifactTriggers(self, submit)  # plans that react to new artifact versions

    # -------------------------------------------------------------- the thread
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="plait-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.turn()
            except Exception:  # noqa: BLE001 - the next turn tries again; the log says why
                log.exception("the scheduler's turn failed")
            wait = min(self.turn_s, TRIGGER_POLL_S) if self.triggers.active else self.turn_s
            if self.next_due is not None:
                wait = min(wait, max((self.next_due - self.clock()).total_seconds(), 0.01))
            self._stopping.wait(wait)

    # -------------------------------------------------------------- one turn
    def turn(self, now: dt.datetime | None = None) -> list[Handled]:
        """Handle every due tick of every active scheduled plan; what was done, oldest first.

        A plan whose state has not changed since the last turn and whose next tick is still
        ahead costs a dictionary lookup: a thousand idle plans make a turn of milliseconds.
        """
        now = now or self.clock()
        with self.db.session(readonly=True) as s:
            plans = lpq.active_plans(s)
        self._handled = []
        try:
            self.triggers.turn(plans, now)
        except SQLAlchemyError:  # the next turn tries again; the scheduled ticks go on meanwhile
            log.exception("handling artifact triggers failed")
        firing: list[_Due] = []
        next_due: dt.datetime | None = None
        waiting: dict[tuple[str, str, str], tuple[Any, dt.datetime | None]] = {}
        for state in plans:
            key = (state.project, state.domain, state.name)
            mark = (state.active_version, state.activated_at, state.last_tick, state.catch_up)
            known = self._waiting.get(key)
            if known is not None and known[0] == mark and (known[1] is None or now < known[1]):
                upcoming: dt.datetime | None = known[1]
                waiting[key] = known
            else:
                try:
                    schedule = self._schedule(state)
                except (NotFound, ScheduleError) as exc:
                    log.debug("launch plan %s/%s/%s: %s", state.project, state.domain, state.name, exc)
                    schedule = None
                if schedule is None:
                    waiting[key] = (mark, None)
                    continue
                try:
                    done = self._plan(state, schedule, now)
                except Exception:  # noqa: BLE001 - one plan's trouble does not hold up the others
                    log.exception("launch plan %s/%s/%s: handling its ticks failed; trying again next turn",
                                  state.project, state.domain, state.name)
                    continue
                firing.extend(done)
                found = schedule.next_times(now, 1, anchor=state.activated_at)
                upcoming = found[0] if found else None
                if not done:  # nothing changed its state: remember when it is due next
                    waiting[key] = (mark, upcoming)
            if upcoming is not None and (next_due is None or upcoming < next_due):
                next_due = upcoming
        self._waiting = waiting
        self.next_due = next_due
        for start in range(0, len(firing), BATCH):
            self._handled.extend(self._fire_batch(firing[start:start + BATCH], now))
        handled, self._handled = self._handled, []
        return sorted(handled, key=lambda h: h.tick)

    def _schedule(self, state: lpq.LaunchPlanStateRecord) -> Schedule | None:
        """The schedule of the plan's active version, parsed once (versions never change)."""
        assert state.active_version is not None
        key = (state.project, state.domain, state.name, state.active_version)
        if key not in self._schedules:
            with self.db.session(readonly=True) as s:
                spec = lpq.launch_plan_spec(s, *key)
            self._schedules[key] = parse_schedule(spec.get("schedule"), owner=f"launch plan `{state.name}`")
        return self._schedules[key]

    def _plan(self, state: lpq.LaunchPlanStateRecord, schedule: Schedule, now: dt.datetime) -> list[_Due]:
        """The plan's ticks to fire now; the due ticks it will not fire are recorded as missed."""
        after = state.last_tick or state.activated_at or now
        due = list(_bounded(schedule.ticks(after, now, anchor=state.activated_at)))
        if not due:
            return []
        policy = state.catch_up or schedule.catch_up or "skip"
        if policy == "skip":
            fire = [due[-1]] if now - due[-1] <= self.grace else []
        elif policy == "latest":
            fire = [due[-1]]
        else:
            fire = due[-self.max_catch_up:]
        missed = [t for t in due if t not in set(fire)]
        if missed:
            self._handled.extend(self._record_missed(state, missed, policy, now))
        return [_Due(state, schedule, tick) for tick in fire]

    def _record_missed(self, state: lpq.LaunchPlanStateRecord, missed: list[dt.datetime], policy: str,
                       now: dt.datetime) -> list[Handled]:
        assert state.active_version is not None
        shown = missed[-MAX_MISSED_RECORDED:]
        why = {"skip": f"the scheduler was not running at this tick and it was more than "
                       f"{self.grace.total_seconds():g} s late (catch-up policy `skip`)",
               "latest": "a later tick was due when the scheduler ran again (catch-up policy `latest`)",
               "all": f"more than {self.max_catch_up} ticks were due when the scheduler ran again "
                      "(catch-up policy `all` fires the newest ones)"}[policy]
        out = []
        with self.db.session() as s:
            for i, tick in enumerate(shown):
                detail = why
                if i == 0 and len(missed) > len(shown):
                    detail += f"; {len(missed) - len(shown)} earlier missed ticks are not recorded"
                if lpq.record_tick(s, project=state.project, domain=state.domain, name=state.name,
                                   version=state.active_version, tick=tick, outcome="missed",
                                   detail=detail, now=now) is not None:
                    out.append(Handled(state.name, tick, "missed", detail=detail))
            if out:
                count = f"{len(out)} tick{'s' if len(out) != 1 else ''} missed: " if len(out) > 1 else ""
                self._notify(s, state.project, state.domain, state.name, state.active_version, out[-1].tick,
                             count + why)
            lpq.advance_last_tick(s, state.project, state.domain, state.name, missed[-1])
        return out

    def _notify(self, s: Any, project: str, domain: str, name: str, version: str, tick: dt.datetime,
                reason: str, active: int | None = None) -> None:
        """Queue the plan version's notifications for a tick that did not launch (skipped,
        failed or missed), in the transaction that records it; nothing without notifications."""
        try:
            notifications = queries.get_entity(s, "launch_plan", project, domain, name, version).spec.get(
                "notifications") or []
        except NotFound:
            return
        if not notifications:
            return
        from ..notify import notify_schedule_skipped

        notify_schedule_skipped(s, project=project, domain=domain, launch_plan_name=name,
                                launch_plan_version=version, notifications=notifications, tick=tick,
                                reason=reason, active=active)

    def _fire_batch(self, due: list[_Due], now: dt.datetime) -> list[Handled]:
        """Fire many plans' ticks in one transaction: their rows in one statement (the unique key
        keeps those another scheduler has), their executions in another, the plans' last ticks
        in a third. A tick whose launch needs more (a concurrency policy, or a launch that is
        refused, recorded with why) goes through `_fire`, one transaction each."""
        alone: list[_Due] = []
        fired: list[Handled] = []
        with self.db.session() as s:
            active = lpq.active_versions_of(s, sorted({(d.state.project, d.state.domain, d.state.name) for d in due}))
            launches: list[tuple[_Due, str, str, dict[str, Any]]] = []
            for d in sorted(due, key=lambda d: (d.state.project, d.state.domain, d.state.name, d.tick)):
                version = active.get((d.state.project, d.state.domain, d.state.name))
                if version is None:
                    continue  # deactivated since the turn began
                try:
                    row = self._prepare(s, d.state.project, d.state.domain, d.state.name, version,
                                        d.schedule, d.tick)
                except SQLAlchemyError:
                    raise
                except Exception:  # noqa: BLE001 - `_fire` records why, on its own
                    row = None
                if row is None:
                    alone.append(d)
                    continue
                launches.append((d, version, execution_name(d.state.project, d.state.domain, d.state.name,
                                                             d.tick), row))
            won = lpq.record_ticks(s, [
                dict(project=d.state.project, domain=d.state.domain, name=d.state.name, version=version,
                     tick=d.tick, outcome="launched", execution_id=eid, detail=None, recorded_at=now)
                for d, version, eid, _ in launches])
            mine = [(d, version, eid, row) for d, version, eid, row in launches
                    if (d.state.project, d.state.domain, d.state.name, d.tick) in won]
            lpq.create_scheduled_executions(s, [{**row, "id": eid, "created_at": now} for _, _, eid, row in mine])
            last: dict[tuple[str, str, str], dt.datetime] = {}
            for d, _, _, _ in launches:
                key = (d.state.project, d.state.domain, d.state.name)
                last[key] = max(d.tick, last.get(key, d.tick))
            lpq.advance_last_ticks(s, last)
        for d, _, eid, _ in mine:
            self.submit(eid)
            fired.append(Handled(d.state.name, d.tick, "launched", execution_id=eid))
        for d in alone:
            done = self._fire(d.state, d.schedule, d.tick, now)
            if done is not None:
                fired.append(done)
        return fired

    def _prepare(self, s: Any, project: str, domain: str, name: str, version: str, schedule: Schedule,
                 tick: dt.datetime) -> dict[str, Any] | None:
        """The execution row a plain launch of the tick inserts (without id and time), or None
        when the plan has a concurrency policy (its launch takes the plan's lock: `_fire`).
        Raises what a launch of the plan would be refused for."""
        from ..api import launching

        lp, target, interface = self._template(s, project, domain, name, version)
        if concurrency.policy_of(lp.settings) is not None:
            return None
        inputs, settings, found = self._inputs_and_settings(s, launching, lp, target, interface, project, domain,
                                                            schedule, tick)
        if found.resolved:
            return None  # its uses of artifact versions are recorded with the execution: `_fire`
        return dict(project=project, domain=domain, entity_kind=target.kind, entity_name=target.name,
                    entity_version=target.version, launch_plan_name=name, launch_plan_version=version,
                    inputs=inputs, settings=settings)

    def _fire(self, state: lpq.LaunchPlanStateRecord, schedule: Schedule, tick: dt.datetime,
              now: dt.datetime) -> Handled | None:
        """One tick in one transaction: its row, its execution, the plan's last tick. None if the
        tick was handled already or the plan is no longer active at this version."""
        execution_id = execution_name(state.project, state.domain, state.name, tick)
        with self.db.session() as s:
            current = lpq.get_launch_plan_state(s, state.project, state.domain, state.name)
            if current.active_version is None:
                return None  # deactivated since the turn began
            version = current.active_version
            run_id = lpq.record_tick(s, project=state.project, domain=state.domain, name=state.name,
                                     version=version, tick=tick, outcome="launched",
                                     execution_id=execution_id, now=now)
            if run_id is None:
                return None  # another scheduler handled this tick
            outcome, detail, refused = "launched", None, None
            try:
                with s.begin_nested():
                    self._launch(s, state.project, state.domain, state.name, version, schedule, tick,
                                 execution_id)
            except ConcurrencyRefused as exc:
                outcome, detail, refused = "skipped", str(exc), exc
            except SQLAlchemyError:
                raise  # the database failed, not the launch: the next turn tries the tick again
            except Exception as exc:  # noqa: BLE001 - recorded on the tick, which the user sees
                detail = str(exc) or type(exc).__name__
                # A refusal by the launch path's own concurrency check ("Concurrency limit (N)
                # reached for launch plan X") is a skip, as the scheduler's own check is.
                outcome = "skipped" if detail.startswith("Concurrency limit") else "failed"
            if outcome != "launched":
                lpq.set_tick_outcome(s, run_id, outcome, detail=detail)
                self._notify(s, state.project, state.domain, state.name, version, tick, detail or outcome,
                             getattr(refused, "active", None))
            lpq.advance_last_tick(s, state.project, state.domain, state.name, tick)
        if outcome == "launched":
            self.submit(execution_id)
            return Handled(state.name, tick, outcome, execution_id=execution_id)
        log.warning("launch plan %s/%s/%s tick %s %s: %s", state.project, state.domain, state.name,
                    tick.isoformat(), outcome, detail)
        return Handled(state.name, tick, outcome, detail=detail)

    def _launch(self, s: Any, project: str, domain: str, name: str, version: str, schedule: Schedule,
                tick: dt.datetime, execution_id: str) -> None:
        """Create the tick's QUEUED execution as a launch of the plan would, with the tick as
        the kickoff input; ConcurrencyRefused past the plan's concurrency limit."""
        from ..api import launching

        lp, target, interface = self._template(s, project, domain, name, version)
        inputs, settings, found = self._inputs_and_settings(s, launching, lp, target, interface, project, domain,
                                                            schedule, tick)
        # The plan's ConcurrencyPolicy, as every launch path applies it: the plan's launch lock
        # is held until this transaction commits, so the count stays true for the insert.
        policy = concurrency.policy_of(lp.settings)
        admitted, active = concurrency.admit_launch_plan(s, project, domain, name, policy)
        if not admitted:
            assert policy is not None
            raise ConcurrencyRefused(concurrency.limit_message(name, project, domain, policy, active), active)
        queries.create_execution(
            s, project=project, domain=domain, entity_kind=target.kind, entity_name=target.name,
            entity_version=target.version, inputs=inputs, settings=settings, id=execution_id,
            launch_plan_name=name, launch_plan_version=version,
        )
        found.note(execution_id)

    def _template(self, s: Any, project: str, domain: str, name: str, version: str) -> tuple[Any, Any, Any]:
        """(launch plan spec, workflow record, its interface) of a plan version: looked up once
        when the workflow is registered at the plan's version (versions never change)."""
        from ..api import launching

        key = (project, domain, name, version)
        template = self._templates.get(key)
        if template is None:
            lp = LaunchPlanSpec.from_dict(queries.get_entity(s, "launch_plan", *key).spec)
            exact = True
            try:  # the workflow registered with the plan, else its newest version (as a manual launch)
                target = queries.get_entity(s, "workflow", project, domain, lp.workflow, version)
            except NotFound:
                target, exact = queries.get_entity(s, "workflow", project, domain, lp.workflow), False
            # Pinned references exist or not for good (versions are never deleted): checked once.
            launching.check_references(s, project, domain, target.kind, target.name, target.version)
            template = (lp, target, parse_spec(target.spec).interface)
            if exact:  # a fallback to the newest workflow is looked up again next time
                self._templates[key] = template
        return template

    def _inputs_and_settings(self, s: Any, launching: Any, lp: Any, target: Any, interface: Any, project: str,
                             domain: str, schedule: Schedule, tick: dt.datetime) -> tuple[dict[str, Any],
                                                                                           dict[str, Any],
                                                                                           LaunchArtifacts]:
        """The execution's inputs (the tick as the kickoff input), settings and the artifact
        versions its query defaults found, as a launch of the plan makes them; raises what
        such a launch would be refused for."""
        given: dict[str, Any] = {}
        if schedule.kickoff_arg:
            given[schedule.kickoff_arg] = {"__datetime__": tick.astimezone(UTC).isoformat()}
        found = LaunchArtifacts(s, project, domain)
        inputs = launching.merge_inputs(target.name, interface, given, launch_plan=lp, artifacts=found)
        settings = launching.merge_settings(_NoSettings(), lp)
        settings.update({"artifact_inputs": found.summary()} if found.resolved else {})
        if self.storage is not None:
            settings["raw_output_prefix"] = launching.raw_output_prefix(settings.get("raw_output_prefix"),
                                                                        self.storage.uri("x")[:-1])
        launching.check_secrets(s, project, domain, target.kind, target.name, target.version)
        launching.check_pools(s, self.cluster, project, domain, target.kind, target.name, target.version,
                              settings)
        return inputs, settings, found


@dataclass(frozen=True)
class _Due:
    """A tick to fire."""

    state: lpq.LaunchPlanStateRecord
    schedule: Schedule
    tick: dt.datetime


class _NoSettings:
    """A launch request that sets no settings: the plan's own apply."""

    model_fields_set: frozenset[str] = frozenset()


def _bounded(ticks: Iterator[dt.datetime]) -> Iterator[dt.datetime]:
    for i, tick in enumerate(ticks):
        if i >= MAX_TICKS_SCANNED:
            return
        yield tick

