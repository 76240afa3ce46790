"""The care station's pages, through Django's test client: the guardian's, the door's (the
roster, check-in with its JSON answer for the retrying script, check-out with photos and the
code), the coordinator's (programmes, duty, places, the Excel export) and the front desk's.
Chinese by default; these tests read the pages in English."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from care import audit
from care.models import OutboundSms
from care.roles import Role
from childcare import services
from childcare.models import Attendance, AttendanceState, Child, Duty, EnrolmentState, PickupRefusal, Programme
from tests.childcare.helpers import TODAY, care_staff, child, code_of, enrolled, freeze, on_duty, programme, station
from tests.factories import WorkerFactory, staff

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND"
       b"\xaeB`\x82")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    return freeze(monkeypatch)


def browser(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    user.language = "en"
    user.save(update_fields=["language"])
    client.force_login(user)
    return client


@pytest.fixture
def door():
    return care_staff(mobile="+8613700001111")


@pytest.fixture
def place(door):
    return station(members=[door])


# --- the guardian ------------------------------------------------------------------------------


def test_a_guardian_registers_a_child_enrols_and_authorises_a_grandmother_with_a_photo(place):
    prog = programme(place)
    guardian = WorkerFactory()
    client = browser(guardian.user)
    bad = client.post("/childcare/children/new/", {"name": "小雨", "date_of_birth": "2018-05-01",
                                                   "allergies": "花生", "contact_name": "王奶奶",
                                                   "contact_relation": "祖母", "contact_mobile": "12345"})
    assert bad.status_code == 200 and b"valid mainland China mobile" in bad.content
    assert "花生".encode() in bad.content  # what was typed stays
    assert not Child.objects.exists()
    response = client.post("/childcare/children/new/", {"name": "小雨", "date_of_birth": "2018-05-01",
                                                        "allergies": "花生", "contact_name": "王奶奶",
                                                        "contact_relation": "祖母", "contact_mobile": "13900000002"})
    kid = Child.objects.get()
    assert response.status_code == 302 and response.url == f"/childcare/children/{kid.pk}/"
    response = client.post(f"/childcare/children/{kid.pk}/enrol/", {"programme": prog.pk}, follow=True)
    assert b"has a place in" in response.content
    response = client.post(f"/childcare/children/{kid.pk}/pickup/", {
        "name": "王奶奶", "relation": "祖母", "mobile": "13900000002", "id_number": "11010519491231002X",
        "photo": SimpleUploadedFile("grandma.png", PNG, content_type="image/png")}, follow=True)
    assert b"may now collect" in response.content
    grandma = kid.pickup_persons.get(is_guardian=False)
    photo = client.get(f"/childcare/pickup/{grandma.pk}/photo/")
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png" and photo.content == PNG
    page = client.get(f"/childcare/children/{kid.pk}/")
    assert b"11010519491231002X" not in page.content and b"110" in page.content  # masked
    mine = client.get("/childcare/")
    assert "小雨".encode() in mine.content and prog.name.encode() in mine.content


def test_another_worker_gets_404_for_my_child_and_its_photo(place):
    kid = child()
    other = browser(WorkerFactory().user)
    assert other.get(f"/childcare/children/{kid.pk}/").status_code == 404
    me = kid.pickup_persons.get(is_guardian=True)
    assert other.get(f"/childcare/pickup/{me.pk}/photo/").status_code == 404
    assert other.post(f"/childcare/pickup/{me.pk}/remove/").status_code == 404


def test_an_age_refusal_is_shown_and_nothing_is_enrolled(place):
    prog = programme(place, min_age=10, max_age=12)
    kid = child(age=7)
    response = browser(kid.guardian.user).post(f"/childcare/children/{kid.pk}/enrol/", {"programme": prog.pk},
                                               follow=True)
    assert b"takes children aged 10 to 12" in response.content and not prog.enrolments.exists()


# --- the door --------------------------------------------------------------------------------------


def test_the_roster_highlights_medical_notes_only_for_the_staff_on_duty(place, door):
    prog = programme(place)
    enrolled(prog, name="小明", allergies="花生过敏")
    colleague = care_staff(mobile="+8613700004444")
    place.staff.add(colleague)
    on_duty(prog, door)
    on = browser(door).get("/childcare/roster/")
    off = browser(colleague).get("/childcare/roster/")
    assert "小明".encode() in on.content and "花生过敏".encode() in on.content
    assert "小明".encode() in off.content and "花生过敏".encode() not in off.content
    assert any(e.event_type == "childcare.roster_viewed" for e in audit.events_for(place))


def test_check_in_answers_json_to_the_script_and_is_idempotent(place, door):
    prog = programme(place)
    enrolment = enrolled(prog)
    on_duty(prog, door)
    client = browser(door)
    first = client.post(f"/childcare/roster/{enrolment.pk}/check-in/", {"brought_by": "妈妈"},
                        HTTP_ACCEPT="application/json")
    again = client.post(f"/childcare/roster/{enrolment.pk}/check-in/", {"brought_by": "妈妈"},
                        HTTP_ACCEPT="application/json")
    assert first.status_code == again.status_code == 200
    assert first.json()["attendance"] == again.json()["attendance"]
    assert Attendance.objects.count() == 1 and OutboundSms.objects.filter(template="care_checked_in").count() == 1


def test_check_in_refused_by_the_ratio_answers_409_with_the_message(place, door):
    prog = programme(place)
    enrolment = enrolled(prog)  # nobody on duty
    response = browser(door).post(f"/childcare/roster/{enrolment.pk}/check-in/", {"brought_by": "妈妈"},
                                  HTTP_ACCEPT="application/json")
    assert response.status_code == 409 and response.json()["detail"] == {"ratio": "full"}
    assert "The coordinator has been told" in response.json()["message"]


def test_check_out_page_refuses_someone_else_and_keeps_what_was_typed(place, door):
    prog = programme(place)
    enrolment = enrolled(prog)
    on_duty(prog, door)
    attendance = services.check_in(actor=door, enrolment=enrolment, brought_by="妈妈")
    client = browser(door)
    page = client.get(f"/childcare/attendance/{attendance.pk}/check-out/")
    assert enrolment.child.guardian.name.encode() in page.content
    refused = client.post(f"/childcare/attendance/{attendance.pk}/check-out/",
                          {"collector": "", "presented_name": "陌生人", "code": code_of(enrolment)})
    assert refused.status_code == 200 and b"is not authorised" in refused.content
    assert "陌生人".encode() in refused.content and PickupRefusal.objects.count() == 1
    me = enrolment.child.pickup_persons.get(is_guardian=True)
    done = client.post(f"/childcare/attendance/{attendance.pk}/check-out/",
                       {"collector": me.pk, "code": code_of(enrolment)})
    assert done.status_code == 302
    assert Attendance.objects.get(pk=attendance.pk).state == AttendanceState.CHECKED_OUT


def test_staff_of_another_station_get_404_at_this_door(place, door):
    prog = programme(place)
    enrolment = enrolled(prog)
    on_duty(prog, door)
    attendance = services.check_in(actor=door, enrolment=enrolment, brought_by="妈妈")
    stranger = care_staff(mobile="+8613700005555")
    station(members=[stranger], name="别的驿站")
    client = browser(stranger)
    assert client.post(f"/childcare/roster/{enrolment.pk}/check-in/", {"brought_by": "x"}).status_code == 404
    assert client.get(f"/childcare/attendance/{attendance.pk}/check-out/").status_code == 404
    assert client.get(f"/childcare/enrolments/{enrolment.pk}/incident/").status_code == 404
    assert enrolment.child.name.encode() not in client.get("/childcare/roster/").content


def test_an_incident_through_the_page(place, door, clock):
    prog = programme(place)
    enrolment = enrolled(prog)
    client = browser(door)
    response = client.post(f"/childcare/enrolments/{enrolment.pk}/incident/", {
        "occurred_at": "2026-07-06T07:30", "kind": "illness", "description": "发烧 38.5", "action_taken": "通知家长"})
    assert response.status_code == 302
    listing = client.get("/childcare/incidents/")
    assert "发烧 38.5".encode() in listing.content


@pytest.mark.parametrize("role", [Role.MATCHMAKER, Role.COUNSELOR, Role.CENTER_MANAGER, Role.ADMINISTRATOR])
def test_other_roles_reach_no_child(place, door, role):
    prog = programme(place)
    enrolment = enrolled(prog, allergies="花生过敏")
    client = browser(staff(role, {"matchmaker": "matchmaking", "counselor": "counseling"}.get(role, "")))
    for url in ("/childcare/roster/", "/childcare/incidents/", f"/childcare/programmes/{prog.pk}/",
                f"/childcare/children/{enrolment.child_id}/"):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert enrolment.child.name.encode() not in response.content


# --- the coordinator ---------------------------------------------------------------------------


def test_the_coordinator_opens_a_programme_sets_the_duty_and_exports_the_attendance(place, door):
    client = browser(place.coordinator)
    bad = client.post("/childcare/programmes/", {
        "name": "寒假托管", "kind": "holiday", "starts_on": "2026-07-06", "ends_on": "2026-07-01",
        "weekdays": ["1", "2"], "opens_at": "08:00", "closes_at": "17:00", "min_age": 6, "max_age": 12,
        "capacity": 10, "ratio": 8})
    assert b"must not come before the first day" in bad.content and not Programme.objects.exists()
    response = client.post("/childcare/programmes/", {
        "name": "暑期班", "kind": "holiday", "starts_on": "2026-07-06", "ends_on": "2026-08-28",
        "weekdays": ["1", "2", "3", "4", "5"], "opens_at": "08:00", "closes_at": "17:00", "min_age": 6,
        "max_age": 12, "capacity": 10, "ratio": 8})
    prog = Programme.objects.get()
    assert response.status_code == 302 and prog.weekdays == "12345"
    client.post(f"/childcare/programmes/{prog.pk}/", {"day": TODAY.isoformat(), "staff": [door.pk]})
    assert list(Duty.objects.values_list("staff_id", flat=True)) == [door.pk]
    enrolment = enrolled(prog, name="小红")
    services.check_in(actor=door, enrolment=enrolment, brought_by="爸爸")
    export = client.get(f"/childcare/programmes/{prog.pk}/attendance.xlsx",
                        {"since": TODAY.isoformat(), "until": TODAY.isoformat()})
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert rows[0][1:4] == ["小红", "08:00", "爸爸"]
    # the door's staff (not the coordinator) may not export or set the duty
    staff_client = browser(door)
    assert staff_client.get(f"/childcare/programmes/{prog.pk}/attendance.xlsx",
                            {"since": TODAY.isoformat(), "until": TODAY.isoformat()}).status_code == 403
    assert staff_client.post(f"/childcare/programmes/{prog.pk}/", {"day": TODAY.isoformat(),
                                                                   "staff": []}).status_code == 403
    assert Duty.objects.count() == 1


def test_a_withdrawal_by_the_coordinator_promotes_the_waitlist(place):
    prog = programme(place, capacity=1)
    first, second = enrolled(prog), enrolled(prog)
    response = browser(place.coordinator).post(f"/childcare/enrolments/{first.pk}/withdraw/")
    assert response.status_code == 302
    assert type(second).objects.get(pk=second.pk).state == EnrolmentState.ENROLLED


# --- the front desk ----------------------------------------------------------------------------


def test_the_front_desk_registers_and_enrols_a_walk_in_s_child(place):
    prog = programme(place)
    worker = WorkerFactory()
    client = browser(staff(Role.FRONT_DESK))
    client.post(f"/childcare/for/{worker.pk}/", {"name": "小刚", "date_of_birth": "2017-03-03",
                                                 "contact_name": "张三", "contact_relation": "父亲",
                                                 "contact_mobile": "13900000003"})
    kid = Child.objects.get(guardian=worker)
    response = client.post(f"/childcare/for/{worker.pk}/enrol/", {"child": kid.pk, "programme": prog.pk},
                           follow=True)
    assert b"Enrolled in" in response.content
    assert kid.enrolments.get().case.channel == "front_desk"


def test_a_second_check_out_of_a_child_already_collected_says_who_collected_them(place, door):
    prog = programme(place)
    enrolment = enrolled(prog)
    on_duty(prog, door)
    attendance = services.check_in(actor=door, enrolment=enrolment, brought_by="妈妈")
    me = enrolment.child.pickup_persons.get(is_guardian=True)
    services.check_out(actor=door, attendance=attendance, collector=me, code=code_of(enrolment))
    # a second tablet still showing the form sends "someone else": nothing changes, no alarm
    response = browser(door).post(f"/childcare/attendance/{attendance.pk}/check-out/",
                                  {"collector": "", "presented_name": "陌生人", "code": ""}, follow=True)
    assert response.status_code == 200 and me.name.encode() in response.content
    assert not PickupRefusal.objects.exists() and not OutboundSms.objects.filter(template="care_pickup_refused")
