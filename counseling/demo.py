"""Counseling demo data, made through the services (registered with the hall's seed_demo): a
service, two rooms, the demo counselor's weekly hours, and two workers with an appointment
each on the next working day; a group session (it needs the consent to the processing of
health information; the demo worker and two others have a seat) and a full workshop with
someone on its waitlist, both led by the demo counselor in the group room, on the two working
days after the appointments' day. No past session with attendance: the services schedule and
sign up only for the future, and a seat is marked only once its session has started."""

import datetime

from django.utils import timezone

from care.models import Worker
from care.roles import Role
from counseling import selectors, services
from counseling.models import CounselorProfile, Mode, Room, Service, ServiceKind, WorkingHours
from counseling.slots import SHANGHAI

DEMO_WORKER_MOBILE = "+8613800000001"
HOURS = ((datetime.time(9), datetime.time(12)), (datetime.time(14), datetime.time(17, 30)))


def _next_working_day(today: datetime.date) -> datetime.date:
    day = today + datetime.timedelta(days=1)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def seed(accounts: dict) -> None:
    counselor = accounts[Role.COUNSELOR]
    if CounselorProfile.objects.filter(user=counselor).exists():
        return  # already seeded
    service, _created = Service.objects.get_or_create(
        code="IND", defaults={"name": "个体咨询", "kind": ServiceKind.INDIVIDUAL, "session_minutes": 50})
    rooms = [Room.objects.get_or_create(name=name)[0] for name in ("1号室", "2号室")]
    profile = CounselorProfile.objects.create(user=counselor, session_minutes=50, buffer_minutes=10,
                                              offers_in_person=True, offers_phone=True)
    WorkingHours.objects.bulk_create([WorkingHours(counselor=profile, weekday=weekday, starts=starts, ends=ends)
                                      for weekday in range(5) for starts, ends in HOURS])
    day = _next_working_day(timezone.localtime(timezone.now(), SHANGHAI).date())
    demo = Worker.objects.filter(mobile=DEMO_WORKER_MOBILE).first()
    other = Worker.objects.exclude(mobile=DEMO_WORKER_MOBILE).order_by("pk").first()
    for worker, room in ((demo, rooms[0]), (other, rooms[1])):
        if worker is None:
            continue
        slots = selectors.free_slots_for(profile=profile, room=room, start_day=day, days=7)
        if not slots:
            continue
        services.consent_give(worker=worker, actor=worker.user)
        services.appointment_book(actor=worker.user, worker=worker, service=service, counselor=counselor,
                                  starts_at=slots[0][0], mode=Mode.IN_PERSON, room=room)
    _groups(counselor, _next_working_day(day), demo)


def _groups(counselor, day: datetime.date, demo: Worker | None) -> None:
    """A group session in the afternoon of ``day`` and an evening workshop on the working day after."""
    group, _created = Service.objects.get_or_create(
        code="GRP", defaults={"name": "团体辅导", "kind": ServiceKind.GROUP, "session_minutes": 120})
    workshop, _created = Service.objects.get_or_create(
        code="WS", defaults={"name": "心理健康工作坊", "kind": ServiceKind.WORKSHOP, "session_minutes": 90})
    hall, _created = Room.objects.get_or_create(name="团体活动室")

    def at(on: datetime.date, hour: int) -> datetime.datetime:
        return datetime.datetime.combine(on, datetime.time(hour), tzinfo=SHANGHAI)

    session = services.group_session_create(
        actor=counselor, service=group, room=hall, starts_at=at(day, 14), ends_at=at(day, 16), capacity=8,
        title="正念减压小组（第1次）", description="八周正念练习的第一次：认识压力，学习呼吸练习。")
    evening = _next_working_day(day)
    talk = services.group_session_create(
        actor=counselor, service=workshop, room=hall, starts_at=at(evening, 19),
        ends_at=at(evening, 19) + datetime.timedelta(minutes=90), capacity=2,
        title="职场压力与情绪管理", description="面向一线职工的讲座与练习，无需预先咨询。")
    others = list(Worker.objects.exclude(mobile=DEMO_WORKER_MOBILE).order_by("pk")[:5])
    for worker in ([demo] if demo is not None else []) + others[3:]:  # a group session needs the consent
        services.consent_give(worker=worker, actor=worker.user)
        services.group_signup(actor=worker.user, session=session, worker=worker)
    for worker in others[:3]:
        services.group_signup(actor=worker.user, session=talk, worker=worker)  # the third waits
