"""Care station demo data, made through the services (registered with the hall's seed_demo): a
station run by the demo care station staff account, a summer programme running from today for
eight weeks on working days (ages 6–12, 20 places, 1 member of staff per 8 children), the demo
worker's child (with an allergy, highlighted on the roster) enrolled, a grandmother authorised
to collect her, and the staff member on duty today when today is a programme day."""

import datetime

from care.models import Worker
from care.roles import Role
from childcare import services
from childcare.models import ProgrammeKind, Station, today

DEMO_WORKER_MOBILE = "+8613800000001"


def seed(accounts: dict) -> None:
    staff = accounts[Role.CHILDCARE_STAFF]
    if Station.objects.filter(coordinator=staff).exists():
        return  # already seeded
    station = Station.objects.create(name="文化宫托管驿站", address="工人文化宫二楼", coordinator=staff)
    station.staff.add(staff)
    first = today()
    programme = services.programme_create(
        actor=staff, station=station, name="暑期托管班", kind=ProgrammeKind.HOLIDAY, starts_on=first,
        ends_on=first + datetime.timedelta(weeks=8), weekdays="12345", opens_at=datetime.time(8),
        closes_at=datetime.time(17, 30), min_age=6, max_age=12, capacity=20, ratio=8)
    worker = Worker.objects.filter(mobile=DEMO_WORKER_MOBILE).select_related("user").first()
    if worker is None or worker.user is None:
        return
    child = services.child_register(
        actor=worker.user, guardian=worker, name="李小雨", date_of_birth=first.replace(year=first.year - 8, day=1),
        school="实验小学", allergies="花生过敏", medical_notes="",
        emergency_contacts=[{"name": "李奶奶", "relation": "祖母", "mobile": "13900000002"}])
    services.pickup_person_add(actor=worker.user, child=child, name="李奶奶", relation="祖母",
                               mobile="13900000002", id_number="11010519491231002X")
    services.enrol(actor=worker.user, child=child, programme=programme)
    if programme.runs_on(first):
        services.duty_set(actor=staff, programme=programme, day=first, staff=[staff])
