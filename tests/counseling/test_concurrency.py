"""Bookings at the same moment, on PostgreSQL: real connections, real row locks, and the
exclusion constraints of migration 0002. Two bookings never hold one counselor or one room at
the same time: exactly one wins, the other is told the time is taken."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from care import audit
from care.errors import InvalidState
from care.models import Case, OutboundSms
from counseling.models import Appointment, AppointmentState, Mode
from tests.concurrency import race
from tests.counseling.helpers import at, book, consenting_worker, counselor, freeze, room, service

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def one_won(outcomes) -> Appointment:
    won = [o for o in outcomes if isinstance(o, Appointment)]
    lost = [o for o in outcomes if not isinstance(o, Appointment)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert isinstance(lost[0], InvalidState) and lost[0].detail == {"starts_at": "taken"}, outcomes
    return won[0]


@pytest.mark.parametrize("attempt", range(3))
def test_two_workers_booking_one_counselor_slot_at_once_one_wins(monkeypatch, attempt):
    freeze(monkeypatch)
    who, kind = counselor(), service()
    one, two = consenting_worker(), consenting_worker()
    outcomes = race(
        lambda: book(worker=one, counselor=who, starts_at=at(0, 10), service_=kind, mode=Mode.PHONE),
        lambda: book(worker=two, counselor=who, starts_at=at(0, 10), service_=kind, mode=Mode.PHONE),
    )
    winner = one_won(outcomes)
    assert list(Appointment.objects.values_list("pk", flat=True)) == [winner.pk]
    assert Case.objects.count() == 1  # the losing booking left no case behind
    assert OutboundSms.objects.filter(template="appointment_booked").count() == 1
    assert list(audit.verify()) == []


@pytest.mark.parametrize("attempt", range(3))
def test_two_counselors_booking_one_room_at_once_one_wins(monkeypatch, attempt):
    freeze(monkeypatch)
    place, kind = room(), service()
    a, b = counselor(), counselor()
    one, two = consenting_worker(), consenting_worker()
    outcomes = race(
        lambda: book(worker=one, counselor=a, starts_at=at(0, 10), service_=kind, room_=place),
        lambda: book(worker=two, counselor=b, starts_at=at(0, 10), service_=kind, room_=place),
    )
    winner = one_won(outcomes)
    assert list(Appointment.objects.filter(room=place).values_list("pk", flat=True)) == [winner.pk]
    assert OutboundSms.objects.filter(template="appointment_booked").count() == 1


def _direct(*, case, kind, who, place=None, starts_at, minutes=50, buffer=10, state=AppointmentState.REQUESTED):
    ends_at = starts_at + datetime.timedelta(minutes=minutes)
    return Appointment.objects.create(case=case, service=kind, counselor=who, room=place,
                                      mode=Mode.IN_PERSON if place else Mode.PHONE, starts_at=starts_at,
                                      ends_at=ends_at, blocked_until=ends_at + datetime.timedelta(minutes=buffer),
                                      state=state)


def test_the_database_refuses_overlaps_that_bypass_the_service(monkeypatch):
    freeze(monkeypatch)
    who, other, place, kind = counselor(), counselor(), room(), service()
    first = book(worker=consenting_worker(), counselor=who, starts_at=at(0, 10), service_=kind, room_=place)
    case = first.case

    def refused(**kwargs):
        with pytest.raises(IntegrityError, match="no_overlap"), transaction.atomic():
            _direct(case=Case.objects.create(reference=f"QD-T-{Case.objects.count()}", worker=case.worker,
                                             department="counseling", channel="online", description="x",
                                             filed_by=case.filed_by, due_at=case.due_at), kind=kind, **kwargs)

    # the counselor: overlapping, and inside the buffer (10:50–11:00)
    refused(who=who, starts_at=at(0, 10, 30))
    refused(who=who, starts_at=at(0, 10, 55))
    # the room, with another counselor
    refused(who=other, place=place, starts_at=at(0, 9, 30))
    refused(who=other, place=place, starts_at=at(0, 10, 59))
    # half open: at 11:00 (after the buffer) both are free again
    fresh = Case.objects.create(reference="QD-T-OK", worker=case.worker, department="counseling", channel="online",
                                description="x", filed_by=case.filed_by, due_at=case.due_at)
    assert _direct(case=fresh, kind=kind, who=who, starts_at=at(0, 11)).pk
    # appointments that no longer hold their time do not count
    ended = Case.objects.create(reference="QD-T-END", worker=case.worker, department="counseling", channel="online",
                                description="x", filed_by=case.filed_by, due_at=case.due_at)
    assert _direct(case=ended, kind=kind, who=who, place=place, starts_at=at(0, 10),
                   state=AppointmentState.CANCELLED).pk
    # phone sessions (no room) of two counselors at one time are fine
    free = Case.objects.create(reference="QD-T-PH", worker=case.worker, department="counseling", channel="online",
                               description="x", filed_by=case.filed_by, due_at=case.due_at)
    assert _direct(case=free, kind=kind, who=other, starts_at=at(0, 10)).pk


def test_the_constraint_refusal_reads_as_the_service_refusal(monkeypatch):
    """If the service's own check is bypassed (as by a writer that raced it), the database's
    refusal is the same InvalidState."""
    from counseling import services

    freeze(monkeypatch)
    who, kind = counselor(), service()
    book(worker=consenting_worker(), counselor=who, starts_at=at(0, 10), service_=kind, mode=Mode.PHONE)
    monkeypatch.setattr(services, "_check_booking", lambda **kwargs: None)
    with pytest.raises(InvalidState) as caught:
        book(worker=consenting_worker(), counselor=who, starts_at=at(0, 10), service_=kind, mode=Mode.PHONE)
    assert caught.value.detail == {"starts_at": "taken"}
    assert Appointment.objects.count() == 1 and Case.objects.count() == 1


# --- group sessions: the last seats ---------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(2))
def test_six_sign_ups_at_once_for_two_seats_two_get_them_four_wait_in_order(monkeypatch, attempt):
    from counseling import selectors, services
    from counseling.models import GroupSignup, SignupState
    from tests.counseling.helpers import group_session

    freeze(monkeypatch)
    session = group_session(facilitator=counselor(), starts_at=at(1, 14), capacity=2)
    workers = [consenting_worker() for _ in range(6)]
    outcomes = race(*[
        (lambda w=w: services.group_signup(actor=w.user, session=session, worker=w)) for w in workers])
    assert all(isinstance(o, GroupSignup) for o in outcomes), outcomes
    states = sorted(o.state for o in outcomes)
    assert states == [SignupState.BOOKED] * 2 + [SignupState.WAITLISTED] * 4
    assert GroupSignup.objects.filter(state=SignupState.BOOKED).count() == 2
    positions = sorted(selectors.waitlist_position(signup=s)
                       for s in GroupSignup.objects.filter(state=SignupState.WAITLISTED))
    assert positions == [1, 2, 3, 4]
    assert OutboundSms.objects.filter(template="group_booked").count() == 2
    assert OutboundSms.objects.filter(template="group_waitlisted").count() == 4
    assert list(audit.verify()) == []


def test_a_seat_given_back_while_others_sign_up_goes_to_the_waitlist_first(monkeypatch):
    from counseling import services
    from counseling.models import GroupSignup, SignupState
    from tests.counseling.helpers import group_session

    freeze(monkeypatch)
    session = group_session(facilitator=counselor(), starts_at=at(1, 14), capacity=1)
    seated = services.group_signup(actor=(w := consenting_worker()).user, session=session, worker=w)
    first = services.group_signup(actor=(w := consenting_worker()).user, session=session, worker=w)
    newcomer = consenting_worker()
    race(lambda: services.group_signup_cancel(actor=seated.worker.user, signup=seated),
         lambda: services.group_signup(actor=newcomer.user, session=session, worker=newcomer))
    assert GroupSignup.objects.get(pk=first.pk).state == SignupState.BOOKED
    assert GroupSignup.objects.get(worker=newcomer).state == SignupState.WAITLISTED
    assert GroupSignup.objects.filter(state=SignupState.BOOKED).count() == 1
