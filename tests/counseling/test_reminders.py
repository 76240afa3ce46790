"""SMS reminders 24 h and 2 h before a holding appointment: made at booking, gone when it
stops holding, moved with it, sent exactly once by the sweep (any database)."""

import datetime

import pytest
from django.db import connection
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from care import sms
from care.models import OutboundSms
from care.tasks_runtime import _daily
from counseling import services
from counseling.models import Mode, ReminderDue, ReminderOffset
from counseling.tasks import send_due_reminders, wake_reminders
from tests.concurrency import race
from tests.counseling.helpers import at, book, consenting_worker, counselor, freeze

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def clock(monkeypatch):
    return freeze(monkeypatch)


@pytest.fixture
def booked(clock):
    worker, c = consenting_worker(), counselor()
    return book(worker=worker, counselor=c, starts_at=at(1, 14))  # Tuesday 14:00, Asia/Shanghai


def due_times(appointment) -> dict[str, datetime.datetime]:
    return dict(ReminderDue.objects.filter(appointment=appointment, sent_at__isnull=True)
                .values_list("offset", "due_at"))


def reminders_sent() -> list[OutboundSms]:
    return list(OutboundSms.objects.filter(template="appointment_reminder").order_by("pk"))


def wake_ups() -> list[datetime.datetime]:
    return sorted(DBTaskResult.objects.filter(task_path="counseling.tasks.wake_reminders")
                  .values_list("run_after", flat=True))


def test_booking_makes_reminders_24_and_2_hours_before_in_shanghai_time(booked):
    assert due_times(booked) == {ReminderOffset.DAY_BEFORE: at(0, 14), ReminderOffset.TWO_HOURS: at(1, 12)}
    assert at(1, 12).utcoffset() == 8 * H  # the clock is Asia/Shanghai
    # each reminder wakes the sweep at its own time, stored with the booking
    assert wake_ups() == [at(0, 14), at(1, 12)]


def test_the_reminder_template_says_only_when_and_where():
    text = str(sms.templates()["appointment_reminder"].text)
    assert sms.contains_sensitive_word(text) is None
    assert "%(when)s" in text and "%(where)s" in text


def test_a_booking_less_than_24_hours_ahead_gets_only_the_2_hour_reminder(clock):
    appointment = book(worker=consenting_worker(), counselor=counselor(), starts_at=at(0, 15))
    assert due_times(appointment) == {ReminderOffset.TWO_HOURS: at(0, 13)}


def test_a_booking_closer_than_2_hours_gets_no_reminder(clock, settings):
    settings.COUNSELING_MIN_NOTICE_HOURS = 1
    appointment = book(worker=consenting_worker(), counselor=counselor(), starts_at=at(0, 9))  # 1 h ahead
    assert due_times(appointment) == {}
    assert not ReminderDue.objects.exists()
    assert wake_ups() == []


def test_the_sweep_sends_each_reminder_exactly_once(booked, clock):
    clock.set(at(0, 13, 59))
    assert services.reminders_send_due() == 0  # not due yet
    clock.set(at(0, 14))
    assert services.reminders_send_due() == 1
    assert services.reminders_send_due() == 0  # run twice: nothing more
    assert send_due_reminders.call() == 0
    [first] = reminders_sent()
    assert first.worker == booked.case.worker
    assert booked.case.reference in first.body and "2026-03-03 14:00" in first.body
    assert sms.contains_sensitive_word(first.body) is None
    assert ReminderDue.objects.get(offset=ReminderOffset.DAY_BEFORE).sent_at == at(0, 14)

    clock.set(at(1, 12, 3))
    assert wake_reminders.call() == 1
    assert wake_reminders.call() == 0
    assert len(reminders_sent()) == 2
    assert not ReminderDue.objects.filter(sent_at__isnull=True).exists()


def test_a_late_sweep_sends_only_the_nearer_reminder_and_none_once_it_started(booked, clock):
    clock.set(at(1, 12, 30))  # both due: one SMS, both marked
    assert services.reminders_send_due() == 1
    assert not ReminderDue.objects.filter(sent_at__isnull=True).exists()
    ReminderDue.objects.update(sent_at=None)
    clock.set(at(1, 14))  # the appointment has started: too late to remind
    assert services.reminders_send_due() == 0
    assert len(reminders_sent()) == 1


@pytest.mark.parametrize("who", ["worker", "counselor"])
def test_cancelling_removes_the_reminders(booked, clock, who):
    actor = booked.case.worker.user if who == "worker" else booked.counselor
    services.appointment_transition(appointment=booked, actor=actor, transition="cancel")
    assert due_times(booked) == {}
    for moment in (at(0, 14), at(1, 12)):
        clock.set(moment)
        assert services.reminders_send_due() == 0
    assert reminders_sent() == []


def test_a_no_show_removes_the_reminders_not_yet_sent(booked, clock):
    services.appointment_transition(appointment=booked, actor=booked.counselor, transition="confirm")
    clock.set(at(0, 14))
    services.reminders_send_due()  # the day-before one goes
    clock.set(at(1, 14, 20))
    services.appointment_transition(appointment=booked, actor=booked.counselor, transition="no_show")
    assert due_times(booked) == {}
    assert services.reminders_send_due() == 0
    assert len(reminders_sent()) == 1


def test_completing_removes_the_reminders(booked, clock):
    services.appointment_transition(appointment=booked, actor=booked.counselor, transition="confirm")
    clock.set(at(1, 14))
    services.appointment_transition(appointment=booked, actor=booked.counselor, transition="check_in")
    assert due_times(booked)  # checked in still holds (the 2-hour one was never swept)
    clock.set(at(1, 14, 50))
    services.appointment_transition(appointment=booked, actor=booked.counselor, transition="complete")
    assert due_times(booked) == {}


def test_rescheduling_moves_the_reminders(booked, clock):
    moved = services.appointment_reschedule(appointment=booked, actor=booked.case.worker.user, starts_at=at(2, 10))
    assert due_times(booked) == {}
    assert due_times(moved) == {ReminderOffset.DAY_BEFORE: at(1, 10), ReminderOffset.TWO_HOURS: at(2, 8)}
    clock.set(at(0, 14))  # the old appointment's time: nothing goes
    assert services.reminders_send_due() == 0
    clock.set(at(1, 10))
    assert services.reminders_send_due() == 1
    assert "2026-03-04 10:00" in reminders_sent()[0].body


def test_the_sweep_is_registered_as_a_daily_task():
    assert "counseling.tasks.send_due_reminders" in _daily


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent sweeps need PostgreSQL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(2))
def test_two_sweeps_at_once_send_each_reminder_once(monkeypatch, attempt):
    clock = freeze(monkeypatch)
    c = counselor()
    for hour in (9, 10, 11, 14, 15, 16):
        book(worker=consenting_worker(), counselor=c, starts_at=at(1, hour), mode=Mode.PHONE)
    clock.set(at(0, 17))  # every day-before reminder is due
    outcomes = race(services.reminders_send_due, services.reminders_send_due)
    assert sorted(outcomes) in ([0, 6], [1, 5], [2, 4], [3, 3]), outcomes
    assert len(reminders_sent()) == 6
    assert ReminderDue.objects.filter(sent_at__isnull=False).count() == 6
