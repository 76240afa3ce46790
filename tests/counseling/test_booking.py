"""Booking, consent, limits and the appointment lifecycle (any database)."""

import datetime

import pytest
from django.utils import translation

from care import audit, registry, sms
from care import permissions as hall_permissions
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import AuditEvent, Case, Channel, OutboundSms, Stage
from care.roles import Role
from counseling import selectors, services
from counseling.models import (
    Appointment,
    AppointmentState,
    CalendarException,
    CounselorProfile,
    ExceptionReason,
    HealthConsent,
    Mode,
    ServiceKind,
)
from tests.counseling.helpers import NOW, SH, at, book, consenting_worker, counselor, freeze, room, service
from tests.factories import WorkerFactory, staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def clock(monkeypatch):
    return freeze(monkeypatch)


def snapshot() -> tuple[int, int, int, int]:
    return (Appointment.objects.count(), Case.objects.count(), OutboundSms.objects.count(),
            AuditEvent.objects.count())


def refused(error_type, call, *, detail=None, match=None):
    before = snapshot()
    with pytest.raises(error_type) as caught:
        call()
    assert snapshot() == before, "a refusal changed something"
    if detail is not None:
        assert caught.value.detail == detail
    if match is not None:
        assert match in str(caught.value.message)
    return caught.value


# --- booking -----------------------------------------------------------------------------------


def test_a_worker_books_a_free_slot(clock):
    worker, who, place = consenting_worker(user__language="en"), counselor(), room("Room 3")
    appointment = book(worker=worker, counselor=who, starts_at=at(0, 10), room_=place)

    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.REQUESTED
    assert appointment.worker == worker and appointment.counselor == who and appointment.room == place
    assert appointment.ends_at == at(0, 10, 50) and appointment.blocked_until == at(0, 11)
    case = appointment.case
    assert case.department == "counseling" and case.channel == Channel.ONLINE
    assert case.stage == Stage.IN_PROGRESS and case.assignee == who  # only the counselor (and the worker) see it
    assert registry.has_department_file(case)
    [event] = AuditEvent.objects.filter(event_type="counseling.booked")
    assert event.actor == worker.user and event.subject_id == str(appointment.pk)
    assert event.new["counselor"] == who.pk and event.new["mode"] == Mode.IN_PERSON
    assert not {"reason", "description", "service"} & set(event.new)
    [message] = OutboundSms.objects.filter(worker=worker)  # one SMS: the appointment, with the reference
    assert message.template == "appointment_booked"
    assert "2026-03-02 10:00" in message.body and "Room 3" in message.body and case.reference in message.body
    assert sms.contains_sensitive_word(message.body) is None
    assert "/counseling/" not in message.body
    assert list(audit.verify()) == []


def test_the_front_desk_books_for_a_walk_in(clock):
    worker, who = consenting_worker(), counselor()
    desk = staff(Role.FRONT_DESK)
    appointment = book(worker=worker, counselor=who, starts_at=at(1, 9), actor=desk)
    assert appointment.case.channel == Channel.FRONT_DESK
    assert AuditEvent.objects.get(event_type="counseling.booked").actor == desk


def test_by_phone_needs_no_room_and_the_sms_says_so(clock):
    worker = consenting_worker(user__language="en")
    appointment = book(worker=worker, counselor=counselor(), starts_at=at(0, 14), mode=Mode.PHONE)
    assert appointment.room is None
    assert "by phone" in OutboundSms.objects.get(template="appointment_booked").body


def test_a_room_whose_name_names_the_service_is_not_sent(clock):
    worker = consenting_worker(user__language="zh-hans")
    book(worker=worker, counselor=counselor(), starts_at=at(0, 14), room_=room("心理咨询室 1"))
    body = OutboundSms.objects.get(template="appointment_booked").body
    assert sms.contains_sensitive_word(body) is None


def test_the_same_form_sent_twice_books_once(clock):
    worker, who, place = consenting_worker(), counselor(), room()
    first = book(worker=worker, counselor=who, starts_at=at(0, 10), room_=place)
    again = book(worker=worker, counselor=who, starts_at=at(0, 10), room_=place)
    assert again.pk == first.pk and Appointment.objects.count() == 1


def test_the_booked_slot_leaves_the_free_slots(clock):
    worker, who, place = consenting_worker(), counselor(), room()
    profile = CounselorProfile.objects.get(user=who)
    before = [s for s, _ in selectors.free_slots_for(profile=profile, room=place, start_day=NOW.date(), days=1)]
    assert before == [at(0, 10), at(0, 11), at(0, 14), at(0, 15), at(0, 16)]  # 09:00 is within 2 hours
    book(worker=worker, counselor=who, starts_at=at(0, 11), room_=place)
    after = [s for s, _ in selectors.free_slots_for(profile=profile, room=place, start_day=NOW.date(), days=1)]
    assert after == [at(0, 10), at(0, 14), at(0, 15), at(0, 16)]
    # another counselor sees the room's time as busy too, but not without the room
    other = CounselorProfile.objects.get(user=counselor())
    assert at(0, 11) not in [s for s, _ in selectors.free_slots_for(profile=other, room=place, days=1)]
    assert at(0, 11) in [s for s, _ in selectors.free_slots_for(profile=other, days=1)]


def test_free_slots_stop_after_the_days_ahead(clock, settings):
    settings.COUNSELING_MAX_DAYS_AHEAD = 3
    profile = CounselorProfile.objects.get(user=counselor())
    days = {s.astimezone(SH).date() for s, _ in selectors.free_slots_for(profile=profile)}
    assert days == {NOW.date() + datetime.timedelta(days=n) for n in range(4)}


# --- refusals: nothing changes, no SMS ---------------------------------------------------------


def test_no_consent_no_booking(clock):
    worker, who = WorkerFactory(), counselor()
    refused(InvalidState, lambda: book(worker=worker, counselor=who, starts_at=at(0, 10)),
            detail={"consent": "missing"}, match="consent")


def test_withdrawn_consent_no_booking(clock):
    worker, who = consenting_worker(), counselor()
    services.consent_withdraw(worker=worker, actor=worker.user)
    refused(InvalidState, lambda: book(worker=worker, counselor=who, starts_at=at(0, 10)),
            detail={"consent": "missing"})


@pytest.mark.parametrize(("starts_at", "detail"), [
    (at(0, 9), {"starts_at": "notice"}),  # one hour ahead; at least two
    (at(0, 7), {"starts_at": "notice"}),  # in the past
    (at(29, 9), {"starts_at": "too_far"}),
    (at(0, 10, 30), {"starts_at": "not_a_slot"}),  # not on the grid
    (at(0, 12), {"starts_at": "not_a_slot"}),  # lunch
    (at(0, 18), {"starts_at": "not_a_slot"}),  # after hours
])
def test_times_that_are_not_offered_are_refused(clock, starts_at, detail):
    worker, who = consenting_worker(), counselor()
    refused(InvalidInput, lambda: book(worker=worker, counselor=who, starts_at=starts_at), detail=detail)


def test_the_last_day_ahead_is_bookable(clock):
    appointment = book(worker=consenting_worker(), counselor=counselor(), starts_at=at(28, 16))
    assert appointment.starts_at == at(28, 16)


def test_exactly_the_minimum_notice_is_enough(clock):
    clock.set(at(0, 8))
    assert book(worker=consenting_worker(), counselor=counselor(), starts_at=at(0, 10)).pk


def test_a_naive_time_is_read_in_shanghai(clock):
    appointment = book(worker=consenting_worker(), counselor=counselor(), starts_at=datetime.datetime(2026, 3, 2, 10))
    assert appointment.starts_at == at(0, 10)


def test_time_off_is_not_offered(clock):
    worker, who = consenting_worker(), counselor()
    profile = CounselorProfile.objects.get(user=who)
    services.exception_add(profile=profile, actor=who, starts=NOW.date() + datetime.timedelta(days=1),
                           ends=NOW.date() + datetime.timedelta(days=2), reason=ExceptionReason.LEAVE)
    services.exception_add(profile=profile, actor=who, starts=at(0, 15), ends=at(0, 16),
                           reason=ExceptionReason.TRAINING)
    for starts_at in (at(1, 9), at(2, 16), at(0, 15)):
        refused(InvalidInput, lambda s=starts_at: book(worker=worker, counselor=who, starts_at=s),
                detail={"starts_at": "not_a_slot"})
    assert book(worker=worker, counselor=who, starts_at=at(3, 9)).pk  # the day after the leave


def test_only_the_counselor_adds_their_exceptions(clock):
    profile = CounselorProfile.objects.get(user=counselor())
    with pytest.raises(NotAllowed):
        services.exception_add(profile=profile, actor=counselor(), starts=NOW.date(), ends=NOW.date(),
                               reason=ExceptionReason.HOLIDAY)
    assert not CalendarException.objects.exists()


def test_a_taken_counselor_slot_is_refused_as_taken(clock):
    who = counselor()
    book(worker=consenting_worker(), counselor=who, starts_at=at(0, 10))
    refused(InvalidState, lambda: book(worker=consenting_worker(), counselor=who, starts_at=at(0, 10)),
            detail={"starts_at": "taken"}, match="taken")


def test_a_taken_room_is_refused_for_another_counselor(clock):
    place = room()
    book(worker=consenting_worker(), counselor=counselor(), starts_at=at(0, 10), room_=place)
    refused(InvalidState, lambda: book(worker=consenting_worker(), counselor=counselor(), starts_at=at(0, 10),
                                       room_=place), detail={"starts_at": "taken"})
    # the room's buffer: a counselor with 30-minute sessions on a half-hour grid cannot start at 10:30
    # (10:00–10:50 + 10 holds the room until 11:00), but can at 11:00
    short = counselor(session=30, buffer=0)
    refused(InvalidState, lambda: book(worker=consenting_worker(), counselor=short, starts_at=at(0, 10, 30),
                                       room_=place), detail={"starts_at": "taken"})
    assert book(worker=consenting_worker(), counselor=short, starts_at=at(0, 11), room_=place).pk


@pytest.mark.parametrize(("change", "error", "detail"), [
    ({"mode": Mode.VIDEO}, InvalidInput, {"mode": "invalid"}),  # not offered by this counselor
    ({"mode": "carrier pigeon"}, InvalidInput, {"mode": "invalid"}),
    ({"room_": None}, InvalidInput, {"room": "missing"}),
    ({"service_": "inactive"}, InvalidInput, {"service": "invalid"}),
    ({"service_": "group"}, InvalidInput, {"service": "invalid"}),
])
def test_bad_choices_are_refused(clock, change, error, detail):
    worker, who = consenting_worker(), counselor(modes=(Mode.IN_PERSON, Mode.PHONE))
    kwargs = {"worker": worker, "counselor": who, "starts_at": at(0, 10), "room_": room()}
    if change.get("service_") == "inactive":
        change = {"service_": service(active=False)}
    elif change.get("service_") == "group":
        change = {"service_": service(kind=ServiceKind.GROUP)}
    kwargs.update(change)
    if kwargs["room_"] is None:  # book() would give an in-person session a room
        def call():
            return services.appointment_book(actor=worker.user, worker=worker, service=service(), counselor=who,
                                             starts_at=at(0, 10), mode=Mode.IN_PERSON, room=None)
    else:
        def call():
            return book(**kwargs)
    refused(error, call, detail=detail)


def test_someone_not_a_counselor_cannot_be_booked(clock):
    officer = staff(Role.LEGAL_OFFICER, "legal")
    CounselorProfile.objects.create(user=officer)
    refused(InvalidInput, lambda: book(worker=consenting_worker(), counselor=officer, starts_at=at(0, 10)),
            detail={"counselor": "invalid"})


@pytest.mark.parametrize("actor_role", ["other_worker", Role.COUNSELOR, Role.CENTER_MANAGER, Role.ADMINISTRATOR])
def test_only_the_worker_or_the_front_desk_books(clock, actor_role):
    worker, who = consenting_worker(), counselor()
    actor = WorkerFactory().user if actor_role == "other_worker" else staff(actor_role, "counseling")
    refused(NotAllowed, lambda: book(worker=worker, counselor=who, starts_at=at(0, 10), actor=actor))


def test_at_most_two_open_appointments(clock):
    worker, who = consenting_worker(), counselor()
    first = book(worker=worker, counselor=who, starts_at=at(0, 10))
    book(worker=worker, counselor=who, starts_at=at(1, 10))
    refused(InvalidState, lambda: book(worker=worker, counselor=who, starts_at=at(2, 10)), detail={"open": "limit"})
    services.appointment_transition(appointment=first, actor=worker.user, transition="cancel")
    assert book(worker=worker, counselor=who, starts_at=at(2, 10)).pk


def test_appointments_that_have_ended_do_not_count(clock):
    worker, who = consenting_worker(), counselor()
    book(worker=worker, counselor=who, starts_at=at(0, 10))
    book(worker=worker, counselor=who, starts_at=at(0, 11))
    clock.set(at(0, 12))  # both ended, never moved on by the counselor
    assert book(worker=worker, counselor=who, starts_at=at(0, 15)).pk


# --- consent -----------------------------------------------------------------------------------


def test_consent_is_given_once_and_withdrawn(clock):
    worker = WorkerFactory()
    consent = services.consent_give(worker=worker, actor=worker.user)
    assert consent.is_current and consent.text_version == selectors.consent_version()
    assert services.consent_give(worker=worker, actor=worker.user).pk == consent.pk
    assert AuditEvent.objects.filter(event_type="counseling.consent_given").count() == 1
    withdrawn = services.consent_withdraw(worker=worker, actor=worker.user)
    assert withdrawn.pk == consent.pk and withdrawn.withdrawn_at == NOW
    assert selectors.current_consent(worker=worker) is None
    assert services.consent_withdraw(worker=worker, actor=worker.user) is None
    again = services.consent_give(worker=worker, actor=staff(Role.FRONT_DESK))
    assert again.pk != consent.pk and selectors.current_consent(worker=worker) == again


def test_a_new_consent_text_replaces_the_old(clock):
    worker = WorkerFactory()
    old = services.consent_give(worker=worker, actor=worker.user, text_version="2026-1")
    new = services.consent_give(worker=worker, actor=worker.user, text_version="2027-1")
    old.refresh_from_db()
    assert old.withdrawn_at is not None and new.is_current
    assert HealthConsent.objects.filter(worker=worker, withdrawn_at__isnull=True).count() == 1


@pytest.mark.parametrize("actor_role", ["other_worker", Role.COUNSELOR, Role.ADMINISTRATOR])
def test_nobody_else_gives_consent(clock, actor_role):
    worker = WorkerFactory()
    actor = WorkerFactory().user if actor_role == "other_worker" else staff(actor_role, "counseling")
    with pytest.raises(NotAllowed):
        services.consent_give(worker=worker, actor=actor)
    assert not HealthConsent.objects.exists()


# --- the lifecycle -----------------------------------------------------------------------------


def step(appointment, actor, transition, reason=""):
    return services.appointment_transition(appointment=appointment, actor=actor, transition=transition, reason=reason)


@pytest.mark.parametrize("last", ["complete", "refer"])
def test_requested_confirmed_checked_in_completed_or_referred(clock, last):
    worker, who = consenting_worker(), counselor()
    appointment = book(worker=worker, counselor=who, starts_at=at(0, 10))
    assert step(appointment, who, "confirm").state == AppointmentState.CONFIRMED
    assert step(appointment, who, "confirm").state == AppointmentState.CONFIRMED  # idempotent
    clock.set(at(0, 9, 55))
    assert step(appointment, who, "check_in").checked_in_at == at(0, 9, 55)
    refused(InvalidState, lambda: step(appointment, who, last))  # not started yet
    clock.set(at(0, 10, 50))
    done = step(appointment, who, last)
    assert done.state == {"complete": AppointmentState.COMPLETED, "refer": AppointmentState.REFERRED}[last]
    assert done.case.stage == Stage.CLOSED
    states = [e.new["state"] for e in AuditEvent.objects.filter(event_type="counseling.transition").order_by("seq")]
    assert states == ["confirmed", "checked_in", done.state]
    assert OutboundSms.objects.filter(template="appointment_cancelled").count() == 0


@pytest.mark.parametrize(("state_steps", "transition"), [
    ([], "check_in"),
    ([], "complete"),
    (["confirm"], "refer"),
    (["confirm", "check_in"], "cancel"),
    (["confirm", "check_in"], "no_show"),
])
def test_steps_out_of_order_are_refused(clock, state_steps, transition):
    worker, who = consenting_worker(), counselor()
    appointment = book(worker=worker, counselor=who, starts_at=at(0, 10))
    clock.set(at(0, 9, 55))
    for name in state_steps:
        appointment = step(appointment, who, name)
    clock.set(at(0, 10, 30))
    state = Appointment.objects.get(pk=appointment.pk).state
    refused(InvalidState, lambda: step(appointment, who, transition))
    assert Appointment.objects.get(pk=appointment.pk).state == state


@pytest.mark.parametrize("transition", ["confirm", "check_in", "complete", "refer", "no_show"])
def test_the_worker_cannot_move_their_appointment_on(clock, transition):
    worker = consenting_worker()
    appointment = book(worker=worker, counselor=counselor(), starts_at=at(0, 10))
    refused(NotAllowed, lambda: step(appointment, worker.user, transition))


@pytest.mark.parametrize("actor_role", [Role.COUNSELOR, Role.FRONT_DESK, Role.CENTER_MANAGER, "other_worker"])
@pytest.mark.parametrize("transition", ["confirm", "cancel"])
def test_nobody_else_acts_on_an_appointment(clock, actor_role, transition):
    appointment = book(worker=consenting_worker(), counselor=counselor(), starts_at=at(0, 10))
    actor = WorkerFactory().user if actor_role == "other_worker" else staff(actor_role, "counseling")
    refused(NotAllowed, lambda: step(appointment, actor, transition))


def test_an_unknown_step_is_refused(clock):
    who = counselor()
    appointment = book(worker=consenting_worker(), counselor=who, starts_at=at(0, 10))
    refused(InvalidInput, lambda: step(appointment, who, "cancel_late"))
    refused(InvalidInput, lambda: step(appointment, who, "save"))


@pytest.mark.parametrize(("hours_before", "expected"), [
    (48, AppointmentState.CANCELLED),
    (24, AppointmentState.CANCELLED),  # exactly at the cut-off: still in time
    (24 - 1 / 3600, AppointmentState.CANCELLED_LATE),  # one second inside it
    (1, AppointmentState.CANCELLED_LATE),
])
def test_the_worker_cancels_before_or_inside_the_cut_off(clock, hours_before, expected):
    worker = consenting_worker()
    starts_at = at(3, 10)
    appointment = book(worker=worker, counselor=counselor(), starts_at=starts_at)
    clock.set(starts_at - datetime.timedelta(hours=hours_before))
    cancelled = step(appointment, worker.user, "cancel", reason="加班")
    assert cancelled.state == expected
    stored = Appointment.objects.get(pk=appointment.pk)
    assert stored.cancel_reason == "加班" and stored.cancelled_by == worker.user
    assert stored.case.stage == Stage.WITHDRAWN
    [event] = AuditEvent.objects.filter(event_type="counseling.transition")
    assert event.new == {"state": expected, "transition": "cancel" if expected == "cancelled" else "cancel_late",
                         "reason_given": True}
    assert "加班" not in str(event.old) + str(event.new)
    # the worker cancelled themselves: no SMS about it
    assert not OutboundSms.objects.filter(template="appointment_cancelled").exists()
    assert step(appointment, worker.user, "cancel").state == expected  # idempotent


def test_the_counselor_cancels_inside_the_cut_off_without_it_being_late(clock):
    worker, who = consenting_worker(user__language="en"), counselor()
    appointment = book(worker=worker, counselor=who, starts_at=at(0, 10))
    assert step(appointment, who, "cancel", reason="生病").state == AppointmentState.CANCELLED
    [message] = OutboundSms.objects.filter(template="appointment_cancelled")
    assert "2026-03-02 10:00" in message.body and sms.contains_sensitive_word(message.body) is None


def test_the_worker_cannot_cancel_once_started(clock):
    worker = consenting_worker()
    appointment = book(worker=worker, counselor=counselor(), starts_at=at(0, 10))
    clock.set(at(0, 10, 1))
    refused(InvalidState, lambda: step(appointment, worker.user, "cancel"))


def test_a_cancelled_slot_is_free_again(clock):
    who = counselor()
    worker = consenting_worker()
    appointment = book(worker=worker, counselor=who, starts_at=at(0, 10))
    step(appointment, worker.user, "cancel")
    assert book(worker=consenting_worker(), counselor=who, starts_at=at(0, 10)).pk


def test_no_shows_are_counted_for_the_counselor(clock):
    worker, who = consenting_worker(), counselor()
    first = book(worker=worker, counselor=who, starts_at=at(0, 10))
    second = book(worker=worker, counselor=who, starts_at=at(0, 11))
    step(first, who, "confirm")
    refused(InvalidState, lambda: step(first, who, "no_show"))  # not yet started
    clock.set(at(0, 12))
    step(first, who, "no_show")
    step(second, who, "no_show")  # never confirmed, never came
    assert Appointment.objects.get(pk=first.pk).case.stage == Stage.CLOSED
    assert selectors.no_show_count(worker=worker, user=who) == 2
    other_worker = consenting_worker()
    book(worker=other_worker, counselor=who, starts_at=at(1, 10))
    assert selectors.no_show_count(worker=other_worker, user=who) == 0
    for someone in (counselor(), worker.user, staff(Role.FRONT_DESK), staff(Role.CENTER_MANAGER)):
        with pytest.raises(NotAllowed):
            selectors.no_show_count(worker=worker, user=someone)


def test_appointments_are_seen_by_their_worker_and_counselor_only(clock):
    worker, who = consenting_worker(), counselor()
    appointment = book(worker=worker, counselor=who, starts_at=at(0, 10))
    assert list(selectors.appointments_for_user(user=worker.user)) == [appointment]
    assert list(selectors.appointments_for_user(user=who)) == [appointment]
    for someone in (counselor(), WorkerFactory().user, staff(Role.FRONT_DESK), staff(Role.ADMINISTRATOR)):
        assert not selectors.appointments_for_user(user=someone).exists()


# --- rescheduling ------------------------------------------------------------------------------


def test_rescheduling_links_the_new_to_the_old(clock):
    worker, who = consenting_worker(user__language="en"), counselor()
    old = book(worker=worker, counselor=who, starts_at=at(0, 10))
    step(old, who, "confirm")
    new = services.appointment_reschedule(appointment=old, actor=worker.user, starts_at=at(1, 14), reason="换班")
    old.refresh_from_db()
    assert old.state == AppointmentState.CANCELLED and old.replaced_by == new
    assert new.replaces == old and new.state == AppointmentState.REQUESTED
    assert new.case_id == old.case_id and new.case.stage == Stage.IN_PROGRESS
    assert new.room_id == old.room_id and new.starts_at == at(1, 14)
    [message] = OutboundSms.objects.filter(template="appointment_moved")
    assert "2026-03-03 14:00" in message.body
    [event] = AuditEvent.objects.filter(event_type="counseling.rescheduled")
    assert event.old["appointment"] == old.pk and event.new["appointment"] == new.pk
    # the old time is free again; moving to the same time again changes nothing
    assert book(worker=consenting_worker(), counselor=who, starts_at=at(0, 10)).pk
    assert services.appointment_reschedule(appointment=new, actor=who, starts_at=at(1, 14)).pk == new.pk


def test_rescheduling_at_the_open_limit_is_allowed(clock):
    worker, who = consenting_worker(), counselor()
    first = book(worker=worker, counselor=who, starts_at=at(0, 10))
    book(worker=worker, counselor=who, starts_at=at(0, 11))
    # at the limit of two, moving one is still allowed
    moved = services.appointment_reschedule(appointment=first, actor=worker.user, starts_at=at(0, 14))
    assert moved.replaces_id == first.pk


def test_rescheduling_to_another_counselor_hands_the_case_over(clock):
    worker, who, other = consenting_worker(), counselor(), counselor()
    old = book(worker=worker, counselor=who, starts_at=at(0, 10))
    new = services.appointment_reschedule(appointment=old, actor=who, starts_at=at(0, 10), counselor=other)
    case = Case.objects.get(pk=old.case_id)
    assert new.counselor == other and case.assignee == other
    readers = {user.pk for user in (who, other) if Case.objects.filter(hall_permissions.visible_cases_q(user),
                                                                        pk=case.pk).exists()}
    assert readers == {other.pk}  # the former counselor no longer reads the hall's case


def test_rescheduling_to_a_taken_time_changes_nothing(clock):
    worker, who = consenting_worker(), counselor()
    old = book(worker=worker, counselor=who, starts_at=at(0, 10))
    book(worker=consenting_worker(), counselor=who, starts_at=at(0, 14))
    refused(InvalidState, lambda: services.appointment_reschedule(appointment=old, actor=worker.user,
                                                                  starts_at=at(0, 14)), detail={"starts_at": "taken"})
    assert Appointment.objects.get(pk=old.pk).state == AppointmentState.REQUESTED


def test_only_the_worker_or_the_counselor_reschedules_an_open_appointment(clock):
    worker, who = consenting_worker(), counselor()
    appointment = book(worker=worker, counselor=who, starts_at=at(0, 10))
    for someone in (counselor(), staff(Role.FRONT_DESK), WorkerFactory().user):
        refused(NotAllowed, lambda s=someone: services.appointment_reschedule(appointment=appointment, actor=s,
                                                                              starts_at=at(0, 14)))
    step(appointment, who, "cancel")
    refused(InvalidState, lambda: services.appointment_reschedule(appointment=appointment, actor=worker.user,
                                                                  starts_at=at(0, 14)))


def test_the_sms_templates_name_no_service():
    for code in ("appointment_booked", "appointment_moved", "appointment_cancelled"):
        spec = sms.templates()[code]
        for language in ("en", "zh-hans"):
            with translation.override(language):
                body = str(spec.text) % {"ref": "QD-2026-000001", **spec.sample}
            assert sms.contains_sensitive_word(body) is None


@pytest.mark.django_db
def test_the_admin_configures_counselors_rooms_and_services_and_shows_no_appointment():
    from django.test import Client

    from tests.factories import staff as make_staff

    admin_user = make_staff(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
    who = counselor()
    client = Client()
    client.force_login(admin_user)
    profile = f"/admin/counseling/counselorprofile/{who.counselor_profile.pk}/change/"
    for url in ("/admin/counseling/counselorprofile/", profile, "/admin/counseling/room/",
                "/admin/counseling/service/"):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/counseling/appointment/").status_code == 404
    assert client.get("/admin/counseling/healthconsent/").status_code == 404
