"""Data the browser journeys share."""

import datetime
from types import SimpleNamespace

from care.roles import Role
from childcare import services
from childcare.models import ProgrammeKind, Station, today
from tests.factories import WorkerFactory, staff


def child_at_the_door() -> SimpleNamespace:
    """A care station open all day every day with its staff member on duty today (``keeper``),
    and a child (allergic to peanuts) enrolled by its guardian: ``keeper``, ``guardian``,
    ``child``, ``enrolment``."""
    keeper = staff(Role.CHILDCARE_STAFF, "childcare", username="door1", mobile="+8613700000123")
    station = Station.objects.create(name="文化宫驿站", coordinator=keeper)
    programme = services.programme_create(
        actor=keeper, station=station, name="托管班", kind=ProgrammeKind.AFTER_SCHOOL, starts_on=today(),
        ends_on=today() + datetime.timedelta(days=30), weekdays="1234567", opens_at=datetime.time(0),
        closes_at=datetime.time(23, 59, 59), min_age=3, max_age=14, capacity=10, ratio=8)
    guardian = WorkerFactory(name="李妈妈")
    child = services.child_register(
        actor=guardian.user, guardian=guardian, name="李小雨", allergies="花生过敏",
        date_of_birth=today().replace(year=today().year - 8, day=1),
        emergency_contacts=[{"name": "外公", "relation": "外公", "mobile": "13900000002"}])
    enrolment = services.enrol(actor=guardian.user, child=child, programme=programme)
    services.duty_set(actor=keeper, programme=programme, day=today(), staff=[keeper])
    return SimpleNamespace(keeper=keeper, guardian=guardian, child=child, enrolment=enrolment)
