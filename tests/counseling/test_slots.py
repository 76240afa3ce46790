"""free_slots: the pure computation of a counselor's free times (no database)."""

import datetime
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from counseling.slots import free_slots

SH = ZoneInfo("Asia/Shanghai")
UTC = datetime.UTC
MON = datetime.date(2026, 3, 2)  # a Monday
LONG_AGO = datetime.datetime(2020, 1, 1, tzinfo=SH)


def at(day: datetime.date, hh: int, mm: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hh, mm, tzinfo=SH)


def slots(*, hours=((0, time(9), time(12)),), exceptions=(), busy=(), session=50, buffer=10, start_day=MON, days=1,
          now=LONG_AGO, min_notice=timedelta(0)):
    return free_slots(working_hours=hours, exceptions=exceptions, busy=busy, session_minutes=session,
                      buffer_minutes=buffer, start_day=start_day, days=days, now=now, min_notice=min_notice)


def starts(result) -> list[str]:
    return [s.astimezone(SH).strftime("%m-%d %H:%M") for s, _ in result]


@pytest.mark.parametrize(("session", "buffer", "expected"), [
    (50, 10, ["03-02 09:00", "03-02 10:00", "03-02 11:00"]),
    (50, 0, ["03-02 09:00", "03-02 09:50", "03-02 10:40"]),  # 11:30 + 50 would end after 12:00
    (60, 0, ["03-02 09:00", "03-02 10:00", "03-02 11:00"]),
    (45, 15, ["03-02 09:00", "03-02 10:00", "03-02 11:00"]),
    (90, 30, ["03-02 09:00"]),  # 11:00 + 90 ends 12:30
    (180, 0, ["03-02 09:00"]),  # exactly fills the range
    (181, 0, []),
])
def test_grid_of_session_plus_buffer_inside_the_range(session, buffer, expected):
    result = slots(session=session, buffer=buffer)
    assert starts(result) == expected
    assert all(end - start == timedelta(minutes=session) for start, end in result)
    assert all(start.tzinfo is not None for start, _ in result)


def test_the_last_session_may_end_with_the_range_its_buffer_may_not_fit():
    # 10:00–10:50 ends with the range; its buffer runs past it
    assert starts(slots(hours=[(0, time(9), time(10, 50))], session=50, buffer=10)) == ["03-02 09:00", "03-02 10:00"]
    assert starts(slots(hours=[(0, time(9), time(10, 49))], session=50, buffer=10)) == ["03-02 09:00"]


def test_several_ranges_a_day_and_only_on_their_weekday():
    hours = [(0, time(9), time(11)), (0, time(14), time(16)), (2, time(18), time(19))]
    result = slots(hours=hours, session=50, buffer=10, days=7)
    assert starts(result) == ["03-02 09:00", "03-02 10:00", "03-02 14:00", "03-02 15:00", "03-04 18:00"]


def test_overlapping_ranges_give_each_slot_once():
    hours = [(0, time(9), time(11)), (0, time(9), time(10))]
    assert starts(slots(hours=hours)) == ["03-02 09:00", "03-02 10:00"]


def test_no_working_hours_no_slots():
    assert slots(hours=[], days=14) == []


@pytest.mark.parametrize(("exception", "expected"), [
    # a whole day of leave (local midnights)
    ((at(MON, 0), at(MON + timedelta(days=1), 0)), []),
    # training 10:00–10:30 takes the 10:00 session only
    ((at(MON, 10), at(MON, 10, 30)), ["03-02 09:00", "03-02 11:00"]),
    # ends exactly when a session starts: half open
    ((at(MON, 8), at(MON, 9)), ["03-02 09:00", "03-02 10:00", "03-02 11:00"]),
    # starts exactly when a session ends (09:50): the buffer may overlap an exception
    ((at(MON, 9, 50), at(MON, 10)), ["03-02 09:00", "03-02 10:00", "03-02 11:00"]),
    # the day before, given in UTC
    ((datetime.datetime(2026, 3, 1, 0, 0, tzinfo=UTC), datetime.datetime(2026, 3, 1, 16, 0, tzinfo=UTC)),
     ["03-02 09:00", "03-02 10:00", "03-02 11:00"]),
    # 2026-03-01 16:00 UTC is 03-02 00:00 local: this one covers the whole Monday morning
    ((datetime.datetime(2026, 3, 1, 16, 0, tzinfo=UTC), datetime.datetime(2026, 3, 2, 4, 0, tzinfo=UTC)), []),
])
def test_exceptions_block_time(exception, expected):
    assert starts(slots(exceptions=[exception])) == expected


@pytest.mark.parametrize(("busy", "expected"), [
    # another appointment 10:00–10:50 + 10 buffer
    ([(at(MON, 10), at(MON, 11))], ["03-02 09:00", "03-02 11:00"]),
    # a busy interval ending 10:05 (someone's buffer) still takes 10:00
    ([(at(MON, 9, 30), at(MON, 10, 5))], ["03-02 11:00"]),
    # the new slot's own buffer counts: busy from 09:55 takes 09:00 (09:00–09:50 + 10)
    ([(at(MON, 9, 55), at(MON, 9, 58))], ["03-02 10:00", "03-02 11:00"]),
    # busy from 10:00 exactly: 09:00's hold ends 10:00 (half open), it stays free
    ([(at(MON, 10), at(MON, 10, 1))], ["03-02 09:00", "03-02 11:00"]),
    # the room's busy time, another counselor's appointment, given in UTC
    ([(datetime.datetime(2026, 3, 2, 3, 0, tzinfo=UTC), datetime.datetime(2026, 3, 2, 3, 30, tzinfo=UTC))],
     ["03-02 09:00", "03-02 10:00"]),
])
def test_busy_intervals_include_buffers(busy, expected):
    assert starts(slots(busy=busy)) == expected


@pytest.mark.parametrize(("now", "notice", "expected"), [
    (at(MON, 7), timedelta(hours=2), ["03-02 09:00", "03-02 10:00", "03-02 11:00"]),
    (at(MON, 7, 1), timedelta(hours=2), ["03-02 10:00", "03-02 11:00"]),
    (at(MON, 9), timedelta(0), ["03-02 09:00", "03-02 10:00", "03-02 11:00"]),
    (at(MON, 9, 0) + timedelta(seconds=1), timedelta(0), ["03-02 10:00", "03-02 11:00"]),
    (at(MON, 12), timedelta(hours=2), []),
])
def test_min_notice(now, notice, expected):
    assert starts(slots(now=now, min_notice=notice)) == expected


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware"):
        slots(now=datetime.datetime(2026, 1, 1))


@pytest.mark.parametrize(("start_day", "days", "expected"), [
    (datetime.date(2026, 1, 30), 4, ["01-30", "01-31", "02-01", "02-02"]),
    (datetime.date(2026, 2, 27), 3, ["02-27", "02-28", "03-01"]),
    (datetime.date(2026, 4, 29), 3, ["04-29", "04-30", "05-01"]),
    (datetime.date(2026, 12, 30), 4, ["12-30", "12-31", "01-01", "01-02"]),
    (datetime.date(2028, 2, 27), 4, ["02-27", "02-28", "02-29", "03-01"]),  # leap day
])
def test_month_and_year_ends(start_day, days, expected):
    every_day = [(weekday, time(9), time(10)) for weekday in range(7)]
    result = slots(hours=every_day, start_day=start_day, days=days, session=50)
    assert [s.strftime("%m-%d") for s, _ in result] == expected
    assert all(s.strftime("%H:%M") == "09:00" and s.utcoffset() == timedelta(hours=8) for s, _ in result)


def test_leap_day_2028_is_a_tuesday_with_its_hours():
    tuesday_only = [(1, time(14), time(15))]
    [(start, end)] = slots(hours=tuesday_only, start_day=datetime.date(2028, 2, 26), days=7, session=50)
    assert start == datetime.datetime(2028, 2, 29, 14, 0, tzinfo=SH)
    assert start.astimezone(UTC) == datetime.datetime(2028, 2, 29, 6, 0, tzinfo=UTC)
    assert end - start == timedelta(minutes=50)


@pytest.mark.parametrize("year", [2026, 2028])
def test_no_daylight_saving_a_0230_slot_every_day_of_the_year(year):
    night = [(weekday, time(2), time(4)) for weekday in range(7)]
    first = datetime.date(year, 1, 1)
    days = (datetime.date(year + 1, 1, 1) - first).days
    result = slots(hours=night, start_day=first, days=days, session=30, buffer=0)
    half_past_two = [(s, e) for s, e in result if s.strftime("%H:%M") == "02:30"]
    assert len(half_past_two) == days == (366 if year == 2028 else 365)
    for start, end in half_past_two:
        assert start.utcoffset() == timedelta(hours=8)
        utc = start.astimezone(UTC)
        assert (utc.hour, utc.minute) == (18, 30)  # the day before, always the same offset
        assert end - start == timedelta(minutes=30)
        assert (end.astimezone(UTC) - utc) == timedelta(minutes=30)
    assert len(result) == 4 * days


def test_results_are_sorted_and_unique_across_days():
    every_day = [(weekday, time(9), time(12)) for weekday in range(7)] + [(0, time(8), time(9))]
    result = slots(hours=every_day, start_day=MON, days=10)
    assert [s for s, _ in result] == sorted({s for s, _ in result})


@pytest.mark.parametrize("kwargs", [{"session": 0}, {"buffer": -1}, {"days": 0}])
def test_degenerate_input_gives_nothing(kwargs):
    assert slots(**kwargs) == []
