"""The care station at the same moment, on PostgreSQL: real connections and real row locks. The
last place goes to one child only, places given back go to the waitlist in order, the ratio
holds when two doors take children in at once, and a child is checked in once."""

import pytest
from django.db import connection

from care import audit
from care.errors import InvalidState
from care.models import OutboundSms
from childcare import services
from childcare.models import Attendance, Enrolment, EnrolmentState
from tests.childcare.helpers import care_staff, child, enrolled, freeze, on_duty, programme, station
from tests.concurrency import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def _sms(template: str) -> list[OutboundSms]:
    return list(OutboundSms.objects.filter(template=template).order_by("pk"))


def _state(row) -> str:
    return type(row).objects.get(pk=row.pk).state


def _doors():
    one, two = care_staff(mobile="+8613700001111"), care_staff(mobile="+8613700002222")
    return one, two, station(members=[one, two])


# --- enrolment: the last place ------------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(3))
def test_two_guardians_enrolling_for_the_last_place_at_once_one_gets_it(monkeypatch, attempt):
    freeze(monkeypatch)
    _, _, place = _doors()
    prog = programme(place, capacity=2)
    enrolled(prog)  # one place left
    one, two = child(name="小红"), child(name="小刚")
    outcomes = race(
        lambda: services.enrol(actor=one.guardian.user, child=one, programme=prog),
        lambda: services.enrol(actor=two.guardian.user, child=two, programme=prog),
    )
    assert all(isinstance(o, Enrolment) for o in outcomes), outcomes
    assert sorted(o.state for o in outcomes) == [EnrolmentState.ENROLLED, EnrolmentState.WAITLISTED], outcomes
    assert Enrolment.objects.filter(programme=prog, state=EnrolmentState.ENROLLED).count() == 2  # never three
    [waiting] = Enrolment.objects.filter(programme=prog, state=EnrolmentState.WAITLISTED)
    assert services.waitlist_position(waiting) == 1
    # each guardian got the message that matches the outcome
    for outcome in outcomes:
        template = "care_enrolled" if outcome.state == EnrolmentState.ENROLLED else "care_waitlisted"
        [message] = OutboundSms.objects.filter(worker=outcome.child.guardian)
        assert message.template == template, (outcome.state, message.template)
    assert len(_sms("care_enrolled")) == 2 and len(_sms("care_waitlisted")) == 1
    assert list(audit.verify()) == []


# --- two places given back at once --------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(3))
def test_two_places_given_back_at_once_go_to_the_waitlist_in_order(monkeypatch, attempt):
    freeze(monkeypatch)
    _, _, place = _doors()
    prog = programme(place, capacity=2)
    first, second = enrolled(prog), enrolled(prog)
    third, fourth = enrolled(prog), enrolled(prog)
    assert [_state(e) for e in (first, second, third, fourth)] == ["enrolled", "enrolled", "waitlisted",
                                                                   "waitlisted"]
    outcomes = race(
        lambda: services.enrolment_withdraw(actor=first.child.guardian.user, enrolment=first),
        lambda: services.enrolment_withdraw(actor=second.child.guardian.user, enrolment=second),
    )
    assert all(isinstance(o, Enrolment) for o in outcomes), outcomes
    assert [_state(e) for e in (first, second, third, fourth)] == ["withdrawn", "withdrawn", "enrolled", "enrolled"]
    assert Enrolment.objects.filter(programme=prog, state=EnrolmentState.ENROLLED).count() == 2
    # in queue order (the first waiting promoted first), each promoted once, each told once
    promoted = _sms("care_promoted")
    assert [m.worker_id for m in promoted] == [third.child.guardian_id, fourth.child.guardian_id]
    for enrolment in (third, fourth):
        events = [e for e in audit.events_for(enrolment) if e.event_type == services.ChildcareEvent.PROMOTED]
        assert len(events) == 1, events
    assert not [e for e in (*audit.events_for(first), *audit.events_for(second))
                if e.event_type == services.ChildcareEvent.PROMOTED]
    assert list(audit.verify()) == []


# --- check-in -----------------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(3))
def test_two_check_ins_at_once_at_the_ratio_limit_one_child_is_refused(monkeypatch, attempt):
    freeze(monkeypatch)
    door_one, door_two, place = _doors()
    prog = programme(place, ratio=1)
    on_duty(prog, door_one)  # one member of staff: one child
    kids = [enrolled(prog), enrolled(prog)]
    outcomes = race(
        lambda: services.check_in(actor=door_one, enrolment=kids[0], brought_by="妈妈"),
        lambda: services.check_in(actor=door_two, enrolment=kids[1], brought_by="爸爸"),
    )
    taken = [o for o in outcomes if isinstance(o, Attendance)]
    refused = [o for o in outcomes if not isinstance(o, Attendance)]
    assert len(taken) == 1 and len(refused) == 1, outcomes
    assert isinstance(refused[0], InvalidState) and refused[0].detail == {"ratio": "full"}, outcomes
    assert list(Attendance.objects.values_list("pk", flat=True)) == [taken[0].pk]
    assert len(_sms("care_checked_in")) == 1
    [alert] = _sms("care_ratio_alert")
    assert alert.to == place.coordinator.mobile and alert.worker is None  # to the coordinator
    refusals = [e for kid in kids for e in audit.events_for(kid)
                if e.event_type == services.ChildcareEvent.CHECK_IN_REFUSED]
    assert len(refusals) == 1
    assert list(audit.verify()) == []


@pytest.mark.parametrize("attempt", range(3))
def test_two_staff_checking_in_the_same_child_at_once_make_one_attendance(monkeypatch, attempt):
    freeze(monkeypatch)
    door_one, door_two, place = _doors()
    prog = programme(place)
    on_duty(prog, door_one, door_two)
    enrolment = enrolled(prog)
    outcomes = race(
        lambda: services.check_in(actor=door_one, enrolment=enrolment, brought_by="妈妈"),
        lambda: services.check_in(actor=door_two, enrolment=enrolment, brought_by="妈妈"),
    )
    # no error leaks (an IntegrityError on childcare_one_attendance would show here)
    assert all(isinstance(o, Attendance) for o in outcomes), outcomes
    [attendance] = Attendance.objects.all()
    assert {o.pk for o in outcomes} == {attendance.pk}
    assert len(_sms("care_checked_in")) == 1
    checked_in = [e for e in audit.events_for(attendance) if e.event_type == services.ChildcareEvent.CHECKED_IN]
    assert len(checked_in) == 1
    assert list(audit.verify()) == []
