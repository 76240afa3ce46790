"""Building care-station state for tests: a station with its coordinator and staff, a
programme running on working days, a child of a worker, and a frozen clock (Monday
2026-07-06 08:00 in Asia/Shanghai)."""

import datetime
import re
from zoneinfo import ZoneInfo

from django.utils import timezone

from care.models import OutboundSms
from care.roles import Role
from childcare import services
from childcare.models import ProgrammeKind, Station
from tests.factories import WorkerFactory, staff

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 7, 6, 8, 0, tzinfo=SH)  # a Monday
TODAY = NOW.date()


class Clock:
    def __init__(self, now: datetime.datetime):
        self.now = now

    def set(self, now: datetime.datetime) -> None:
        self.now = now


def freeze(monkeypatch, now: datetime.datetime = NOW) -> Clock:
    clock = Clock(now)
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


def at(hh: int, mm: int = 0, day: datetime.date = TODAY) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hh, mm, tzinfo=SH)


def care_staff(**kwargs):
    return staff(Role.CHILDCARE_STAFF, "childcare", mobile=kwargs.pop("mobile", "+8613700009999"), **kwargs)


def station(*, coordinator=None, members=(), name="托管驿站") -> Station:
    place = Station.objects.create(name=name, coordinator=coordinator or care_staff())
    place.staff.add(*members)
    return place


def programme(place: Station, *, capacity=20, ratio=8, min_age=6, max_age=12, starts_on=TODAY,
              ends_on=TODAY + datetime.timedelta(weeks=8), weekdays="12345", closes=datetime.time(17, 30)):
    return services.programme_create(
        actor=place.coordinator, station=place, name=f"暑期托管 {place.pk}", kind=ProgrammeKind.HOLIDAY,
        starts_on=starts_on, ends_on=ends_on, weekdays=weekdays, opens_at=datetime.time(8), closes_at=closes,
        min_age=min_age, max_age=max_age, capacity=capacity, ratio=ratio)


def child(*, guardian=None, age=8, name="小明", allergies="", medical_notes=""):
    guardian = guardian or WorkerFactory()
    born = TODAY.replace(year=TODAY.year - age) - datetime.timedelta(days=10)
    return services.child_register(
        actor=guardian.user, guardian=guardian, name=name, date_of_birth=born, school="实验小学",
        allergies=allergies, medical_notes=medical_notes,
        emergency_contacts=[{"name": "王奶奶", "relation": "祖母", "mobile": "13900000002"}])


def enrolled(prog, **kwargs):
    kid = child(**kwargs)
    return services.enrol(actor=kid.guardian.user, child=kid, programme=prog)


def on_duty(prog, *members, day=TODAY):
    return services.duty_set(actor=prog.station.coordinator, programme=prog, day=day, staff=list(members))


def code_of(enrolment) -> str:
    """The pick-up code from the guardian's latest check-in SMS."""
    body = OutboundSms.objects.filter(template="care_checked_in", worker=enrolment.child.guardian).latest("pk").body
    return re.search(r"(?<!\d)(\d{6})(?!\d)", body).group(1)
