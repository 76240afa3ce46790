"""The care station's rules, through its services: ages, capacity and the waitlist, the
staff-to-child ratio at check-in, the pick-up code and authorised persons, the closing-time
alert, incidents, and what each refusal leaves behind (a record, an SMS, nothing else)."""

import datetime

import pytest
from django.utils import translation

from care import audit, crypto
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import Case, OutboundSms, Stage, Urgency
from childcare import selectors, services
from childcare.models import (
    Attendance,
    AttendanceState,
    Child,
    Enrolment,
    EnrolmentState,
    Incident,
    PickupPerson,
    PickupRefusal,
    RefusalReason,
)
from tests.childcare.helpers import (
    TODAY,
    at,
    care_staff,
    child,
    code_of,
    enrolled,
    freeze,
    on_duty,
    programme,
    station,
)
from tests.factories import WorkerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def clock(monkeypatch):
    return freeze(monkeypatch)


@pytest.fixture
def door():
    return care_staff(mobile="+8613700001111")


@pytest.fixture
def place(door):
    return station(members=[door])


def sms(template: str) -> list[OutboundSms]:
    return list(OutboundSms.objects.filter(template=template).order_by("pk"))


def state(row) -> str:
    return type(row).objects.get(pk=row.pk).state


# --- enrolment ---------------------------------------------------------------------------------


def test_enrolment_opens_a_case_assigned_to_the_coordinator_and_tells_the_guardian(clock, place):
    prog = programme(place)
    enrolment = enrolled(prog)
    assert enrolment.state == EnrolmentState.ENROLLED
    case = Case.objects.get(pk=enrolment.case_id)
    assert (case.department, case.stage, case.assignee) == ("childcare", Stage.IN_PROGRESS, place.coordinator)
    [message] = sms("care_enrolled")
    assert message.worker == enrolment.child.guardian and prog.name in message.body


@pytest.mark.parametrize(("age", "accepted"), [(5, False), (6, True), (12, True), (13, False)])
def test_age_outside_the_range_is_refused_with_a_clear_message(clock, place, age, accepted):
    prog = programme(place, min_age=6, max_age=12)
    kid = child(age=age)
    if accepted:
        assert services.enrol(actor=kid.guardian.user, child=kid, programme=prog).state == EnrolmentState.ENROLLED
        return
    with pytest.raises(InvalidInput) as refused:
        services.enrol(actor=kid.guardian.user, child=kid, programme=prog)
    assert f"will be {age}" in str(refused.value.message) and "aged 6 to 12" in str(refused.value.message)
    assert not Enrolment.objects.exists() and not Case.objects.exists() and not OutboundSms.objects.exists()


def test_beyond_capacity_the_waitlist_then_promotion_in_order_with_sms(clock, place):
    prog = programme(place, capacity=1)
    first, second, third = enrolled(prog), enrolled(prog), enrolled(prog)
    assert [state(e) for e in (first, second, third)] == ["enrolled", "waitlisted", "waitlisted"]
    assert services.waitlist_position(Enrolment.objects.get(pk=third.pk)) == 2
    assert "候补名单第2位" in sms("care_waitlisted")[-1].body  # the guardian's language: Chinese

    services.enrolment_withdraw(actor=first.child.guardian.user, enrolment=first)
    assert [state(e) for e in (first, second, third)] == ["withdrawn", "enrolled", "waitlisted"]
    [promoted] = sms("care_promoted")
    assert promoted.worker == second.child.guardian
    assert Case.objects.get(pk=first.case_id).stage == Stage.WITHDRAWN
    assert services.waitlist_position(Enrolment.objects.get(pk=third.pk)) == 1


def test_more_places_promote_the_waitlist_and_never_below_the_enrolled(clock, place):
    prog = programme(place, capacity=1)
    enrolled(prog)
    waiting = enrolled(prog)
    with pytest.raises(InvalidInput):
        services.programme_set_capacity(actor=place.coordinator, programme=prog, capacity=0)
    services.programme_set_capacity(actor=place.coordinator, programme=prog, capacity=2)
    assert state(waiting) == "enrolled"


def test_enrolling_twice_returns_the_same_place(clock, place):
    prog = programme(place)
    enrolment = enrolled(prog)
    again = services.enrol(actor=enrolment.child.guardian.user, child=enrolment.child, programme=prog)
    assert again.pk == enrolment.pk and Enrolment.objects.count() == 1


def test_only_the_guardian_or_the_front_desk_enrols_a_child(clock, place):
    from care.roles import Role
    from tests.factories import staff

    prog = programme(place)
    kid = child()
    for stranger in (WorkerFactory().user, place.coordinator, staff(Role.CENTER_MANAGER)):
        with pytest.raises(NotAllowed):
            services.enrol(actor=stranger, child=kid, programme=prog)
    desk = staff(Role.FRONT_DESK)
    assert services.enrol(actor=desk, child=kid, programme=prog).case.channel == "front_desk"


def test_medical_notes_and_id_numbers_are_encrypted_at_rest(clock, place):
    from django.db import connection

    kid = child(allergies="花生过敏", medical_notes="哮喘，备有吸入器")
    person = services.pickup_person_add(actor=kid.guardian.user, child=kid, name="王奶奶", relation="祖母",
                                        mobile="13900000002", id_number="11010519491231002X")
    with connection.cursor() as cursor:
        cursor.execute("SELECT allergies, medical_notes FROM childcare_child WHERE id = %s", [kid.pk])
        raw = " ".join(cursor.fetchone())
        cursor.execute("SELECT id_number FROM childcare_pickupperson WHERE id = %s", [person.pk])
        raw_id = cursor.fetchone()[0]
    assert "花生" not in raw and "哮喘" not in raw and "1101051949" not in raw_id
    assert crypto.decrypt(raw_id, context="childcare.pickupperson.id_number") == "11010519491231002X"
    assert Child.objects.get(pk=kid.pk).medical_notes == "哮喘，备有吸入器"


# --- check-in and the ratio ----------------------------------------------------------------------


def test_check_in_sends_a_one_time_code_and_keeps_only_its_hash(clock, place, door):
    prog = programme(place)
    enrolment = enrolled(prog)
    on_duty(prog, door)
    attendance = services.check_in(actor=door, enrolment=enrolment, brought_by="妈妈")
    assert (attendance.state, attendance.day, attendance.brought_by) == (AttendanceState.CHECKED_IN, TODAY, "妈妈")
    code = code_of(enrolment)
    assert code not in attendance.code_hash and len(attendance.code_hash) == 64
    [message] = sms("care_checked_in")
    assert message.essential and enrolment.child.name in message.body
    again = services.check_in(actor=door, enrolment=enrolment, brought_by="爸爸")
    assert again.pk == attendance.pk and len(sms("care_checked_in")) == 1


def test_check_in_refused_when_the_staff_on_duty_cannot_cover_the_ratio(clock, place, door):
    prog = programme(place, ratio=2)
    kids = [enrolled(prog) for _ in range(3)]
    with pytest.raises(InvalidState) as nobody:
        services.check_in(actor=door, enrolment=kids[0], brought_by="妈妈")  # nobody on duty
    assert "0 staff on duty" in str(nobody.value.message)
    on_duty(prog, door)
    services.check_in(actor=door, enrolment=kids[0], brought_by="妈妈")
    services.check_in(actor=door, enrolment=kids[1], brought_by="妈妈")
    with pytest.raises(InvalidState) as full:
        services.check_in(actor=door, enrolment=kids[2], brought_by="妈妈")
    assert full.value.detail == {"ratio": "full"} and "at most 2 children" in str(full.value.message)
    assert not Attendance.objects.filter(enrolment=kids[2]).exists()
    alerts = sms("care_ratio_alert")
    assert len(alerts) == 2 and alerts[-1].to == place.coordinator.mobile and alerts[-1].urgency == Urgency.URGENT
    refusals = [e for e in audit.events_for(kids[2]) if e.event_type == "childcare.check_in_refused"]
    assert refusals and refusals[0].new["present"] == 2
    # A child collected frees a place under the ratio.
    first = Attendance.objects.get(enrolment=kids[0])
    guardian_person = kids[0].child.pickup_persons.get(is_guardian=True)
    services.check_out(actor=door, attendance=first, collector=guardian_person, code=code_of(kids[0]))
    assert services.check_in(actor=door, enrolment=kids[2], brought_by="妈妈").state == AttendanceState.CHECKED_IN


def test_check_in_only_by_the_station_s_staff_and_on_a_programme_day(clock, place, door):
    prog = programme(place, weekdays="2")  # Tuesdays only; today is a Monday
    enrolment = enrolled(prog)
    other_station_staff = care_staff(mobile="+8613700002222")
    station(members=[other_station_staff], name="另一个驿站")
    with pytest.raises(NotAllowed):
        services.check_in(actor=other_station_staff, enrolment=enrolment, brought_by="妈妈")
    with pytest.raises(InvalidState):
        services.check_in(actor=door, enrolment=enrolment, brought_by="妈妈")
    assert not Attendance.objects.exists()


# --- check-out and pick-up safety -----------------------------------------------------------------


@pytest.fixture
def here(clock, place, door):
    prog = programme(place)
    enrolment = enrolled(prog)
    on_duty(prog, door)
    attendance = services.check_in(actor=door, enrolment=enrolment, brought_by="妈妈")
    return enrolment, attendance


def test_an_authorised_person_with_the_code_collects_the_child(here, door):
    enrolment, attendance = here
    grandma = services.pickup_person_add(actor=enrolment.child.guardian.user, child=enrolment.child, name="王奶奶",
                                         relation="祖母", mobile="13900000002", id_number="11010519491231002X")
    done = services.check_out(actor=door, attendance=attendance, collector=grandma, code=code_of(enrolment))
    assert (done.state, done.collected_by, done.checked_out_by) == (AttendanceState.CHECKED_OUT, grandma, door)
    [told] = sms("care_checked_out")
    assert "王奶奶" in told.body and told.worker == enrolment.child.guardian


def test_a_pick_up_by_anyone_else_is_refused_logged_and_the_guardian_told_at_once(here, door):
    enrolment, attendance = here
    with pytest.raises(services.PickupRefused) as refused:
        services.check_out(actor=door, attendance=attendance, collector=None, code=code_of(enrolment),
                           presented_name="陌生人")
    assert "陌生人 is not authorised" in str(refused.value.message)
    assert state(attendance) == AttendanceState.CHECKED_IN
    [row] = PickupRefusal.objects.all()
    assert (row.presented_name, row.reason, row.refused_by) == ("陌生人", RefusalReason.NOT_AUTHORISED, door)
    [urgent] = sms("care_pickup_refused")
    assert urgent.urgency == Urgency.URGENT and urgent.essential and "陌生人" in urgent.body
    assert any(e.event_type == "childcare.pickup_refused" for e in audit.events_for(attendance))


def test_a_wrong_code_a_removed_person_or_another_child_s_person_is_refused(here, door):
    enrolment, attendance = here
    guardian = enrolment.child.guardian
    uncle = services.pickup_person_add(actor=guardian.user, child=enrolment.child, name="李叔叔", relation="舅舅",
                                       mobile="13900000003", id_number="11010519491231002X")
    code = code_of(enrolment)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(services.PickupRefused):
        services.check_out(actor=door, attendance=attendance, collector=uncle, code=wrong)
    services.pickup_person_remove(actor=guardian.user, person=uncle)
    with pytest.raises(services.PickupRefused):
        services.check_out(actor=door, attendance=attendance, collector=uncle, code=code)
    strangers_child = child(name="别人家的孩子")
    their_guardian = strangers_child.pickup_persons.get(is_guardian=True)
    with pytest.raises(services.PickupRefused):
        services.check_out(actor=door, attendance=attendance, collector=their_guardian, code=code)
    reasons = list(PickupRefusal.objects.order_by("pk").values_list("reason", flat=True))
    assert reasons == [RefusalReason.WRONG_CODE, RefusalReason.NOT_AUTHORISED, RefusalReason.NOT_AUTHORISED]
    assert len(sms("care_pickup_refused")) == 3 and state(attendance) == AttendanceState.CHECKED_IN


def test_the_guardian_always_stays_authorised(here):
    enrolment, _attendance = here
    me = enrolment.child.pickup_persons.get(is_guardian=True)
    with pytest.raises(InvalidState):
        services.pickup_person_remove(actor=enrolment.child.guardian.user, person=me)
    assert PickupPerson.objects.get(pk=me.pk).active


def test_a_photo_must_be_a_picture(clock):
    from django.core.files.uploadedfile import SimpleUploadedFile

    kid = child()
    with pytest.raises(InvalidInput) as refused:
        services.pickup_person_add(actor=kid.guardian.user, child=kid, name="王奶奶", relation="祖母",
                                   mobile="13900000002", id_number="11010519491231002X",
                                   photo=SimpleUploadedFile("me.png", b"%PDF-1.4 not a picture"))
    assert refused.value.detail.get("photo") == "type" or refused.value.detail.get("file") == "type"
    assert not PickupPerson.objects.filter(is_guardian=False).exists()


# --- closing time ------------------------------------------------------------------------------


def test_at_closing_time_a_child_not_collected_alerts_the_coordinator_and_the_guardian_once(here, clock, place):
    enrolment, attendance = here
    assert services.closing_alerts(now=at(17, 29)) == 0
    assert services.closing_alerts(now=at(17, 30)) == 1
    [guardian_alert] = sms("care_not_collected")
    [coordinator_alert] = sms("care_coordinator_not_collected")
    assert guardian_alert.worker == enrolment.child.guardian and guardian_alert.urgency == Urgency.URGENT
    assert coordinator_alert.to == place.coordinator.mobile and enrolment.child.name in coordinator_alert.body
    assert services.closing_alerts(now=at(18)) == 0  # once
    assert len(sms("care_not_collected")) == 1


def test_a_child_collected_before_closing_raises_no_alert(here, door):
    enrolment, attendance = here
    me = enrolment.child.pickup_persons.get(is_guardian=True)
    services.check_out(actor=door, attendance=attendance, collector=me, code=code_of(enrolment))
    assert services.closing_alerts(now=at(19)) == 0 and not sms("care_not_collected")


# --- incidents and the end of a programme ---------------------------------------------------------


def test_an_incident_is_encrypted_audited_and_the_guardian_told(here, door, clock):
    from django.db import connection

    enrolment, _attendance = here
    clock.set(at(11))
    incident = services.incident_record(actor=door, enrolment=enrolment, occurred_at=at(10), kind="injury",
                                        description="跑步时摔倒，膝盖擦伤", action_taken="消毒包扎")
    with connection.cursor() as cursor:
        cursor.execute("SELECT description, action_taken FROM childcare_incident WHERE id = %s", [incident.pk])
        assert "摔倒" not in " ".join(cursor.fetchone())
    assert Incident.objects.get(pk=incident.pk).action_taken == "消毒包扎"
    [told] = sms("care_incident")
    assert "摔倒" not in told.body and told.urgency == Urgency.URGENT
    assert any(e.event_type == "childcare.incident_recorded" for e in audit.events_for(incident))


def test_a_finished_programme_closes_the_case_of_a_child_who_came(here, clock):
    enrolment, _attendance = here
    waiting_prog = enrolment.programme
    services.enrolments_finish_ended(on=waiting_prog.ends_on)  # not over yet
    assert state(enrolment) == EnrolmentState.ENROLLED
    assert services.enrolments_finish_ended(on=waiting_prog.ends_on + datetime.timedelta(days=1)) == 1
    assert state(enrolment) == EnrolmentState.FINISHED
    assert Case.objects.get(pk=enrolment.case_id).stage == Stage.CLOSED


def test_the_roster_never_lists_another_station_s_children(clock, place, door):
    ours = enrolled(programme(place), name="我们的孩子")
    theirs_staff = care_staff(mobile="+8613700003333")
    theirs = enrolled(programme(station(members=[theirs_staff], name="别的驿站")), name="别人的孩子")
    assert [e.pk for e in selectors.roster(user=door, day=TODAY)] == [ours.pk]
    assert [e.pk for e in selectors.roster(user=theirs_staff, day=TODAY)] == [theirs.pk]
    assert selectors.roster(user=WorkerFactory().user, day=TODAY) == []


def test_a_check_in_wakes_the_closing_check_at_the_programme_s_closing_time(here):
    from django_tasks_db.models import DBTaskResult

    from childcare import tasks

    queued = list(DBTaskResult.objects.filter(task_path="childcare.tasks.closing_check")
                  .values_list("run_after", flat=True))
    assert queued == [at(17, 30)]
    # The task runs the sweep: nothing before closing, the child after.
    assert tasks.closing_check.call() == 0
