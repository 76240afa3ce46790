"""Free appointment slots of a counselor: a pure function, no database, no clock.

Slots are laid on a grid from the start of each working-hours range, one every session +
buffer minutes, in local time (Asia/Shanghai, which has no daylight saving time). A slot is
free when:
* its session [start, start + session) lies inside the range;
* its session does not overlap an exception (leave, holiday, training);
* the time it would hold, [start, start + session + buffer), does not overlap a busy
  interval (the counselor's or the room's holding appointments, each from its start until
  its own end + buffer: what the database's exclusion constraints compare);
* it starts at least ``min_notice`` after ``now``.
Intervals are half open, so a slot may start exactly when a busy interval ends."""

import datetime
from collections.abc import Iterable
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Interval = tuple[datetime.datetime, datetime.datetime]


def overlaps(start: datetime.datetime, end: datetime.datetime, intervals: list[Interval]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in intervals)


def free_slots(
    *,
    working_hours: Iterable[tuple[int, datetime.time, datetime.time]],
    exceptions: Iterable[Interval],
    busy: Iterable[Interval],
    session_minutes: int,
    buffer_minutes: int,
    start_day: datetime.date,
    days: int,
    now: datetime.datetime,
    min_notice: datetime.timedelta = datetime.timedelta(0),
    tz: datetime.tzinfo = SHANGHAI,
) -> list[Interval]:
    """The free slots (start, end) of ``days`` days from ``start_day`` (local dates in ``tz``),
    soonest first, as aware datetimes in ``tz``. ``working_hours`` are (weekday 0=Monday..6,
    from, until) in local time; ``exceptions`` and ``busy`` are aware (start, end) pairs."""
    if session_minutes <= 0 or buffer_minutes < 0 or days <= 0:
        return []
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    session = datetime.timedelta(minutes=session_minutes)
    step = session + datetime.timedelta(minutes=buffer_minutes)
    by_weekday: dict[int, list[tuple[datetime.time, datetime.time]]] = {}
    for weekday, starts, ends in working_hours:
        if ends > starts:
            by_weekday.setdefault(int(weekday), []).append((starts, ends))
    exceptions = sorted(exceptions)
    busy = sorted(busy)
    earliest = now + min_notice
    found: dict[datetime.datetime, Interval] = {}
    for offset in range(days):
        day = start_day + datetime.timedelta(days=offset)
        for starts, ends in by_weekday.get(day.weekday(), []):
            # Wall-clock arithmetic on the local date; Asia/Shanghai has no gaps or folds.
            start = datetime.datetime.combine(day, starts, tzinfo=tz)
            range_end = datetime.datetime.combine(day, ends, tzinfo=tz)
            while start + session <= range_end:
                end = start + session
                if (start >= earliest and not overlaps(start, end, exceptions)
                        and not overlaps(start, start + step, busy)):
                    found.setdefault(start, (start, end))
                start += step
    return [found[start] for start in sorted(found)]
