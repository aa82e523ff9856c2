"""When a launch plan runs by itself: cron schedules and fixed rates.

Times are UTC. `next_after(dt)` gives the first run strictly after `dt`; a
naive `dt` is read as UTC and the answer is naive too, an aware one comes back
in its own time zone. `croniter` is imported only when a cron string is checked
or iterated, so `import plait` does not pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ..errors import InputError, TypeMismatchError

# Alias -> the five-field expression it stands for (Flyte also takes the bare words).
CRON_ALIASES: dict[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@hourly": "0 * * * *",
}
for _word, _plural in (
    ("yearly", "years"),
    ("annually", None),
    ("monthly", "months"),
    ("weekly", "weeks"),
    ("daily", "days"),
    ("hourly", "hours"),
):
    CRON_ALIASES[_word] = CRON_ALIASES[f"@{_word}"]
    if _plural:
        CRON_ALIASES[_plural] = CRON_ALIASES[f"@{_word}"]

_FIELDS = "minute hour day-of-month month day-of-week"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_kickoff_arg(owner: str, name: Any) -> None:
    if name is not None and (not isinstance(name, str) or not _IDENTIFIER.match(name)):
        raise InputError(
            f"{owner}: expected kickoff_time_input_arg to name a workflow input such as "
            f"'kickoff_time', got {name!r}; pass the input's name as a str"
        )


def _to_utc(dt: datetime, owner: str) -> datetime:
    if not isinstance(dt, datetime):
        raise TypeMismatchError(
            f"{owner}.next_after({dt!r}): expected a datetime, got {type(dt).__name__}",
            entity=owner,
            expected="datetime",
            found=type(dt).__name__,
        )
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def _back(result: datetime, like: datetime) -> datetime:
    return result.replace(tzinfo=None) if like.tzinfo is None else result.astimezone(like.tzinfo)


def _aws_to_five(expr: str) -> tuple[str, str]:
    """Split a six-field AWS expression into a croniter expression and its year field."""
    minute, hour, dom, month, dow, year = expr.split()
    # AWS numbers days of the week 1-7 from Sunday; croniter 0-6.
    dow = re.sub(r"(?<![#/\d])(\d+)", lambda m: str(int(m[1]) - 1), dow)
    five = " ".join((minute, hour, dom, month, dow)).replace("?", "*")
    return five, year


def _years(field: str) -> set[int] | None:
    """The years an AWS year field allows (None: any year)."""
    if field in ("*", "?"):
        return None
    years: set[int] = set()
    for part in field.split(","):
        m = re.fullmatch(r"(\d{4}|\*)(?:-(\d{4}))?(?:/(\d+))?", part)
        if m is None:
            raise ValueError(part)
        start = 1970 if m[1] == "*" else int(m[1])
        stop = int(m[2]) if m[2] else (2199 if m[3] or m[1] == "*" else start)
        years.update(range(start, stop + 1, int(m[3] or 1)))
    return years


@dataclass(frozen=True)
class CronSchedule:
    """Run on a cron schedule: `CronSchedule(schedule="0 10 * * 1")` or an alias like "@daily".

    `cron_expression` takes the older six-field AWS form (with a year and a
    '?' in day-of-month or day-of-week); prefer `schedule`.
    """

    schedule: str | None = None
    kickoff_time_input_arg: str | None = None
    cron_expression: str | None = None

    def __post_init__(self) -> None:
        owner = self._owner()
        if (self.schedule is None) == (self.cron_expression is None):
            raise InputError(
                f"{owner}: expected exactly one of schedule or cron_expression, got "
                f"{'both' if self.schedule is not None else 'neither'}; "
                "write CronSchedule(schedule='0 10 * * 1')"
            )
        text = self.schedule if self.schedule is not None else self.cron_expression
        if not isinstance(text, str):
            raise TypeMismatchError(
                f"{owner}: expected a cron string such as '*/10 * * * *', got {type(text).__name__}",
                entity="CronSchedule",
                expected="str",
                found=type(text).__name__,
            )
        _check_kickoff_arg(owner, self.kickoff_time_input_arg)
        self._check()

    def _owner(self) -> str:
        if self.cron_expression is not None and self.schedule is None:
            return f"CronSchedule(cron_expression={self.cron_expression!r})"
        return f"CronSchedule(schedule={self.schedule!r})"

    def _parts(self) -> tuple[str, set[int] | None]:
        """The five-field croniter expression and the allowed years."""
        if self.schedule is not None:
            return CRON_ALIASES.get(self.schedule.strip().lower(), self.schedule).replace(
                "?", "*"
            ), None
        five, year = _aws_to_five(str(self.cron_expression))
        return five, _years(year)

    def _check(self) -> None:
        owner = self._owner()
        if self.schedule is not None:
            text = self.schedule.strip().lower()
            if text in CRON_ALIASES:
                return
            if text.startswith("@"):
                aliases = ", ".join(a for a in CRON_ALIASES if a.startswith("@"))
                raise InputError(
                    f"{owner}: expected a cron alias ({aliases}) or five fields, got "
                    f"{self.schedule!r}; pick one of those aliases"
                )
            n, want = len(text.split()), 5
            fix = "use cron_expression= for the six-field AWS form with a year"
        else:
            parts = str(self.cron_expression).split()
            n, want = len(parts), 6
            fix = "add the year field, e.g. '0 10 ? * MON *', or use schedule= with five fields"
            if n == want and "?" not in (parts[2], parts[4]):
                raise InputError(
                    f"{owner}: expected '?' in day-of-month or day-of-week, got {parts[2]!r} "
                    f"and {parts[4]!r}; write '?' in one of them"
                )
        if n != want:
            names = _FIELDS + (" year" if want == 6 else "")
            raise InputError(f"{owner}: expected {want} fields ({names}), got {n}; {fix}")
        from croniter import (  # type: ignore[import-untyped, unused-ignore]
            CroniterBadDateError,
            croniter,
        )

        try:
            five, years = self._parts()
            croniter(five, datetime(2000, 1, 1)).get_next(datetime)
        except CroniterBadDateError:
            raise InputError(
                f"{owner}: expected a schedule that fires, but no date matches it (such as "
                "31 February); check day-of-month against month"
            ) from None
        except Exception as e:  # noqa: BLE001 - croniter raises several types; all mean a bad expression
            raise InputError(
                f"{owner}: expected a cron expression ({_FIELDS}, e.g. '0 10 * * 1'), "
                f"which does not parse ({e}); check each field's range and syntax"
            ) from None

    def next_after(self, dt: datetime) -> datetime:
        """The first scheduled time strictly after `dt`."""
        from croniter import croniter  # type: ignore[import-untyped, unused-ignore]

        start = _to_utc(dt, "CronSchedule")
        five, years = self._parts()
        while True:
            nxt: datetime = croniter(five, start).get_next(datetime)
            if years is None or nxt.year in years:
                return _back(nxt, dt)
            later = [y for y in years if y > nxt.year]
            if not later:
                raise InputError(
                    f"{self._owner()}: no run after {dt.isoformat()}: every year it allows "
                    "has passed; widen the year field"
                )
            start = datetime(min(later), 1, 1, tzinfo=timezone.utc) - timedelta(seconds=1)

    def to_spec(self) -> dict[str, Any]:
        return {
            "kind": "cron",
            "schedule": self.schedule,
            "cron_expression": self.cron_expression,
            "kickoff_time_input_arg": self.kickoff_time_input_arg,
        }

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> CronSchedule:
        return cls(d.get("schedule"), d.get("kickoff_time_input_arg"), d.get("cron_expression"))


_UNITS = {"MINUTE": timedelta(minutes=1), "HOUR": timedelta(hours=1), "DAY": timedelta(days=1)}


@dataclass(frozen=True)
class FixedRate:
    """Run every `duration` (whole minutes, at least one): `FixedRate(timedelta(hours=6))`."""

    duration: timedelta
    kickoff_time_input_arg: str | None = None

    def __post_init__(self) -> None:
        owner = f"FixedRate(duration={self.duration!r})"
        if not isinstance(self.duration, timedelta):
            raise TypeMismatchError(
                f"{owner}: expected a datetime.timedelta, got {type(self.duration).__name__}; "
                "write FixedRate(duration=timedelta(minutes=10))",
                entity="FixedRate",
                name="duration",
                expected="timedelta",
                found=type(self.duration).__name__,
            )
        if self.duration < timedelta(minutes=1) or self.duration % timedelta(minutes=1):
            raise InputError(
                f"{owner}: expected a whole number of minutes, at least one, got "
                f"{self.duration}; round it to minutes, e.g. timedelta(minutes=1)"
            )
        _check_kickoff_arg(owner, self.kickoff_time_input_arg)

    def _unit(self) -> tuple[int, str]:
        for unit in ("DAY", "HOUR", "MINUTE"):
            if not self.duration % _UNITS[unit]:
                return self.duration // _UNITS[unit], unit
        raise AssertionError("unreachable: durations are whole minutes")

    def next_after(self, dt: datetime) -> datetime:
        """One period after `dt` (a fixed rate counts from the previous run)."""
        return _back(_to_utc(dt, "FixedRate") + self.duration, dt)

    def to_spec(self) -> dict[str, Any]:
        value, unit = self._unit()
        return {
            "kind": "fixed_rate",
            "value": value,
            "unit": unit,
            "kickoff_time_input_arg": self.kickoff_time_input_arg,
        }

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> FixedRate:
        if d.get("unit") not in _UNITS or not isinstance(d.get("value"), int):
            raise InputError(
                f"FixedRate.from_spec({dict(d)!r}): expected an int value and a unit MINUTE, "
                "HOUR or DAY"
            )
        return cls(d["value"] * _UNITS[d["unit"]], d.get("kickoff_time_input_arg"))


def schedule_from_spec(d: Mapping[str, Any]) -> CronSchedule | FixedRate:
    """Rebuild whichever schedule `to_spec` wrote."""
    kinds: dict[str, type[CronSchedule] | type[FixedRate]] = {
        "cron": CronSchedule,
        "fixed_rate": FixedRate,
    }
    if d.get("kind") not in kinds:
        raise InputError(f"schedule spec {dict(d)!r}: expected kind 'cron' or 'fixed_rate'")
    return kinds[d["kind"]].from_spec(d)
