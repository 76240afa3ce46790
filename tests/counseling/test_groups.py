"""Group sessions and workshops: seats, the waitlist that promotes the next person (with an
SMS) when a seat is given back, attendance and its satisfaction survey, and the calendars they
share with individual appointments (a counselor or a room is never held twice)."""

import pytest
from django.utils import translation

from care import audit, registry
from care import services as care_services
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import Case, OutboundSms, Stage, Survey
from care.roles import Role
from counseling import selectors, services
from counseling.models import ExceptionReason, GroupSession, GroupSignup, Mode, SignupState
from tests.counseling.helpers import (
    at,
    book,
    consenting_worker,
    counselor,
    freeze,
    group_service,
    group_session,
    room,
    service,
)
from tests.factories import WorkerFactory, staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def clock(monkeypatch):
    return freeze(monkeypatch)


@pytest.fixture
def leader():
    return counselor()


def sms(template: str) -> list[OutboundSms]:
    return list(OutboundSms.objects.filter(template=template).order_by("pk"))


def sign(session, worker, actor=None) -> GroupSignup:
    return services.group_signup(actor=actor or worker.user, session=session, worker=worker)


def state(signup) -> str:
    return GroupSignup.objects.get(pk=signup.pk).state


def test_seats_then_the_waitlist_in_order(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=2)
    one, two, three, four = (sign(session, consenting_worker(user__language="en")) for _ in range(4))
    assert [one.state, two.state] == [SignupState.BOOKED] * 2
    assert [three.state, four.state] == [SignupState.WAITLISTED] * 2
    assert [selectors.waitlist_position(signup=s) for s in (one, three, four)] == [None, 1, 2]
    assert len(sms("group_booked")) == 2
    waiting = sms("group_waitlisted")
    assert [m.worker_id for m in waiting] == [three.worker_id, four.worker_id]
    assert "number 2 on the waitlist" in waiting[1].body
    # Each place is a hall case of the facilitator's, opened without the generic SMS.
    cases = Case.objects.filter(pk__in=[s.case_id for s in (one, two, three, four)])
    assert {(c.department, c.assignee_id, c.stage) for c in cases} == {("counseling", leader.pk, Stage.IN_PROGRESS)}
    assert not sms("request_received")


def test_signing_up_twice_returns_the_same_place(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14))
    worker = consenting_worker()
    assert sign(session, worker).pk == sign(session, worker).pk
    assert GroupSignup.objects.count() == 1 and len(sms("group_booked")) == 1


def test_a_seat_given_back_goes_to_the_first_of_the_waitlist_with_an_sms(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    seated, first, second = (sign(session, consenting_worker(user__language="en")) for _ in range(3))
    services.group_signup_cancel(actor=seated.worker.user, signup=seated)
    assert (state(seated), state(first), state(second)) == (
        SignupState.CANCELLED, SignupState.BOOKED, SignupState.WAITLISTED)
    promoted = sms("group_promoted")
    assert [m.worker_id for m in promoted] == [first.worker_id]
    assert "a seat has freed up" in promoted[0].body
    assert Case.objects.get(pk=seated.case_id).stage == Stage.WITHDRAWN
    assert selectors.waitlist_position(signup=GroupSignup.objects.get(pk=second.pk)) == 1
    assert list(audit.verify()) == []


def test_a_waitlisted_place_given_back_promotes_nobody(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    seated, waiting = (sign(session, consenting_worker()) for _ in range(2))
    services.group_signup_cancel(actor=waiting.worker.user, signup=waiting)
    assert (state(seated), state(waiting)) == (SignupState.BOOKED, SignupState.CANCELLED)
    assert not sms("group_promoted")


def test_the_facilitator_cancels_a_place_and_the_worker_is_told(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    seated, waiting = (sign(session, consenting_worker()) for _ in range(2))
    services.group_signup_cancel(actor=leader, signup=seated)
    assert [m.worker_id for m in sms("group_cancelled")] == [seated.worker_id]
    assert state(waiting) == SignupState.BOOKED


def test_no_promotion_once_the_session_has_started(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    seated, waiting = (sign(session, consenting_worker()) for _ in range(2))
    clock.set(at(1, 14, 30))
    services.group_signup_cancel(actor=leader, signup=seated)
    assert state(waiting) == SignupState.WAITLISTED and not sms("group_promoted")


def test_a_worker_cannot_give_back_a_place_once_started_nor_someone_elses(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14))
    mine, other = sign(session, consenting_worker()), consenting_worker()
    with pytest.raises(NotAllowed):
        services.group_signup_cancel(actor=other.user, signup=mine)
    clock.set(at(1, 14, 5))
    with pytest.raises(InvalidState):
        services.group_signup_cancel(actor=mine.worker.user, signup=mine)
    assert state(mine) == SignupState.BOOKED


def test_sign_up_is_closed_for_a_started_or_cancelled_session(clock, leader):
    early = group_session(facilitator=leader, starts_at=at(1, 9))
    late = group_session(facilitator=leader, starts_at=at(2, 9))
    services.group_session_cancel(actor=leader, session=late)
    clock.set(at(1, 9, 1))
    for session in (early, late):
        with pytest.raises(InvalidState):
            sign(session, consenting_worker())
    assert not GroupSignup.objects.exists() and not Case.objects.exists()


def test_a_group_session_needs_the_health_consent_a_workshop_does_not(clock, leader):
    group = group_session(facilitator=leader, starts_at=at(1, 9), kind="group")
    workshop = group_session(facilitator=leader, starts_at=at(1, 14), kind="workshop")
    worker = WorkerFactory()
    with pytest.raises(InvalidState) as refused:
        sign(group, worker)
    assert refused.value.detail == {"consent": "missing"}
    assert sign(workshop, worker).state == SignupState.BOOKED


def test_the_front_desk_signs_up_a_walk_in(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 9))
    desk = staff(Role.FRONT_DESK)
    signup = sign(session, consenting_worker(), actor=desk)
    assert signup.state == SignupState.BOOKED
    with pytest.raises(NotAllowed):
        sign(session, consenting_worker(), actor=staff(Role.CENTER_MANAGER))


def test_a_group_place_ends_through_the_session_never_in_the_hall(clock, leader):
    worker = consenting_worker()
    signup = sign(group_session(facilitator=leader, starts_at=at(1, 9)), worker)
    assert registry.has_department_file(signup.case)
    with pytest.raises(InvalidState):
        care_services.case_withdraw(case=signup.case, actor=worker.user)
    with pytest.raises(InvalidState):
        care_services.case_close(case=signup.case, actor=leader)
    assert Case.objects.get(pk=signup.case_id).is_open


def test_cancelling_a_session_cancels_every_place_and_tells_each(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    places = [sign(session, consenting_worker()) for _ in range(3)]
    with pytest.raises(NotAllowed):
        services.group_session_cancel(actor=counselor(), session=session)
    services.group_session_cancel(actor=leader, session=session)
    assert {state(p) for p in places} == {SignupState.CANCELLED}
    assert sorted(m.worker_id for m in sms("group_cancelled")) == sorted(p.worker_id for p in places)
    assert set(Case.objects.values_list("stage", flat=True)) == {Stage.WITHDRAWN}
    assert not sms("group_promoted")


def test_attendance_after_the_start_closes_the_case_and_asks_for_a_rating(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=2)
    came, missed = sign(session, consenting_worker()), sign(session, consenting_worker())
    with pytest.raises(InvalidState):
        services.group_attendance(actor=leader, signup=came, attended=True)
    clock.set(at(1, 16))
    with pytest.raises(NotAllowed):
        services.group_attendance(actor=counselor(), signup=came, attended=True)
    services.group_attendance(actor=leader, signup=came, attended=True)
    services.group_attendance(actor=leader, signup=missed, attended=False)
    assert (state(came), state(missed)) == (SignupState.ATTENDED, SignupState.ABSENT)
    assert set(Case.objects.values_list("stage", flat=True)) == {Stage.CLOSED}
    assert [s.case_id for s in Survey.objects.all()] == [came.case_id]
    assert [m.worker_id for m in sms("survey_invite")] == [came.worker_id]
    # A mark can be corrected; the survey is not asked twice.
    services.group_attendance(actor=leader, signup=came, attended=False)
    services.group_attendance(actor=leader, signup=came, attended=True)
    assert Survey.objects.count() == 1 and len(sms("survey_invite")) == 1


def test_a_waitlisted_place_cannot_be_marked(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    sign(session, consenting_worker())
    waiting = sign(session, consenting_worker())
    clock.set(at(1, 16))
    with pytest.raises(InvalidState):
        services.group_attendance(actor=leader, signup=waiting, attended=True)


# --- one calendar with appointments -----------------------------------------------------------


def test_a_session_takes_its_time_out_of_the_facilitators_and_the_rooms_free_slots(clock, leader):
    place = room()
    group_session(facilitator=leader, starts_at=at(1, 9), hours=2, room_=place)
    worker = consenting_worker()
    with pytest.raises(InvalidState):
        book(worker=worker, counselor=leader, starts_at=at(1, 10), mode=Mode.PHONE)
    with pytest.raises(InvalidState):  # another counselor, the same room
        book(worker=worker, counselor=counselor(), starts_at=at(1, 10), room_=place)
    assert book(worker=worker, counselor=leader, starts_at=at(1, 11), mode=Mode.PHONE).pk


def test_a_session_cannot_be_scheduled_over_an_appointment_or_another_session(clock, leader):
    place = room()
    book(worker=consenting_worker(), counselor=leader, starts_at=at(1, 10), mode=Mode.PHONE)
    with pytest.raises(InvalidState):  # the facilitator is busy (appointment 10:00–10:50 + 10 min)
        group_session(facilitator=leader, starts_at=at(1, 10, 55), room_=place)
    group_session(facilitator=leader, starts_at=at(1, 11), hours=1, room_=place)
    with pytest.raises(InvalidState):  # the room is taken by that session
        group_session(facilitator=counselor(), starts_at=at(1, 11, 30), room_=place)
    assert GroupSession.objects.count() == 1


def test_a_session_cannot_be_scheduled_in_the_facilitators_leave(clock, leader):
    services.exception_add(profile=leader.counselor_profile, actor=leader, starts=at(1, 13), ends=at(1, 15),
                           reason=ExceptionReason.TRAINING)
    with pytest.raises(InvalidState) as refused:
        group_session(facilitator=leader, starts_at=at(1, 14, 30))
    assert refused.value.detail == {"starts_at": "away"} and "blocked" in str(refused.value)
    assert group_session(facilitator=leader, starts_at=at(1, 15)).pk  # right after the training


@pytest.mark.parametrize(("change", "field"), [
    ({"capacity": 0}, "capacity"),
    ({"capacity": "x"}, "capacity"),
    ({"title": "  "}, "title"),
    ({"ends_at": at(1, 8)}, "ends_at"),
    ({"starts_at": at(-1, 9), "ends_at": at(-1, 10)}, "starts_at"),
    ({"service": None}, "service"),
])
def test_bad_session_input_is_refused_with_a_message(clock, leader, change, field):
    values = {"service": group_service(), "room": room(), "starts_at": at(1, 9), "ends_at": at(1, 10),
              "capacity": 5, "title": "减压工作坊", **change}
    with pytest.raises(InvalidInput) as refused:
        services.group_session_create(actor=leader, **values)
    assert field in refused.value.detail and str(refused.value.message)
    assert not GroupSession.objects.exists()


def test_only_a_counselor_schedules_and_not_an_individual_service(clock, leader):
    values = {"room": room(), "starts_at": at(1, 9), "ends_at": at(1, 10), "capacity": 5, "title": "T"}
    with pytest.raises(NotAllowed):
        services.group_session_create(actor=staff(Role.FRONT_DESK), service=group_service(), **values)
    with pytest.raises(InvalidInput):
        services.group_session_create(actor=leader, service=service(), **values)


def test_group_sms_never_name_the_service_in_any_language(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    for language in ("zh-hans", "en"):
        worker = consenting_worker()
        worker.user.language = language
        worker.user.save(update_fields=["language"])
        sign(session, worker)
    bodies = [m.body for m in OutboundSms.objects.all()]
    assert len(bodies) == 2
    for body in bodies:
        assert "正念" not in body and "counsel" not in body.lower()
