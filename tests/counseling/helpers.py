"""Building counseling state for tests: a counselor with hours, a room, a service, a worker
who has consented, and a frozen clock (Monday 2026-03-02 08:00 in Asia/Shanghai)."""

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from care.roles import Role
from counseling import services
from counseling.models import CounselorProfile, HealthConsent, Mode, Room, Service, WorkingHours
from tests.factories import WorkerFactory, staff

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=SH)  # a Monday


def at(day_offset: int, hh: int, mm: int = 0) -> datetime.datetime:
    day = NOW.date() + datetime.timedelta(days=day_offset)
    return datetime.datetime(day.year, day.month, day.day, hh, mm, tzinfo=SH)


class Clock:
    def __init__(self, now: datetime.datetime):
        self.now = now

    def set(self, now: datetime.datetime) -> None:
        self.now = now


def freeze(monkeypatch, now: datetime.datetime = NOW) -> Clock:
    clock = Clock(now)
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


def counselor(*, session=50, buffer=10, modes=(Mode.IN_PERSON, Mode.PHONE, Mode.VIDEO),
              hours=((datetime.time(9), datetime.time(12)), (datetime.time(14), datetime.time(17))), user=None):
    """A counselor working every day 09:00–12:00 and 14:00–17:00 (slots at 09, 10, 11, 14, 15, 16);
    ``user``: a counselor's account to give these hours, else a new one."""
    user = user or staff(Role.COUNSELOR, "counseling")
    profile = CounselorProfile.objects.create(
        user=user, session_minutes=session, buffer_minutes=buffer, offers_in_person=Mode.IN_PERSON in modes,
        offers_phone=Mode.PHONE in modes, offers_video=Mode.VIDEO in modes)
    WorkingHours.objects.bulk_create([WorkingHours(counselor=profile, weekday=weekday, starts=starts, ends=ends)
                                      for weekday in range(7) for starts, ends in hours])
    return user


_rooms = iter(range(1, 100_000))


def room(name: str = "") -> Room:
    return Room.objects.create(name=name or f"Room {next(_rooms)}")


def service(**kwargs) -> Service:
    code = kwargs.pop("code", f"IND{next(_rooms)}")
    return Service.objects.create(code=code, name="个体咨询", **kwargs)


def consent(worker):
    """The worker's consent to the processing of health information, as given online."""
    HealthConsent.objects.create(worker=worker, text_version="2026-1", recorded_by=worker.user)
    return worker


def consenting_worker(**kwargs):
    return consent(WorkerFactory(**kwargs))


def book(*, worker, counselor, starts_at, actor=None, service_=None, mode=Mode.IN_PERSON, room_=None):
    return services.appointment_book(actor=actor or worker.user, worker=worker, service=service_ or service(),
                                     counselor=counselor, starts_at=starts_at, mode=mode,
                                     room=room_ if room_ is not None or mode != Mode.IN_PERSON else room())


def group_service(kind="group", **kwargs):
    code = kwargs.pop("code", f"GRP{next(_rooms)}")
    return Service.objects.create(code=code, name="团体活动", kind=kind, **kwargs)


def group_session(*, facilitator, starts_at, capacity=2, hours=2, room_=None, kind="group", title="正念减压"):
    return services.group_session_create(
        actor=facilitator, service=group_service(kind=kind), room=room_ or room(), starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=hours), capacity=capacity, title=title)
