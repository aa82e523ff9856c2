"""Times and durations as people read them: one definition for the CLI, the notebook and the lab.

A duration is the seconds from an execution's (or node's) start to its end,
or to now while it runs; it is written `250 ms`, `4.2 s`, `42 s`, `5m 0s`,
`1h 30m`, as the lab's `formatDuration` writes it, so a run shows the same
number in a table of `plait get executions`, in `%plait executions` and in
the lab's panel. The API sends times in UTC (ISO 8601); they are shown to
the second in this machine's time zone, and the zone is named, since the
same run is read from machines in different zones (`utc=True` shows UTC).

Standard library only: the backend may use it too.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable
from typing import Any

__all__ = ["GRANULARITIES", "UNKNOWN", "duration_s", "truncate_time", "duration_text", "parse_time", "time_column", "time_text", "zone_name"]

UNKNOWN = "—"
"""What a duration that cannot be told (not started) reads as."""

_FORMAT = "%Y-%m-%d %H:%M:%S"


def duration_s(started: Any, ended: Any = None, now: _dt.datetime | None = None) -> float | None:
    """Seconds from `started` to `ended` (to `now` while it runs); None before it starts.

    Either time may be a datetime or an API time string. Never negative: a
    clock that moved back between two machines reads as no time at all.
    """
    start = parse_time(started)
    if start is None:
        return None
    end = parse_time(ended) or now or _dt.datetime.now(_dt.timezone.utc)
    if end.tzinfo is None:
        end = end.replace(tzinfo=_dt.timezone.utc)
    return max((end - start).total_seconds(), 0.0)


def duration_text(seconds: float | None) -> str:
    """`250 ms`, `4.2 s`, `42 s`, `5m 0s`, `1h 30m`; `—` when there is none."""
    if seconds is None or not math.isfinite(float(seconds)):
        return UNKNOWN
    s = max(float(seconds), 0.0)
    if round(s * 1000) < 1000:
        return f"{round(s * 1000)} ms"
    if round(s, 1) < 10:
        return f"{s:.1f} s"
    if round(s) < 60:
        return f"{round(s)} s"
    minutes, secs = divmod(round(s), 60)
    if minutes < 60:
        return f"{minutes}m {secs}s"
    return f"{minutes // 60}h {minutes % 60}m"


def parse_time(value: Any) -> _dt.datetime | None:
    """An API time (ISO 8601; `Z`, or no offset at all, means UTC) as an aware datetime.

    None for nothing, or for text that is not a time.
    """
    if isinstance(value, _dt.datetime):
        stamp = value
    elif not value:
        return None
    else:
        try:
            stamp = _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=_dt.timezone.utc)


def _shown(stamp: _dt.datetime, utc: bool) -> _dt.datetime:
    return stamp.astimezone(_dt.timezone.utc) if utc else stamp.astimezone()


def zone_name(stamp: _dt.datetime) -> str:
    """`CET`, `UTC`; the offset (`UTC+05:30`) where the zone has no name."""
    name = stamp.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = stamp.utcoffset() or _dt.timedelta(0)
    sign = "-" if offset < _dt.timedelta(0) else "+"
    hours, rest = divmod(abs(int(offset.total_seconds())), 3600)
    return f"UTC{sign}{hours:02d}:{rest // 60:02d}" if offset else "UTC"


def time_text(value: Any, *, utc: bool = False, zone: bool = True) -> str:
    """`2026-03-04 03:00:00 CET`: an API time in this machine's zone (UTC with `utc`), zone named.

    "" for no time; text that is not a time is shown as it came.
    """
    stamp = parse_time(value)
    if stamp is None:
        return "" if not value else str(value)
    shown = _shown(stamp, utc)
    text = shown.strftime(_FORMAT)
    return f"{text} {zone_name(shown)}" if zone else text


def time_column(values: Iterable[Any], *, utc: bool = False) -> tuple[str, list[str]]:
    """A table column of times: the zone its header names, and the cells.

    When every time is in the same zone (`CET`), the header names it once
    and the cells leave it out; when they differ (a column across a change
    to summer time), the header names none ("") and each cell names its own.
    """
    raw = list(values)
    stamps = [parse_time(v) for v in raw]
    zones = {zone_name(_shown(s, utc)) for s in stamps if s is not None}
    one = next(iter(zones)) if len(zones) == 1 else ""
    cells = []
    for value, stamp in zip(raw, stamps, strict=True):
        if stamp is None:
            cells.append("" if not value else str(value))
        else:
            cells.append(time_text(stamp, utc=utc, zone=not one))
    return one, cells


GRANULARITIES = ("MINUTE", "HOUR", "DAY", "MONTH")
"""How finely an artifact's time partition tells versions apart."""


def truncate_time(when: _dt.datetime | _dt.date, granularity: str) -> _dt.datetime:
    """`when` cut down to `granularity` (one of GRANULARITIES), as a naive UTC datetime: an
    artifact's time partition, the same whether the engine or the backend cuts it."""
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity expects one of {', '.join(GRANULARITIES)}, got {granularity!r}")
    if not isinstance(when, _dt.datetime):
        when = _dt.datetime(when.year, when.month, when.day)
    if when.tzinfo is not None:
        when = when.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    when = when.replace(second=0, microsecond=0)
    if granularity == "MINUTE":
        return when
    when = when.replace(minute=0)
    if granularity == "HOUR":
        return when
    when = when.replace(hour=0)
    return when if granularity == "DAY" else when.replace(day=1)
